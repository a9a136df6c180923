#include "pf/assets/collision.h"

#include "pf/core/log.h"
#include "pf/core/str.h"

namespace pf::assets {

std::size_t CollisionMesh::num_triangles() const {
  if (kind == CollisionMeshKind::kTriangleMesh) return indices.size() / 3;
  std::size_t n = 0;
  for (const auto& h : hulls) n += h.indices.size() / 3;
  return n;
}

core::Result<CollisionMesh> PrepareCollisionMesh(const MeshData& mesh, const core::Vec3& scale,
                                                 bool is_static, Warnings* warnings,
                                                 const CollisionConfig& config) {
  const core::Location where{mesh.source.string(), 0, 0, "collision"};
  CollisionMesh out;
  out.scale = scale;
  const core::Vec3f s = scale.cast<float>();
  if (is_static) {
    out.kind = CollisionMeshKind::kTriangleMesh;
    out.positions.resize(mesh.positions.size());
    for (std::size_t i = 0; i < mesh.positions.size(); ++i) out.positions[i] = mesh.positions[i] * s[static_cast<int>(i % 3)];
    out.indices = mesh.indices;
    return out;
  }
  out.kind = CollisionMeshKind::kConvexHulls;
  // Gather the vertices each part's triangles use.
  std::vector<std::vector<Eigen::Vector3f>> parts(mesh.num_parts);
  std::vector<std::uint32_t> seen(mesh.num_vertices(), ~0u);
  for (const Submesh& sub : mesh.submeshes) {
    auto& points = parts[sub.part];
    for (std::uint32_t i = sub.first_index; i < sub.first_index + sub.index_count; ++i) {
      const std::uint32_t v = mesh.indices[i];
      if (seen[v] == sub.part) continue;
      seen[v] = sub.part;
      points.push_back(mesh.Vertex(v).cwiseProduct(s));
    }
  }
  ConvexHullConfig hull_config;
  hull_config.max_vertices = config.max_hull_vertices;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    if (parts[p].empty()) continue;
    ConvexHull hull = ComputeConvexHull(parts[p], hull_config);
    if (hull.vertices.empty()) {
      core::Error w{core::StrCat("part ", p, " of the mesh is flat or degenerate (", parts[p].size(),
                                 " points); it is left out of the collision shape"),
                    where};
      core::LogWarning(w.ToString());
      if (warnings != nullptr) warnings->push_back(std::move(w));
      continue;
    }
    out.hulls.push_back(std::move(hull));
  }
  if (out.hulls.empty())
    return core::Fail("no convex hull can be built from this mesh (it is flat or degenerate); "
                      "a dynamic body needs a solid collision shape, or make the body static",
                      where);
  return out;
}

}  // namespace pf::assets
