// Collision preparation for meshes: what the simulator turns into Bullet shapes.
//
//   dynamic bodies: one convex hull per part of the mesh (an OBJ of several `o` objects,
//                   such as a V-HACD decomposition, becomes a compound of hulls);
//   static bodies:  the triangle mesh itself (exact, concave allowed).
//
// The mesh scale is applied before hulling, so non-uniform scales are exact.
#pragma once

#include <cstdint>
#include <vector>

#include "pf/assets/convex_hull.h"
#include "pf/assets/mesh.h"
#include "pf/core/math.h"
#include "pf/core/result.h"

namespace pf::assets {

enum class CollisionMeshKind { kConvexHulls, kTriangleMesh };

struct CollisionMesh {
  CollisionMeshKind kind = CollisionMeshKind::kConvexHulls;
  std::vector<ConvexHull> hulls;          // kConvexHulls: [num_parts], a compound when > 1
  std::vector<float> positions;           // kTriangleMesh: [num_vertices × 3], scaled
  std::vector<std::uint32_t> indices;     // kTriangleMesh: [num_triangles × 3]
  core::Vec3 scale = core::Vec3::Ones();  // the scale already applied

  std::size_t num_triangles() const;      // hull faces or mesh triangles
};

struct CollisionConfig {
  // Vertex budget per hull (0 = unlimited). Bullet's cost grows with hull vertices.
  std::uint32_t max_hull_vertices = 256;
};

core::Result<CollisionMesh> PrepareCollisionMesh(const MeshData& mesh, const core::Vec3& scale,
                                                 bool is_static, Warnings* warnings = nullptr,
                                                 const CollisionConfig& config = {});

}  // namespace pf::assets
