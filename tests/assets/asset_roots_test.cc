#include <catch2/catch.hpp>

#include "pf/assets/asset_roots.h"
#include "support/test_support.h"

namespace pf::assets {
namespace {

using pf::testing::TempDir;

TEST_CASE("references resolve beside the referring file and in the roots", "[assets][roots]") {
  TempDir dir;
  const auto urdf = dir.Write("robot/robot.urdf", "<robot/>");
  const auto mesh = dir.Write("robot/meshes/a.obj", "v 0 0 0\n");
  const auto shared = dir.Write("shared/parts/b.stl", "solid b\nendsolid b\n");
  AssetResolver resolver({dir.path() / "shared"});
  const core::Location where{urdf.string(), 12, 0, "mesh"};

  CHECK(resolver.Resolve("meshes/a.obj", urdf, where).value() == mesh);
  CHECK(resolver.Resolve("package://meshes/a.obj", urdf, where).value() == mesh);
  CHECK(resolver.Resolve("package://robot_description/meshes/a.obj", urdf, where).value() == mesh);
  CHECK(resolver.Resolve("parts/b.stl", urdf, where).value() == shared);
  CHECK(resolver.Resolve(" meshes/a.obj ", urdf, where).value() == mesh);
  CHECK(resolver.Resolve(mesh.string(), urdf, where).value() == mesh);
  CHECK(resolver.Resolve("file://" + mesh.string(), urdf, where).value() == mesh);
}

TEST_CASE("a missing file names the referrer, line and resolved path", "[assets][roots]") {
  TempDir dir;
  const auto urdf = dir.Write("robot.urdf", "<robot/>");
  AssetResolver resolver;
  const auto r = resolver.Resolve("meshes/none.stl", urdf, {urdf.string(), 9, 0, "link[a].visual[0]"});
  REQUIRE_FALSE(r);
  CHECK(r.error().where.file == urdf.string());
  CHECK(r.error().where.line == 9);
  CHECK_THAT(r.error().message, Catch::Contains((dir.path() / "meshes/none.stl").string()));
  CHECK_THAT(r.error().message, Catch::Contains("not found"));
}

TEST_CASE("paths escaping the asset roots are refused", "[assets][roots]") {
  TempDir dir;
  const auto urdf = dir.Write("a/b/robot.urdf", "<robot/>");
  dir.Write("outside.obj", "v 0 0 0\n");
  AssetResolver resolver;
  const core::Location where{urdf.string(), 3, 0, "mesh"};
  for (const std::string ref : {"../../etc/passwd", "../../../../../../etc/passwd", "/etc/passwd",
                                "../../outside.obj", "package://../../outside.obj",
                                "file:///etc/passwd"}) {
    INFO(ref);
    const auto r = resolver.Resolve(ref, urdf, where);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("outside the asset roots"));
  }
  for (const std::string ref : {"http://example.com/x.obj", "C:\\meshes\\x.obj", "D:/dev/x.png"}) {
    INFO(ref);
    const auto r = resolver.Resolve(ref, urdf, where);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("refused"));
  }
}

TEST_CASE("symbolic links that lead out of the roots are refused", "[assets][roots]") {
  TempDir dir;
  const auto urdf = dir.Write("robot/robot.urdf", "<robot/>");
  const auto secret = dir.Write("secret/key.obj", "v 0 0 0\n");
  std::filesystem::create_symlink(secret, dir.path() / "robot/link.obj");
  std::filesystem::create_directory_symlink(dir.path() / "secret", dir.path() / "robot/meshes");
  AssetResolver resolver;
  const core::Location where{urdf.string(), 1, 0, "mesh"};
  for (const std::string ref : {"link.obj", "meshes/key.obj"}) {
    INFO(ref);
    const auto r = resolver.Resolve(ref, urdf, where);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("outside the asset roots"));
  }
  // A symlink that stays inside the roots is fine.
  AssetResolver with_root({dir.path() / "secret"});
  CHECK(with_root.Resolve("link.obj", urdf, where).has_value());
}

TEST_CASE("PARAFAB_ASSET_PATH adds roots", "[assets][roots]") {
  TempDir dir;
  const std::string value = (dir.path() / "a").string() + "::" + (dir.path() / "b").string();
  setenv("PARAFAB_ASSET_PATH", value.c_str(), 1);
  const AssetResolver resolver = AssetResolver::FromEnvironment();
  unsetenv("PARAFAB_ASSET_PATH");
  REQUIRE(resolver.roots().size() == 2);
  CHECK(resolver.roots()[1] == dir.path() / "b");
}

}  // namespace
}  // namespace pf::assets
