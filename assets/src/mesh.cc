#include "pf/assets/mesh.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <vector>

#include <assimp/BaseImporter.h>
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

// PLY: the header, up to `end_header`, must be well formed and its element counts must fit
// the file. Assimp 5.2's PLY reader loops forever on some malformed headers and allocates
// what the counts say before reading any data, so neither may reach it.
core::Status CheckPlyHeader(std::string_view head, std::uint64_t size, const fs::path& path) {
  const auto fail = [&](int line, std::string message) {
    return core::Fail(core::StrCat("malformed PLY header: ", message), {path.string(), line, 0, ""});
  };
  static const std::map<std::string_view, int> kScalarBytes = {
      {"char", 1}, {"uchar", 1}, {"int8", 1}, {"uint8", 1}, {"short", 2}, {"ushort", 2},
      {"int16", 2}, {"uint16", 2}, {"int", 4}, {"uint", 4}, {"int32", 4}, {"uint32", 4},
      {"float", 4}, {"float32", 4}, {"double", 8}, {"float64", 8}};
  const auto is_integer = [](std::string_view t) { return t != "float" && t != "float32" && t != "double" && t != "float64"; };
  bool ascii = false, have_format = false;
  // Per element: its count and the fewest bytes one instance takes.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> elements;
  std::size_t at = 0;
  for (int line = 1;; ++line) {
    const std::size_t end = head.find('\n', at);
    if (end == std::string_view::npos)
      return fail(line, core::StrCat("no end_header line within the first ", kMeshHeadBytes, " bytes"));
    std::string_view text = head.substr(at, end - at);
    at = end + 1;
    if (text.ends_with('\r')) text.remove_suffix(1);
    std::vector<std::string_view> words;
    for (std::size_t i = 0; i < text.size();) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      std::size_t j = i;
      while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
      if (j > i) words.push_back(text.substr(i, j - i));
      i = j;
    }
    const std::string_view keyword = words.empty() ? std::string_view() : words[0];
    const bool free_text = keyword == "comment" || keyword == "obj_info";
    for (const char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f || (u >= 0x80 && !free_text))
        return fail(line, "contains a control or non-ASCII character");
    }
    if (line == 1) {
      if (text != "ply") return fail(line, "the first line must be 'ply'");
      continue;
    }
    if (free_text) continue;
    if (keyword == "end_header" && words.size() == 1) break;
    if (keyword == "format") {
      if (have_format || !elements.empty() || words.size() != 3 || words[2] != "1.0" ||
          (words[1] != "ascii" && words[1] != "binary_little_endian" && words[1] != "binary_big_endian"))
        return fail(line, "expected one 'format ascii|binary_little_endian|binary_big_endian 1.0' before the elements");
      have_format = true;
      ascii = words[1] == "ascii";
    } else if (keyword == "element") {
      std::uint64_t count = 0;
      const auto [ptr, ec] = words.size() == 3 ? std::from_chars(words[2].data(), words[2].data() + words[2].size(), count)
                                               : std::from_chars_result{nullptr, std::errc::invalid_argument};
      if (ec != std::errc() || ptr != words[2].data() + words[2].size() || count > 0xffffffffull)
        return fail(line, "expected 'element NAME COUNT' with a count below 2^32");
      elements.emplace_back(count, 0);
    } else if (keyword == "property") {
      if (elements.empty()) return fail(line, "a property before any element");
      std::uint64_t bytes = 0;
      if (words.size() == 5 && words[1] == "list") {
        const auto count_type = kScalarBytes.find(words[2]);
        if (count_type == kScalarBytes.end() || !is_integer(words[2]) || !kScalarBytes.contains(words[3]))
          return fail(line, "expected 'property list COUNT_TYPE TYPE NAME' with an integer COUNT_TYPE");
        bytes = static_cast<std::uint64_t>(count_type->second);
      } else if (words.size() == 3 && kScalarBytes.contains(words[1])) {
        bytes = static_cast<std::uint64_t>(kScalarBytes.at(words[1]));
      } else {
        return fail(line, "expected 'property TYPE NAME' or 'property list COUNT_TYPE TYPE NAME'");
      }
      elements.back().second += ascii ? 2 : bytes;  // ASCII: a digit and a separator at least
    } else {
      return fail(line, core::StrCat("unknown keyword '", keyword.substr(0, 32), "'"));
    }
  }
  if (!have_format) return fail(0, "no format line");
  // The data must be large enough for the counts (the products fit: count < 2^32, bytes < 2^20).
  std::uint64_t needed = 0;
  for (const auto& [count, bytes] : elements) needed += count * std::max<std::uint64_t>(bytes, 1);
  if (needed > size - at)
    return core::Fail(core::StrCat("the PLY header announces at least ", needed, " bytes of data but the file has ",
                                   size - at),
                      {path.string(), 0, 0, ""});
  return core::Ok();
}

