// Fuzz target: the mesh importer (assets/mesh.h).
//
// The input is a mesh file's bytes. First the front checks that run before Assimp sees a
// file (CheckMeshHead) are applied to it under every supported extension and an
// unsupported one, with the default size limit and with one just below the input's size.
// Then the bytes are written to the private directory as input.ply (when they start with
// "ply"), input.stl (when the STL front check accepts them) or input.obj (otherwise) and
// imported with LoadMesh. Every step must fail with an error naming the file or give a
// mesh whose arrays agree with each other (mesh.h): indices inside the vertices, finite
// positions, unit normals, submeshes inside the index buffer.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "fuzz/fuzz_support.h"
#include "pf/assets/mesh.h"

namespace pf::fuzz {
namespace {

void CheckMesh(const assets::MeshData& mesh, const std::string& file) {
  const std::size_t nv = mesh.num_vertices();
  Expect(mesh.positions.size() == 3 * nv && mesh.normals.size() == 3 * nv && mesh.uvs.size() == 2 * nv,
         "array sizes disagree in the mesh from ", file);
  Expect(!mesh.indices.empty() && mesh.indices.size() % 3 == 0, "index count ", mesh.indices.size());
  for (std::uint32_t i : mesh.indices) Expect(i < nv, "index ", i, " with ", nv, " vertices");
  for (float p : mesh.positions) Expect(std::isfinite(p), "non-finite position");
  for (std::size_t v = 0; v < nv; ++v) {
    const double n = std::hypot(mesh.normals[3 * v], mesh.normals[3 * v + 1], mesh.normals[3 * v + 2]);
    Expect(std::abs(n - 1.0) < 1e-3, "normal ", v, " has length ", n);
  }
  for (float t : mesh.uvs) Expect(std::isfinite(t), "non-finite uv");
  Expect(mesh.num_parts >= 1, "no parts");
  for (const assets::Submesh& s : mesh.submeshes) {
    Expect(s.index_count % 3 == 0 && std::uint64_t{s.first_index} + s.index_count <= mesh.indices.size(),
           "submesh [", s.first_index, ", +", s.index_count, ") outside ", mesh.indices.size(), " indices");
    Expect(s.material >= -1 && s.material < static_cast<int>(mesh.materials.size()), "material ", s.material);
    Expect(s.part < mesh.num_parts, "part ", s.part, " of ", mesh.num_parts);
  }
}

}  // namespace
}  // namespace pf::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pf;
  fuzz::QuietLogs();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string_view head = bytes.substr(0, std::min(size, assets::kMeshHeadBytes));

  // The front checks under every extension, and an unsupported one.
  constexpr std::array<const char*, 7> kNames = {"a.obj", "a.STL", "a.dae", "a.gltf", "a.glb", "a.ply", "a.txt"};
  assets::MeshLoadConfig tight;
  tight.max_file_bytes = size > 0 ? size - 1 : 0;
  for (const char* name : kNames) {
    for (const assets::MeshLoadConfig& config : {assets::MeshLoadConfig{}, tight}) {
      const auto status = assets::CheckMeshHead(name, head, size, config);
      if (!status) {
        fuzz::ExpectErrorNames(status.error(), name);
        continue;
      }
      fuzz::Expect(size > 0 && size <= config.max_file_bytes, "front check accepted ", size, " bytes with a limit of ",
                   config.max_file_bytes);
      fuzz::Expect(std::string_view(name) != "a.txt", "front check accepted an unsupported extension");
    }
  }
  // A head that does not match the size is a caller error, reported, never read past.
  if (size > 0) fuzz::Expect(!assets::CheckMeshHead("a.stl", head.substr(1), size), "a short head was accepted");

  // The import, as the format the bytes look like.
  const char* name = "input.obj";
  if (bytes.starts_with("ply")) name = "input.ply";
  else if (assets::CheckMeshHead("input.stl", head, size)) name = "input.stl";
  const std::filesystem::path path = fuzz::WriteFile(name, bytes);
  assets::Warnings warnings;
  const auto mesh = assets::LoadMesh(path, assets::AssetResolver(), &warnings);
  if (!mesh) {
    fuzz::ExpectErrorNames(mesh.error(), path.string());
    return 0;
  }
  fuzz::CheckMesh(*mesh, path.string());
  return 0;
}
