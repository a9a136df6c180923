#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "pf/assets/collision.h"
#include "pf/assets/mesh.h"
#include "pf/assets/texture.h"
#include "support/test_support.h"

namespace pf::assets {
namespace {

using pf::testing::TempDir;

// An axis-aligned cube as an OBJ object `o NAME` whose vertex numbers start at `base`.
std::string CubeObject(const std::string& name, double cx, double size, int base) {
  std::ostringstream s;
  s << "o " << name << "\n";
  for (int i = 0; i < 8; ++i)
    s << "v " << cx + ((i & 1) ? size : 0.0) << " " << ((i & 2) ? size : 0.0) << " " << ((i & 4) ? size : 0.0) << "\n";
  const int faces[6][4] = {{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4}, {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}};
  for (const auto& f : faces)
    s << "f " << base + f[0] << " " << base + f[1] << " " << base + f[2] << " " << base + f[3] << "\n";
  return s.str();
}

std::string BinaryStl(int triangles) {
  std::string data(80, ' ');
  const std::uint32_t n = static_cast<std::uint32_t>(triangles);
  data.append(reinterpret_cast<const char*>(&n), 4);
  for (int t = 0; t < triangles; ++t) {
    const float tri[12] = {0, 0, 1, static_cast<float>(t), 0, 0, static_cast<float>(t) + 1, 0, 0,
                           static_cast<float>(t), 1, 0};
    data.append(reinterpret_cast<const char*>(tri), sizeof tri);
    data.append(2, '\0');
  }
  return data;
}

std::string Base64(const std::string& bytes) {
  static const char* kTable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<std::uint8_t>(bytes[i + 2]);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kTable[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kTable[v & 63] : '=';
  }
  return out;
}

std::string TriangleGltf() {
  const float positions[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
  const std::uint16_t indices[3] = {0, 1, 2};
  std::string buffer(reinterpret_cast<const char*>(positions), sizeof positions);
  buffer.append(reinterpret_cast<const char*>(indices), sizeof indices);
  return R"({"asset":{"version":"2.0"},"scene":0,"scenes":[{"nodes":[0]}],"nodes":[{"mesh":0}],
"meshes":[{"primitives":[{"attributes":{"POSITION":0},"indices":1}]}],
"buffers":[{"byteLength":42,"uri":"data:application/octet-stream;base64,)" +
         Base64(buffer) + R"("}],
"bufferViews":[{"buffer":0,"byteOffset":0,"byteLength":36},{"buffer":0,"byteOffset":36,"byteLength":6}],
"accessors":[{"bufferView":0,"componentType":5126,"count":3,"type":"VEC3","min":[0,0,0],"max":[1,1,0]},
{"bufferView":1,"componentType":5123,"count":3,"type":"SCALAR"}]})";
}

constexpr const char* kTriangleDae = R"(<?xml version="1.0" encoding="utf-8"?>
<COLLADA xmlns="http://www.collada.org/2005/11/COLLADASchema" version="1.4.1">
  <asset><unit name="meter" meter="1"/><up_axis>Z_UP</up_axis></asset>
  <library_geometries><geometry id="tri" name="tri"><mesh>
    <source id="tri-pos"><float_array id="tri-pos-array" count="9">0 0 0 1 0 0 0 1 0</float_array>
      <technique_common><accessor source="#tri-pos-array" count="3" stride="3">
        <param name="X" type="float"/><param name="Y" type="float"/><param name="Z" type="float"/>
      </accessor></technique_common></source>
    <vertices id="tri-vtx"><input semantic="POSITION" source="#tri-pos"/></vertices>
    <triangles count="1"><input semantic="VERTEX" source="#tri-vtx" offset="0"/><p>0 1 2</p></triangles>
  </mesh></geometry></library_geometries>
  <library_visual_scenes><visual_scene id="Scene"><node id="n"><instance_geometry url="#tri"/></node>
  </visual_scene></library_visual_scenes>
  <scene><instance_visual_scene url="#Scene"/></scene>
</COLLADA>
)";

constexpr const char* kTrianglePly =
    "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
    "element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n";

bool HasVertex(const MeshData& mesh, float x, float y, float z) {
  for (std::size_t i = 0; i < mesh.num_vertices(); ++i)
    if (mesh.Vertex(i).isApprox(core::Vec3f(x, y, z), 1e-6f) ||
        (mesh.Vertex(i) - core::Vec3f(x, y, z)).norm() < 1e-6f)
      return true;
  return false;
}

