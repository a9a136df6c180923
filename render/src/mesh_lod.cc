#include "mesh_lod.h"

#include <meshoptimizer.h>

#include <algorithm>
#include <cmath>

namespace pf::render {
namespace {

// A level must drop at least this fraction of the triangles of the level before it.
constexpr double kMinShrink = 0.1;

// The triangles of `mesh` without those of (near) zero area, which cover no pixel but still
// cost vertex and setup work (a UV sphere has a fan of them at each pole).
std::vector<std::uint32_t> WithoutDegenerateTriangles(const assets::MeshData& mesh) {
  core::Vec3f lo = core::Vec3f::Constant(3e38f), hi = core::Vec3f::Constant(-3e38f);
  for (std::size_t v = 0; v < mesh.num_vertices(); ++v) {
    lo = lo.cwiseMin(mesh.Vertex(v));
    hi = hi.cwiseMax(mesh.Vertex(v));
  }
  const double extent = mesh.num_vertices() > 0 ? (hi - lo).cast<double>().norm() : 0.0;
  const double min_double_area = 1e-12 * extent * extent;
  std::vector<std::uint32_t> out;
  out.reserve(mesh.indices.size());
  for (std::size_t t = 0; t + 2 < mesh.indices.size(); t += 3) {
    const core::Vec3 a = mesh.Vertex(mesh.indices[t]).cast<double>();
    const core::Vec3 b = mesh.Vertex(mesh.indices[t + 1]).cast<double>();
    const core::Vec3 c = mesh.Vertex(mesh.indices[t + 2]).cast<double>();
    if ((b - a).cross(c - a).norm() <= min_double_area) continue;
    out.insert(out.end(), {mesh.indices[t], mesh.indices[t + 1], mesh.indices[t + 2]});
  }
  return out;
}

std::vector<std::uint32_t> CacheOrdered(std::vector<std::uint32_t> indices, std::size_t num_vertices) {
  if (!indices.empty())
    meshopt_optimizeVertexCache(indices.data(), indices.data(), indices.size(), num_vertices);
  return indices;
}

}  // namespace

MeshLods BuildMeshLods(const assets::MeshData& mesh, const LodConfig& config) {
  MeshLods out;
  const std::size_t num_vertices = mesh.num_vertices();
  const float* positions = mesh.positions.data();
  constexpr std::size_t kStride = 3 * sizeof(float);

  const std::vector<std::uint32_t> indices = WithoutDegenerateTriangles(mesh);
  out.levels.push_back({CacheOrdered(indices, num_vertices), 0.0});
  const std::size_t full = indices.size();
  if (full >= 3 * static_cast<std::size_t>(config.min_triangles) && num_vertices > 0) {
    const double scale = meshopt_simplifyScale(positions, num_vertices, kStride);
    std::vector<std::uint32_t> scratch(full);
    std::size_t previous = full;
    while (out.levels.size() < std::max<std::uint32_t>(config.max_levels, 1)) {
      const std::size_t target = static_cast<std::size_t>(static_cast<double>(previous / 3) * config.reduction) * 3;
      if (target < 3 * static_cast<std::size_t>(config.min_triangles)) break;
      // Each level simplifies the full mesh, so errors are measured against it directly.
      float error = 0.0f;
      std::size_t count = meshopt_simplify(scratch.data(), indices.data(), full, positions,
                                           num_vertices, kStride, target, 1.0f, 0, &error);
      if (static_cast<double>(count) > (1.0 - kMinShrink) * static_cast<double>(previous)) {
        count = meshopt_simplifySloppy(scratch.data(), indices.data(), full, positions,
                                       num_vertices, kStride, target, 1.0f, &error);
      }
      if (count < 3 * static_cast<std::size_t>(config.min_triangles) ||
          static_cast<double>(count) > (1.0 - kMinShrink) * static_cast<double>(previous))
        break;
      MeshLevel level;
      level.indices = CacheOrdered(std::vector<std::uint32_t>(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(count)),
                                   num_vertices);
      level.error = std::max(static_cast<double>(error) * scale, out.levels.back().error);
      out.levels.push_back(std::move(level));
      previous = count;
    }
  }

  // Vertices in the order level 0 first uses them; the coarser levels use a subset.
  std::vector<std::uint32_t> remap(num_vertices);
  const std::size_t kept = out.levels[0].indices.empty()
                               ? 0
                               : meshopt_optimizeVertexFetchRemap(remap.data(), out.levels[0].indices.data(),
                                                                  out.levels[0].indices.size(), num_vertices);
  out.positions.assign(kept * 3, 0.0f);
  out.normals.assign(kept * 3, 0.0f);
  out.uvs.assign(kept * 2, 0.0f);
  const bool has_uvs = mesh.uvs.size() == 2 * num_vertices;
  for (std::size_t v = 0; v < num_vertices; ++v) {
    if (remap[v] == ~0u) continue;
    for (int i = 0; i < 3; ++i) {
      out.positions[3 * remap[v] + i] = mesh.positions[3 * v + i];
      out.normals[3 * remap[v] + i] = mesh.normals[3 * v + i];
    }
    if (has_uvs)
      for (int i = 0; i < 2; ++i) out.uvs[2 * remap[v] + i] = mesh.uvs[2 * v + i];
  }
  for (MeshLevel& level : out.levels)
    for (std::uint32_t& i : level.indices) i = remap[i];

  // Bounding sphere: centre of the box around the vertices, radius to the farthest one.
  if (kept > 0) {
    core::Vec3 lo = core::Vec3::Constant(1e300), hi = core::Vec3::Constant(-1e300);
    for (std::size_t v = 0; v < kept; ++v) {
      const core::Vec3 p(out.positions[3 * v], out.positions[3 * v + 1], out.positions[3 * v + 2]);
      lo = lo.cwiseMin(p);
      hi = hi.cwiseMax(p);
    }
    out.centre = 0.5 * (lo + hi);
    for (std::size_t v = 0; v < kept; ++v) {
      const core::Vec3 p(out.positions[3 * v], out.positions[3 * v + 1], out.positions[3 * v + 2]);
      out.radius = std::max(out.radius, (p - out.centre).norm());
    }
  }
  return out;
}

}  // namespace pf::render
