// Triangle meshes imported through Assimp (OBJ, STL ascii/binary, DAE, glTF/GLB, PLY)
// into plain arrays, ready for the renderer and for collision preparation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pf/assets/asset_roots.h"
#include "pf/core/math.h"
#include "pf/core/result.h"

namespace pf::assets {

struct MeshMaterial {
  std::string name;
  core::Vec4f base_colour = core::Vec4f(0.8f, 0.8f, 0.8f, 1.0f);  // linear RGBA
  float specular = 0.2f;           // strength of the simple specular term
  fs::path texture;                // resolved diffuse texture; empty = none
};

// One draw range of the index buffer with one material.
struct Submesh {
  std::uint32_t first_index = 0;   // into MeshData::indices
  std::uint32_t index_count = 0;   // multiple of 3
  std::int32_t material = -1;      // into MeshData::materials, -1 = default
  std::uint32_t part = 0;          // object (OBJ `o`/`g`, scene node) it belongs to
};

struct MeshData {
  fs::path source;                     // file it was loaded from ("" for generated meshes)
  std::vector<float> positions;        // [num_vertices × 3] metres, mesh frame
  std::vector<float> normals;          // [num_vertices × 3] unit length
  std::vector<float> uvs;              // [num_vertices × 2] (0, 0) when the file has none
  std::vector<std::uint32_t> indices;  // [num_triangles × 3] counter-clockwise = front
  std::vector<Submesh> submeshes;      // [num_submeshes]
  std::vector<MeshMaterial> materials; // [num_materials]
  std::uint32_t num_parts = 1;         // separate objects in the file (V-HACD hulls, ...)
  bool has_uvs = false;

  std::size_t num_vertices() const { return positions.size() / 3; }
  std::size_t num_triangles() const { return indices.size() / 3; }
  core::Vec3f Vertex(std::size_t i) const {
    return {positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]};
  }
};

struct MeshLoadConfig {
  // Files larger than this are refused before parsing.
  std::uint64_t max_file_bytes = 512ull << 20;
  // Weld vertices with identical attributes (smaller buffers, shared normals).
  bool join_identical_vertices = true;
};

// A warning about an input that still loads (missing .mtl or texture, ...).
using Warnings = std::vector<core::Error>;

// How many leading bytes of a file CheckMeshHead looks at.
inline constexpr std::size_t kMeshHeadBytes = 64 * 1024;

// The format check LoadMesh makes first: the extension of `path` names a supported format.
core::Status CheckMeshFormat(const fs::path& path);

// The checks LoadMesh makes on a file's bytes before Assimp sees them: a supported format
// (CheckMeshFormat), a size in [1, config.max_file_bytes]; for STL either a binary STL
// whose triangle count matches the size or text starting with "solid" (after white space);
// for PLY a well-formed header (ply, format, element, property, comment, end_header lines,
// ending within kMeshHeadBytes) whose element counts fit the file's size.
// `head` holds the file's first min(size, kMeshHeadBytes) bytes; `path` names the file in
// errors and gives its format.
core::Status CheckMeshHead(const fs::path& path, std::string_view head, std::uint64_t size,
                           const MeshLoadConfig& config = {});

// Loads a mesh file. `resolver` confines the material library and texture references
// found inside it; `warnings` receives missing .mtl / texture notes (also logged).
core::Result<MeshData> LoadMesh(const fs::path& path, const AssetResolver& resolver,
                                Warnings* warnings = nullptr, const MeshLoadConfig& config = {});

// Loads each file once; safe to use from several threads.
class MeshCache {
 public:
  explicit MeshCache(AssetResolver resolver, MeshLoadConfig config = {})
      : resolver_(std::move(resolver)), config_(config) {}

  core::Result<std::shared_ptr<const MeshData>> Get(const fs::path& path, Warnings* warnings = nullptr);
  std::size_t size() const;
  const AssetResolver& resolver() const { return resolver_; }

 private:
  AssetResolver resolver_;
  MeshLoadConfig config_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const MeshData>> meshes_;
};

}  // namespace pf::assets