TEST_CASE("an OBJ with two objects loads as two parts with normals and uvs", "[assets][mesh]") {
  TempDir dir;
  const auto path = dir.Write("two.obj", CubeObject("a", 0.0, 1.0, 1) + CubeObject("b", 3.0, 0.5, 9));
  Warnings warnings;
  const auto mesh = LoadMesh(path, AssetResolver(), &warnings);
  REQUIRE(mesh);
  CHECK(mesh->num_parts == 2);
  CHECK(mesh->num_triangles() == 24);
  CHECK(mesh->normals.size() == mesh->positions.size());
  CHECK(mesh->uvs.size() == mesh->num_vertices() * 2);
  CHECK_FALSE(mesh->has_uvs);
  for (std::size_t i = 0; i < mesh->num_vertices(); ++i)
    CHECK(std::abs(core::Vec3f(mesh->normals[3 * i], mesh->normals[3 * i + 1], mesh->normals[3 * i + 2]).norm() - 1.0f) < 1e-5f);
  CHECK(HasVertex(*mesh, 3.5f, 0.5f, 0.5f));
  CHECK(warnings.empty());

  // Dynamic body: one hull per part, as a compound.
  const auto dynamic = PrepareCollisionMesh(*mesh, core::Vec3(2, 1, 1), false);
  REQUIRE(dynamic);
  CHECK(dynamic->kind == CollisionMeshKind::kConvexHulls);
  REQUIRE(dynamic->hulls.size() == 2);
  CHECK(dynamic->hulls[0].vertices.size() == 8);
  CHECK(dynamic->hulls[0].Volume() == Approx(2.0));   // 2 x 1 x 1 after scaling
  CHECK(dynamic->hulls[1].Volume() == Approx(0.25));  // 1 x 0.5 x 0.5
  // Static body: the exact triangle mesh, scaled.
  const auto fixed = PrepareCollisionMesh(*mesh, core::Vec3(2, 1, 1), true);
  REQUIRE(fixed);
  CHECK(fixed->kind == CollisionMeshKind::kTriangleMesh);
  CHECK(fixed->indices.size() == mesh->indices.size());
  CHECK(*std::max_element(fixed->positions.begin(), fixed->positions.end()) == Approx(7.0f));
}

TEST_CASE("a flat mesh has no convex hull for a dynamic body but is fine as static", "[assets][mesh]") {
  TempDir dir;
  const auto path = dir.Write("flat.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n");
  const auto mesh = LoadMesh(path, AssetResolver());
  REQUIRE(mesh);
  const auto dynamic = PrepareCollisionMesh(*mesh, core::Vec3::Ones(), false);
  REQUIRE_FALSE(dynamic);
  CHECK_THAT(dynamic.error().message, Catch::Contains("flat"));
  CHECK(PrepareCollisionMesh(*mesh, core::Vec3::Ones(), true).has_value());
}

TEST_CASE("STL (ASCII with upper-case extension and binary), DAE, glTF and PLY load", "[assets][mesh]") {
  TempDir dir;
  const auto ascii = dir.Write("part.STL",
                               "solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 2 0 0\n"
                               "vertex 0 2 0\nendloop\nendfacet\nendsolid t\n");
  const auto ascii_mesh = LoadMesh(ascii, AssetResolver());
  REQUIRE(ascii_mesh);
  CHECK(ascii_mesh->num_triangles() == 1);
  CHECK(HasVertex(*ascii_mesh, 2, 0, 0));

  const auto binary = dir.Write("bin.stl", BinaryStl(5));
  const auto binary_mesh = LoadMesh(binary, AssetResolver());
  REQUIRE(binary_mesh);
  CHECK(binary_mesh->num_triangles() == 5);

  for (const auto& [name, text] : {std::pair<std::string, std::string>{"tri.dae", kTriangleDae},
                                   {"tri.gltf", TriangleGltf()},
                                   {"tri.ply", kTrianglePly}}) {
    INFO(name);
    const auto mesh = LoadMesh(dir.Write(name, text), AssetResolver());
    REQUIRE(mesh);
    CHECK(mesh->num_triangles() == 1);
    CHECK(HasVertex(*mesh, 1, 0, 0));
    CHECK(HasVertex(*mesh, 0, 1, 0));
  }
}

