// Internal to render/: the levels of detail of one mesh, built with meshoptimizer when the
// BatchRenderer uploads its meshes (assets::MeshData itself stays plain).
#pragma once

#include <cstdint>
#include <vector>

#include "pf/assets/mesh.h"
#include "pf/core/math.h"
#include "pf/render/vulkan_context.h"

namespace pf::render {

struct MeshLevel {
  std::vector<std::uint32_t> indices;  // [num_triangles × 3] into MeshLods' vertices
  // Largest distance of this level's surface from the full mesh, mesh units (meshoptimizer's
  // estimate); 0 for level 0. Never smaller than the level before.
  double error = 0.0;
};

struct MeshLods {
  std::vector<float> positions;   // [num_vertices × 3] mesh frame, in vertex-fetch order
  std::vector<float> normals;     // [num_vertices × 3] unit length
  std::vector<float> uvs;         // [num_vertices × 2] (0, 0) where the mesh has none
  std::vector<MeshLevel> levels;  // [num_levels] finest first; levels[0] is the full mesh
  core::Vec3 centre = core::Vec3::Zero();  // bounding sphere of the vertices, mesh frame
  double radius = 0.0;
};

// Level 0 is the whole mesh but for triangles of zero area (its triangles reordered for the
// post-transform vertex cache, its vertices for fetch locality; vertices no triangle uses
// are dropped). Up to
// `config.max_levels - 1` coarser levels follow (whatever `config.enabled` says), each aiming for
// `config.reduction` of the triangles of the one before: meshopt_simplify (keeps topology),
// or meshopt_simplifySloppy where that stalls on seams or borders. Levels stop when a level
// would have fewer than `config.min_triangles` triangles or barely shrinks. Expects valid
// input (indices in range, normals per vertex): BatchRenderer checks it first.
MeshLods BuildMeshLods(const assets::MeshData& mesh, const LodConfig& config);

}  // namespace pf::render