// The file-system half of the front checks; the bytes go through CheckMeshHead.
core::Status FrontCheck(const fs::path& path, const MeshLoadConfig& config) {
  const core::Location where{path.string(), 0, 0, ""};
  PF_TRY(CheckMeshFormat(path));
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return core::Fail("mesh file not found", where);
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) return core::Fail(core::StrCat("cannot read mesh file size: ", ec.message()), where);
  std::string head(static_cast<std::size_t>(std::min<std::uint64_t>(size, kMeshHeadBytes)), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  if (static_cast<std::size_t>(in.gcount()) != head.size())
    return core::Fail("cannot read the start of the mesh file", where);
  return CheckMeshHead(path, head, size, config);
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

// `n` scaled to unit length, or +Z when it has none (zero, non-finite). In double precision:
// the float square of a large component overflows, and n / inf would be a zero normal.
aiVector3D UnitOrUp(const aiVector3D& n) {
  const double x = n.x, y = n.y, z = n.z;
  const double length = std::sqrt(x * x + y * y + z * z);
  if (!std::isfinite(length) || !(length > 1e-10)) return aiVector3D(0, 0, 1);
  return aiVector3D(static_cast<float>(x / length), static_cast<float>(y / length), static_cast<float>(z / length));
}

}  // namespace

core::Status CheckMeshFormat(const fs::path& path) {
  const std::string ext = LowerExtension(path);
  if (std::find(kMeshExtensions.begin(), kMeshExtensions.end(), ext) == kMeshExtensions.end())
    return core::Fail(core::StrCat("unsupported mesh format '", ext,
                                   "' (supported: .obj .stl .dae .gltf .glb .ply)"),
                      {path.string(), 0, 0, ""});
  return core::Ok();
}

core::Status CheckMeshHead(const fs::path& path, std::string_view head, std::uint64_t size,
                           const MeshLoadConfig& config) {
  const core::Location where{path.string(), 0, 0, ""};
  PF_TRY(CheckMeshFormat(path));
  if (head.size() != std::min<std::uint64_t>(size, kMeshHeadBytes))
    return core::Fail(core::StrCat("internal: ", head.size(), " head bytes given for a file of ", size, " bytes"),
                      where);
  if (size == 0) return core::Fail("mesh file is empty", where);
  if (size > config.max_file_bytes)
    return core::Fail(core::StrCat("mesh file is ", size, " bytes, over the limit of ",
                                   config.max_file_bytes),
                      where);
  if (LowerExtension(path) == ".ply") PF_TRY(CheckPlyHeader(head, size, path));
  if (LowerExtension(path) == ".stl") {
    // Binary: an 80-byte header, a little-endian triangle count, 50 bytes per triangle.
    std::uint32_t count = 0;
    if (head.size() >= 84) {
      const auto* b = reinterpret_cast<const unsigned char*>(head.data() + 80);
      count = static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
              static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
    }
    const bool binary_ok = size >= 84 && 84ull + 50ull * count == size;
    // ASCII: "solid" after optional white space, within the head.
    std::size_t i = 0;
    while (i < head.size() && std::isspace(static_cast<unsigned char>(head[i]))) ++i;
    const bool ascii = head.substr(i).starts_with("solid");
    if (!binary_ok && !ascii)
      return core::Fail(core::StrCat("not an STL file: a binary STL of ", count,
                                     " triangles must be ", 84ull + 50ull * count,
                                     " bytes but the file has ", size,
                                     ", and it does not start with 'solid' (ASCII STL)"),
                        where);
  }
  return core::Ok();
}

