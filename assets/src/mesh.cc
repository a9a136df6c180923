#include "pf/assets/mesh.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>

#include <assimp/DefaultIOSystem.h>
#include <assimp/Importer.hpp>
#include <assimp/config.h>
#include <assimp/material.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>

#include "pf/core/log.h"
#include "pf/core/str.h"

namespace pf::assets {
namespace {

constexpr std::array<std::string_view, 6> kMeshExtensions = {".obj", ".stl", ".dae",
                                                             ".gltf", ".glb", ".ply"};

std::string LowerExtension(const fs::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

void Warn(Warnings* warnings, core::Error warning) {
  core::LogWarning(warning.ToString());
  if (warnings != nullptr) warnings->push_back(std::move(warning));
}

// Assimp file access confined to the asset roots: the mesh file itself and files beside
// it or under a root may be opened; anything else looks absent to the importer. (Missing
// or refused OBJ material libraries are reported by CheckObjMaterialLibraries; a glTF or
// DAE whose buffers can not be opened fails to load.)
class ConfinedIoSystem : public Assimp::DefaultIOSystem {
 public:
  ConfinedIoSystem(const AssetResolver& resolver, fs::path mesh_path)
      : resolver_(resolver), mesh_path_(std::move(mesh_path)) {}

  bool Exists(const char* file) const override { return Allowed(file) && DefaultIOSystem::Exists(file); }

  Assimp::IOStream* Open(const char* file, const char* mode) override {
    if (std::strchr(mode, 'w') != nullptr || std::strchr(mode, 'a') != nullptr) return nullptr;
    if (!Allowed(file)) return nullptr;
    return DefaultIOSystem::Open(file, mode);
  }

 private:
  bool Allowed(const char* file) const {
    const fs::path path = fs::absolute(fs::path(file)).lexically_normal();
    return path == mesh_path_ || resolver_.IsAllowed(path, mesh_path_.parent_path());
  }

  const AssetResolver& resolver_;
  fs::path mesh_path_;
};

// Checks done before any parser sees the bytes: size, extension, STL framing.
core::Status FrontCheck(const fs::path& path, const MeshLoadConfig& config) {
  const core::Location where{path.string(), 0, 0, ""};
  const std::string ext = LowerExtension(path);
  if (std::find(kMeshExtensions.begin(), kMeshExtensions.end(), ext) == kMeshExtensions.end())
    return core::Fail(core::StrCat("unsupported mesh format '", ext,
                                   "' (supported: .obj .stl .dae .gltf .glb .ply)"),
                      where);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return core::Fail("mesh file not found", where);
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) return core::Fail(core::StrCat("cannot read mesh file size: ", ec.message()), where);
  if (size == 0) return core::Fail("mesh file is empty", where);
  if (size > config.max_file_bytes)
    return core::Fail(core::StrCat("mesh file is ", size, " bytes, over the limit of ",
                                   config.max_file_bytes),
                      where);
  if (ext == ".stl") {
    std::ifstream in(path, std::ios::binary);
    std::array<char, 84> header{};
    in.read(header.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(size, 84)));
    std::uint32_t count = 0;
    if (size >= 84) std::memcpy(&count, header.data() + 80, 4);
    const bool binary_ok = size >= 84 && 84ull + 50ull * count == size;
    std::size_t i = 0;
    while (i < header.size() && std::isspace(static_cast<unsigned char>(header[i]))) ++i;
    const bool ascii = size >= i + 5 && std::string_view(header.data() + i, 5) == "solid";
    if (!binary_ok && !ascii)
      return core::Fail(core::StrCat("not an STL file: a binary STL of ", count,
                                     " triangles must be ", 84ull + 50ull * count,
                                     " bytes but the file has ", size,
                                     ", and it does not start with 'solid' (ASCII STL)"),
                        where);
  }
  return core::Ok();
}

// OBJ material libraries: a missing or refused `mtllib` is a warning naming its line;
// the geometry still loads with default materials.
void CheckObjMaterialLibraries(const fs::path& path, const AssetResolver& resolver,
                               Warnings* warnings) {
  std::ifstream in(path);
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::size_t i = 0;
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (line.compare(i, 6, "mtllib") != 0 || i + 6 >= line.size() ||
        !std::isspace(static_cast<unsigned char>(line[i + 6])))
      continue;
    const std::string name = line.substr(i + 7);
    auto resolved = resolver.Resolve(name, path, {path.string(), line_number, static_cast<int>(i) + 1, "mtllib"});
    if (!resolved) {
      core::Error w = resolved.error();
      w.message += "; the mesh loads with default materials";
      Warn(warnings, std::move(w));
    }
  }
}