TEST_CASE("a missing material library or texture is a warning, geometry still loads", "[assets][mesh]") {
  TempDir dir;
  const auto obj = dir.Write("m.obj", "mtllib nothere.mtl\nmtllib tex.mtl\nusemtl red\n" + CubeObject("c", 0, 1, 1));
  dir.Write("tex.mtl", "newmtl red\nKd 1 0 0\nmap_Kd missing.png\n");
  Warnings warnings;
  const auto mesh = LoadMesh(obj, AssetResolver(), &warnings);
  REQUIRE(mesh);
  CHECK(mesh->num_triangles() == 12);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].where.line == 1);
  CHECK_THAT(warnings[0].message, Catch::Contains("nothere.mtl"));
  CHECK_THAT(warnings[1].message, Catch::Contains("missing.png"));
  bool red = false;
  for (const auto& m : mesh->materials) red = red || (m.base_colour.x() == 1.0f && m.base_colour.y() == 0.0f);
  CHECK(red);
}

TEST_CASE("material libraries and textures outside the roots are refused", "[assets][mesh]") {
  TempDir dir;
  dir.Write("evil.mtl", "newmtl x\nKd 0 1 0\n");
  const auto obj = dir.Write("inner/m.obj", "mtllib ../evil.mtl\n" + CubeObject("c", 0, 1, 1));
  Warnings warnings;
  const auto mesh = LoadMesh(obj, AssetResolver(), &warnings);
  REQUIRE(mesh);
  REQUIRE_FALSE(warnings.empty());
  CHECK_THAT(warnings[0].message, Catch::Contains("outside the asset roots"));
  for (const auto& m : mesh->materials) CHECK_FALSE((m.base_colour.y() == 1.0f && m.base_colour.x() == 0.0f));
}

TEST_CASE("truncated, empty and garbage mesh files are errors, not crashes", "[assets][mesh]") {
  TempDir dir;
  const std::string stl = BinaryStl(40);
  for (std::size_t cut : {std::size_t{10}, std::size_t{83}, std::size_t{84 + 50 * 3 + 7}, stl.size() - 1}) {
    INFO("cut at " << cut);
    const auto r = LoadMesh(dir.Write("cut.stl", stl.substr(0, cut)), AssetResolver());
    REQUIRE_FALSE(r);
    CHECK(r.error().where.file == (dir.path() / "cut.stl").string());
  }
  std::string garbage;
  std::uint32_t x = 12345;
  for (int i = 0; i < 4096; ++i) {
    x = x * 1664525u + 1013904223u;
    garbage.push_back(static_cast<char>(x >> 24));
  }
  for (const std::string ext : {".obj", ".stl", ".dae", ".gltf", ".glb", ".ply"}) {
    INFO(ext);
    CHECK_FALSE(LoadMesh(dir.Write("garbage" + ext, garbage), AssetResolver()));
    CHECK_FALSE(LoadMesh(dir.Write("empty" + ext, ""), AssetResolver()));
  }
  const std::string gltf = TriangleGltf();
  CHECK_FALSE(LoadMesh(dir.Write("half.gltf", gltf.substr(0, gltf.size() / 2)), AssetResolver()));
  CHECK_FALSE(LoadMesh(dir.Write("half.dae", std::string(kTriangleDae).substr(0, 500)), AssetResolver()));
  const auto unknown = LoadMesh(dir.Write("x.fbx2", "abc"), AssetResolver());
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().message, Catch::Contains("unsupported mesh format"));
  const auto missing = LoadMesh(dir.path() / "none.obj", AssetResolver());
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("not found"));
}

TEST_CASE("MeshCache loads a file once and shares it", "[assets][mesh]") {
  TempDir dir;
  const auto path = dir.Write("c.obj", CubeObject("c", 0, 1, 1));
  MeshCache cache{AssetResolver()};
  const auto a = cache.Get(path);
  const auto b = cache.Get(dir.path() / "." / "c.obj");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->get() == b->get());
  CHECK(cache.size() == 1);
}

TEST_CASE("a garbage texture is an error naming the file", "[assets][texture]") {
  TempDir dir;
  const auto path = dir.Write("t.png", "not an image at all");
  const auto r = LoadTexture(path);
  REQUIRE_FALSE(r);
  CHECK(r.error().where.file == path.string());
}

}  // namespace
}  // namespace pf::assets