core::Result<MeshData> LoadMesh(const fs::path& path_in, const AssetResolver& resolver,
                                Warnings* warnings, const MeshLoadConfig& config) {
  const fs::path path = fs::absolute(path_in).lexically_normal();
  const core::Location where{path.string(), 0, 0, ""};
  PF_TRY(FrontCheck(path, config));
  if (LowerExtension(path) == ".obj") CheckObjMaterialLibraries(path, resolver, warnings);

  Assimp::Importer importer;
  importer.SetIOHandler(new ConfinedIoSystem(resolver, path));  // importer owns it
  // Only the readers of the file's format may parse it: when they refuse the content,
  // Assimp would otherwise try every other reader whose signature search matches (its PLY
  // reader, for one, takes any file with "ply" in its first 200 bytes).
  {
    const std::string ext = LowerExtension(path).substr(1);
    std::vector<Assimp::BaseImporter*> others;
    for (std::size_t i = 0; i < importer.GetImporterCount(); ++i) {
      Assimp::BaseImporter* reader = importer.GetImporter(i);
      std::set<std::string> extensions;
      reader->GetExtensionList(extensions);
      if (!extensions.contains(ext)) others.push_back(reader);
    }
    for (Assimp::BaseImporter* reader : others) {
      // Unregistering hands the reader back to the caller (the importer no longer deletes it).
      if (importer.UnregisterLoader(reader) == aiReturn_SUCCESS) delete reader;
    }
  }
  importer.SetPropertyBool(AI_CONFIG_IMPORT_COLLADA_IGNORE_UP_DIRECTION, true);
  importer.SetPropertyInteger(AI_CONFIG_PP_SBP_REMOVE, aiPrimitiveType_POINT | aiPrimitiveType_LINE);
  // Two stages: parse and validate, then post-process. In between, faces without vertices
  // are refused and each mesh's primitive types are set from its faces: Assimp 5.2's PLY
  // reader makes empty faces from some malformed data and marks them as polygons, which
  // trips an assertion (aborting the process) in the triangulation step.
  unsigned flags = aiProcess_Triangulate | aiProcess_GenSmoothNormals | aiProcess_SortByPType;
  if (config.join_identical_vertices) flags |= aiProcess_JoinIdenticalVertices;
  const aiScene* scene = nullptr;
  try {
    scene = importer.ReadFile(path.string(), aiProcess_ValidateDataStructure);
    if (scene != nullptr) {
      for (unsigned m = 0; m < scene->mNumMeshes; ++m) {
        aiMesh* mesh = scene->mMeshes[m];
        unsigned types = 0;
        for (unsigned f = 0; f < mesh->mNumFaces; ++f) {
          const unsigned n = mesh->mFaces[f].mNumIndices;
          if (n == 0)
            return core::Fail(core::StrCat("face ", f, " of mesh ", m, " has no vertices (corrupt file)"), where);
          types |= n == 1 ? aiPrimitiveType_POINT : n == 2 ? aiPrimitiveType_LINE : n == 3 ? aiPrimitiveType_TRIANGLE
                                                                                           : aiPrimitiveType_POLYGON;
        }
        mesh->mPrimitiveTypes = types;
      }
      scene = importer.ApplyPostProcessing(flags);
    }
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
        n = UnitOrUp(n);
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