bool Finite3(const aiVector3D& v) {
  return std::isfinite(v.x) && std::isfinite(v.y) && std::isfinite(v.z);
}

}  // namespace

core::Result<MeshData> LoadMesh(const fs::path& path_in, const AssetResolver& resolver,
                                Warnings* warnings, const MeshLoadConfig& config) {
  const fs::path path = fs::absolute(path_in).lexically_normal();
  const core::Location where{path.string(), 0, 0, ""};
  PF_TRY(FrontCheck(path, config));
  if (LowerExtension(path) == ".obj") CheckObjMaterialLibraries(path, resolver, warnings);

  Assimp::Importer importer;
  importer.SetIOHandler(new ConfinedIoSystem(resolver, path));  // importer owns it
  importer.SetPropertyBool(AI_CONFIG_IMPORT_COLLADA_IGNORE_UP_DIRECTION, true);
  importer.SetPropertyInteger(AI_CONFIG_PP_SBP_REMOVE, aiPrimitiveType_POINT | aiPrimitiveType_LINE);
  unsigned flags = aiProcess_Triangulate | aiProcess_GenSmoothNormals | aiProcess_SortByPType |
                   aiProcess_ValidateDataStructure;
  if (config.join_identical_vertices) flags |= aiProcess_JoinIdenticalVertices;
  const aiScene* scene = nullptr;
  try {
    scene = importer.ReadFile(path.string(), flags);
  } catch (const std::exception& e) {
    return core::Fail(core::StrCat("mesh importer failed: ", e.what()), where);
  }
  if (scene == nullptr)
    return core::Fail(core::StrCat("cannot parse mesh: ", importer.GetErrorString()), where);
  if ((scene->mFlags & AI_SCENE_FLAGS_INCOMPLETE) != 0 || scene->mRootNode == nullptr)
    return core::Fail("mesh file is incomplete (truncated or corrupt)", where);

  MeshData mesh;
  mesh.source = path;

  // Materials: base colour, specular strength and the diffuse texture, resolved in the roots.
  for (unsigned m = 0; m < scene->mNumMaterials; ++m) {
    const aiMaterial* mat = scene->mMaterials[m];
    MeshMaterial out;
    aiString name;
    if (mat->Get(AI_MATKEY_NAME, name) == AI_SUCCESS) out.name = name.C_Str();
    aiColor4D colour;
    if (mat->Get(AI_MATKEY_COLOR_DIFFUSE, colour) == AI_SUCCESS)
      out.base_colour = core::Vec4f(colour.r, colour.g, colour.b, colour.a);
    float opacity = 1.0f;
    if (mat->Get(AI_MATKEY_OPACITY, opacity) == AI_SUCCESS) out.base_colour[3] = opacity;
    aiColor4D specular;
    if (mat->Get(AI_MATKEY_COLOR_SPECULAR, specular) == AI_SUCCESS)
      out.specular = std::clamp((specular.r + specular.g + specular.b) / 3.0f, 0.0f, 1.0f);
    aiString texture;
    if (mat->GetTexture(aiTextureType_DIFFUSE, 0, &texture) == AI_SUCCESS && texture.length > 0) {
      const std::string reference = texture.C_Str();
      if (reference[0] == '*') {
        Warn(warnings, core::Error{core::StrCat("material '", out.name,
                                                "' uses an embedded texture, which is not supported; "
                                                "using its base colour"),
                                   where});
      } else {
        auto resolved = resolver.Resolve(reference, path, {path.string(), 0, 0, "material " + out.name});
        if (resolved) {
          out.texture = *resolved;
        } else {
          core::Error w = resolved.error();
          w.message += "; the material uses its base colour";
          Warn(warnings, std::move(w));
        }
      }
    }
    if (!std::isfinite(out.base_colour.sum())) out.base_colour = core::Vec4f(0.8f, 0.8f, 0.8f, 1.0f);
    mesh.materials.push_back(std::move(out));
  }

  // Walk the node tree: every node that holds meshes is one part (an OBJ object, a hull).
  std::uint32_t part = 0;
  bool bad_values = false;
  std::function<void(const aiNode*, const aiMatrix4x4&)> visit = [&](const aiNode* node,
                                                                     const aiMatrix4x4& parent) {
    const aiMatrix4x4 transform = parent * node->mTransformation;
    aiMatrix3x3 normal_matrix(transform);
    normal_matrix.Inverse().Transpose();
    bool used = false;
    for (unsigned k = 0; k < node->mNumMeshes; ++k) {
      if (node->mMeshes[k] >= scene->mNumMeshes) continue;
      const aiMesh* src = scene->mMeshes[node->mMeshes[k]];
      if ((src->mPrimitiveTypes & aiPrimitiveType_TRIANGLE) == 0 || src->mNumFaces == 0) continue;
      used = true;
      const std::uint32_t base = static_cast<std::uint32_t>(mesh.num_vertices());
      for (unsigned v = 0; v < src->mNumVertices; ++v) {
        const aiVector3D p = transform * src->mVertices[v];
        aiVector3D n = src->HasNormals() ? normal_matrix * src->mNormals[v] : aiVector3D(0, 0, 1);
        if (!Finite3(p)) bad_values = true;
        if (!Finite3(n) || n.SquareLength() < 1e-20f) n = aiVector3D(0, 0, 1);
        n.Normalize();
        mesh.positions.insert(mesh.positions.end(), {p.x, p.y, p.z});
        mesh.normals.insert(mesh.normals.end(), {n.x, n.y, n.z});
        if (src->HasTextureCoords(0)) {
          const aiVector3D& t = src->mTextureCoords[0][v];
          mesh.uvs.insert(mesh.uvs.end(), {std::isfinite(t.x) ? t.x : 0.0f, std::isfinite(t.y) ? t.y : 0.0f});
        } else {
          mesh.uvs.insert(mesh.uvs.end(), {0.0f, 0.0f});
        }
      }
      mesh.has_uvs = mesh.has_uvs || src->HasTextureCoords(0);
      Submesh sub;
      sub.first_index = static_cast<std::uint32_t>(mesh.indices.size());
      sub.material = src->mMaterialIndex < mesh.materials.size()
                         ? static_cast<std::int32_t>(src->mMaterialIndex)
                         : -1;
      sub.part = part;
      for (unsigned f = 0; f < src->mNumFaces; ++f) {
        const aiFace& face = src->mFaces[f];
        if (face.mNumIndices != 3) continue;
        if (face.mIndices[0] >= src->mNumVertices || face.mIndices[1] >= src->mNumVertices ||
            face.mIndices[2] >= src->mNumVertices) {
          bad_values = true;
          continue;
        }
        mesh.indices.insert(mesh.indices.end(),
                            {base + face.mIndices[0], base + face.mIndices[1], base + face.mIndices[2]});
      }
      sub.index_count = static_cast<std::uint32_t>(mesh.indices.size()) - sub.first_index;
      if (sub.index_count > 0) mesh.submeshes.push_back(sub);
    }
    if (used) ++part;
    for (unsigned c = 0; c < node->mNumChildren; ++c) visit(node->mChildren[c], transform);
  };
  visit(scene->mRootNode, aiMatrix4x4());

  if (bad_values) return core::Fail("mesh has non-finite coordinates or out-of-range indices", where);
  if (mesh.indices.empty()) return core::Fail("mesh contains no triangles", where);
  mesh.num_parts = std::max<std::uint32_t>(part, 1);
  return mesh;
}

core::Result<std::shared_ptr<const MeshData>> MeshCache::Get(const fs::path& path, Warnings* warnings) {
  const std::string key = fs::absolute(path).lexically_normal().string();
  {
    std::lock_guard lock(mutex_);
    if (auto it = meshes_.find(key); it != meshes_.end()) return it->second;
  }
  // Loaded outside the lock so different files load in parallel; a rare double load of
  // the same file is harmless (the first one stored wins).
  PF_ASSIGN_OR_RETURN(MeshData mesh, LoadMesh(path, resolver_, warnings, config_));
  auto shared = std::make_shared<const MeshData>(std::move(mesh));
  std::lock_guard lock(mutex_);
  return meshes_.try_emplace(key, std::move(shared)).first->second;
}

std::size_t MeshCache::size() const {
  std::lock_guard lock(mutex_);
  return meshes_.size();
}

}  // namespace pf::assets