namespace pf::assets {
namespace {

TEST_CASE("the front checks read only the head they are given", "[assets][mesh]") {
  // 84 white-space bytes, then more: the 'solid' test used to read past the 84-byte header.
  const std::string spaces(200, ' ');
  const auto r = CheckMeshHead("a.stl", std::string_view(spaces).substr(0, 84), 84);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("not an STL file"));
  CHECK(r.error().where.file == "a.stl");
  CHECK(CheckMeshHead("a.stl", "  solid x\n", 10));
  CHECK_FALSE(CheckMeshHead("a.stl", "solid", 50));  // the head must be the whole file when it is short
  CHECK_FALSE(CheckMeshHead("a.txt", "solid", 5));
  MeshLoadConfig tight;
  tight.max_file_bytes = 4;
  CHECK_FALSE(CheckMeshHead("a.obj", "v 0 0 0", 7, tight));
}

TEST_CASE("PLY headers are checked before Assimp sees them", "[assets][mesh]") {
  const std::string header = "ply\nformat ascii 1.0\ncomment c\nelement vertex 3\nproperty float x\n"
                             "property float y\nproperty float z\nelement face 1\n"
                             "property list uchar int vertex_indices\nend_header\n";
  const std::string body = "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n";
  const std::string good = header + body;
  CHECK(CheckMeshHead("t.ply", good, good.size()));

  // A header that never ends (Assimp 5.2 loops forever on such a file), junk keywords,
  // binary bytes, counts far beyond the file's size, a property before any element.
  const std::string endless = "ply\nformat ascii 1.0\nelement vertex 4\n" + std::string("\x7b\x3f\x00\x00\xc9\x9e", 6) + "\n0 0 0\n";
  const auto r = CheckMeshHead("t.ply", endless, endless.size());
  REQUIRE_FALSE(r);
  CHECK(r.error().where.file == "t.ply");
  CHECK(r.error().where.line == 4);
  CHECK_THAT(r.error().message, Catch::Contains("malformed PLY header"));
  for (const std::string_view bad :
       {"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nend_header",
        "ply\nformat ascii 2.0\nend_header\n", "ply\nformat ascii 1.0\nfoo bar\nend_header\n",
        "ply\nformat ascii 1.0\nproperty float x\nend_header\n",
        "ply\nformat ascii 1.0\nelement vertex 99999999999\nproperty float x\nend_header\n0\n",
        "ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\nend_header\n0123",
        "ply\nformat ascii 1.0\nelement face 1\nproperty list float int i\nend_header\n3 0 1 2\n",
        "ply\nelement vertex 1\nproperty float x\nend_header\n0\n", "plyx\nformat ascii 1.0\nend_header\n"}) {
    INFO(bad);
    const auto e = CheckMeshHead("t.ply", bad, bad.size());
    REQUIRE_FALSE(e);
    CHECK(e.error().where.file == "t.ply");
  }
}

TEST_CASE("a file is parsed only by the readers of its extension", "[assets][mesh]") {
  pf::testing::TempDir dir;
  // Not an OBJ, but 'ply' in its first bytes: Assimp would hand it to its PLY reader.
  const auto r = LoadMesh(dir.Write("x.obj", "ply\nformat ascii 1.0\nelement vertex 4\n\x01\x02\x03\n"), AssetResolver());
  REQUIRE_FALSE(r);  // the OBJ reader finds no geometry in it
  CHECK(r.error().where.file == (dir.path() / "x.obj").string());
}

// Found by the mesh fuzz target: one vertex line short, so Assimp's PLY reader turns the
// rest into faces, one of them empty and marked a polygon; its triangulation step then
// aborted the process on an assertion.
TEST_CASE("a PLY whose data makes a face without vertices is an error, not an abort", "[assets][mesh]") {
  pf::testing::TempDir dir;
  const auto path = dir.Write("short.ply",
                              "ply\nformat ascii 1.0\nelement vertex 5\nproperty float x\nproperty float y\n"
                              "property float z\nelement face 4\nproperty list uchar int vertex_indices\nend_header\n"
                              "0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n~");
  const auto r = LoadMesh(path, AssetResolver());
  REQUIRE_FALSE(r);
  CHECK(r.error().where.file == path.string());
  CHECK_THAT(r.error().message, Catch::Contains("no vertices"));
}

}  // namespace
}  // namespace pf::assets
