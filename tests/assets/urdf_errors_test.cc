// Bad URDF input: every case is an error naming the file, the line and the field.
#include <catch2/catch.hpp>

#include "pf/assets/library.h"
#include "pf/assets/urdf.h"
#include "support/test_support.h"

namespace pf::assets {
namespace {

using pf::testing::TempDir;

struct BadCase {
  const char* what;
  const char* urdf;      // line 1 is <robot>
  int line;              // expected error line
  const char* message;   // expected part of the message
  const char* field;     // expected part of the field ("" = any)
};

constexpr const char* kInertia = R"(<inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1"/></inertial>)";

std::string Link(const std::string& name) { return "  <link name=\"" + name + "\">" + kInertia + "</link>\n"; }

const BadCase kCases[] = {
    {"undefined parent link",
     "<robot name='r'>\n<link name='a'/>\n<link name='b'/>\n"
     "<joint name='j' type='fixed'><parent link='nope'/><child link='b'/></joint>\n</robot>",
     4, "parent link 'nope' is not defined", "joint[j].parent.link"},
    {"undefined child link",
     "<robot name='r'>\n<link name='a'/>\n<joint name='j' type='fixed'>\n<parent link='a'/>\n"
     "<child link='zz'/></joint>\n</robot>",
     5, "child link 'zz' is not defined", "joint[j].child.link"},
    {"joint cycle",
     "<robot name='r'>\n<link name='root'/>\n<link name='a'/>\n<link name='b'/>\n"
     "<joint name='ra' type='fixed'><parent link='root'/><child link='a'/></joint>\n"
     "<joint name='ab' type='fixed'><parent link='a'/><child link='b'/></joint>\n"
     "<joint name='ba' type='fixed'><parent link='b'/><child link='a'/></joint>\n</robot>",
     7, "already has parent joint", "joint[ba]"},
    {"pure cycle without a root",
     "<robot name='r'>\n<link name='a'/>\n<link name='b'/>\n"
     "<joint name='ab' type='fixed'><parent link='a'/><child link='b'/></joint>\n"
     "<joint name='ba' type='fixed'><parent link='b'/><child link='a'/></joint>\n</robot>",
     4, "cycle", "joint[ab]"},
    {"self loop",
     "<robot name='r'>\n<link name='a'/>\n<joint name='aa' type='fixed'><parent link='a'/><child link='a'/></joint>\n</robot>",
     3, "itself", "joint[aa]"},
    {"two roots",
     "<robot name='r'>\n<link name='a'/>\n<link name='b'/>\n</robot>", 3, "2 root links", "link[b]"},
    {"NaN value",
     "<robot name='r'>\n<link name='a'>\n<inertial><mass value='nan'/></inertial></link>\n</robot>",
     3, "not a finite number", "link[a].inertial.mass.value"},
    {"inf in a vector",
     "<robot name='r'>\n<link name='a'>\n<visual><origin xyz='0 inf 0'/><geometry><sphere radius='1'/></geometry></visual></link>\n</robot>",
     3, "not a finite number", "link[a].visual[0].origin.xyz"},
    {"non-numeric value",
     "<robot name='r'>\n<link name='a'/>\n<link name='b'/>\n<joint name='j' type='revolute'><parent link='a'/><child link='b'/>\n"
     "<limit lower='-1' upper='one' effort='1' velocity='1'/></joint>\n</robot>",
     5, "'one' is not a number", "joint[j].limit.upper"},
    {"trailing junk after a number",
     "<robot name='r'>\n<link name='a'>\n<visual><geometry><box size='1 2 3x'/></geometry></visual></link>\n</robot>",
     3, "'3x' is not a number", "link[a].visual[0].geometry.box.size"},
    {"negative mass",
     "<robot name='r'>\n<link name='a'><inertial>\n<mass value='-2'/><inertia ixx='1' iyy='1' izz='1'/></inertial></link>\n</robot>",
     3, "negative mass", "link[a].inertial.mass.value"},
    {"inertia not positive definite",
     "<robot name='r'>\n<link name='a'><inertial><mass value='1'/>\n<inertia ixx='1' ixy='2' iyy='1' izz='1'/></inertial></link>\n</robot>",
     3, "not positive definite", "link[a].inertial.inertia"},
    {"zero inertia with mass",
     "<robot name='r'>\n<link name='a'><inertial><mass value='1'/>\n<inertia ixx='0' iyy='0' izz='0'/></inertial></link>\n</robot>",
     3, "not positive definite", "link[a].inertial.inertia"},
    {"unknown joint type",
     "<robot name='r'>\n<link name='a'/>\n<link name='b'/>\n<joint name='j' type='ball'><parent link='a'/><child link='b'/></joint>\n</robot>",
     4, "unknown joint type 'ball'", "joint[j].type"},
    {"revolute without limit",
     "<robot name='r'>\n<link name='a'/>\n<link name='b'/>\n<joint name='j' type='revolute'><parent link='a'/><child link='b'/></joint>\n</robot>",
     4, "needs a <limit>", "joint[j].limit"},
    {"limits upside down",
     "<robot name='r'>\n<link name='a'/>\n<link name='b'/>\n<joint name='j' type='prismatic'><parent link='a'/><child link='b'/>\n"
     "<limit lower='1' upper='-1'/></joint>\n</robot>",
     5, "above upper limit", "joint[j].limit"},
    {"zero axis",
     "<robot name='r'>\n<link name='a'/>\n<link name='b'/>\n<joint name='j' type='continuous'><parent link='a'/><child link='b'/>\n"
     "<axis xyz='0 0 0'/></joint>\n</robot>",
     5, "axis is zero", "joint[j].axis.xyz"},
    {"duplicate link",
     "<robot name='r'>\n<link name='a'/>\n<link name='a'/>\n</robot>", 3, "defined twice", "link[a]"},
    {"mimic of an unknown joint",
     "<robot name='r'>\n<link name='a'/>\n<link name='b'/>\n<joint name='j' type='continuous'><parent link='a'/><child link='b'/>\n"
     "<mimic joint='ghost'/></joint>\n</robot>",
     4, "mimicked joint 'ghost' is not defined", "joint[j].mimic.joint"},
    {"unknown geometry",
     "<robot name='r'>\n<link name='a'><visual>\n<geometry><torus r='1'/></geometry></visual></link>\n</robot>",
     3, "unknown geometry <torus>", "link[a].visual[0].geometry.torus"},
    {"negative radius",
     "<robot name='r'>\n<link name='a'><collision><geometry>\n<sphere radius='-1'/></geometry></collision></link>\n</robot>",
     3, "must not be negative", "link[a].collision[0].geometry.sphere.radius"},
    {"missing mass value",
     "<robot name='r'>\n<link name='a'><inertial>\n<mass/></inertial></link>\n</robot>",
     3, "missing required attribute 'value'", "link[a].inertial.mass.value"},
    {"malformed XML",
     "<robot name='r'>\n<link name='a'>\n</robot>", 2, "malformed XML", ""},
    {"not a robot", "<?xml version='1.0'?>\n<world/>", 2, "root element must be <robot>", ""},
};

TEST_CASE("bad URDFs fail with the file, line and field", "[assets][urdf][errors]") {
  TempDir dir;
  for (const BadCase& c : kCases) {
    INFO(c.what);
    const auto path = dir.Write("bad.urdf", c.urdf);
    const auto r = LoadUrdf(path, AssetResolver());
    REQUIRE_FALSE(r);
    INFO(r.error().ToString());
    CHECK(r.error().where.file == path.string());
    CHECK(r.error().where.line == c.line);
    CHECK_THAT(r.error().message, Catch::Contains(c.message));
    CHECK_THAT(r.error().where.field, Catch::Contains(c.field));
  }
}

TEST_CASE("a missing mesh names the URDF, its line and the resolved path", "[assets][urdf][errors]") {
  TempDir dir;
  const auto path = dir.Write("robot/r.urdf",
                              "<robot name='r'>\n" + Link("base") +
                                  "  <link name='arm'>\n    <visual><geometry>\n"
                                  "      <mesh filename='package://meshes/arm.STL'/>\n"
                                  "    </geometry></visual>\n  </link>\n"
                                  "  <joint name='j' type='fixed'><parent link='base'/><child link='arm'/></joint>\n"
                                  "</robot>\n");
  const auto r = LoadUrdf(path, AssetResolver());
  REQUIRE_FALSE(r);
  CHECK(r.error().where.file == path.string());
  CHECK(r.error().where.line == 5);
  CHECK(r.error().where.field == "link[arm].visual[0].geometry.mesh.filename");
  CHECK_THAT(r.error().message, Catch::Contains((dir.path() / "robot/meshes/arm.STL").string()));
  CHECK_THAT(r.error().ToString(), Catch::StartsWith(path.string() + ":5: "));
}

TEST_CASE("mesh paths escaping the asset roots are refused in URDFs", "[assets][urdf][errors]") {
  TempDir dir;
  dir.Write("secret.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\nf 1 3 4\nf 2 3 4\n");
  std::filesystem::create_directories(dir.path() / "robot");
  std::filesystem::create_symlink(dir.path() / "secret.obj", dir.path() / "robot/link.obj");
  for (const std::string& ref : std::vector<std::string>{"../secret.obj", "../../../../../../etc/passwd", "/etc/passwd",
                                (dir.path() / "secret.obj").string(), "link.obj"}) {
    INFO(ref);
    const auto path = dir.Write("robot/r.urdf", "<robot name='r'>\n<link name='a'><visual><geometry>\n<mesh filename='" +
                                                    ref + "'/></geometry></visual></link>\n</robot>\n");
    const auto r = LoadUrdf(path, AssetResolver());
    REQUIRE_FALSE(r);
    CHECK(r.error().where.line == 3);
    CHECK_THAT(r.error().message, Catch::Contains("outside the asset roots"));
  }
}

TEST_CASE("a garbage mesh referenced by a URDF fails the import with both places named", "[assets][urdf][errors]") {
  TempDir dir;
  dir.Write("robot/broken.stl", std::string(200, '\x07'));
  const auto path = dir.Write("robot/r.urdf",
                              "<robot name='r'>\n" + Link("a") +
                                  "<link name='b'>" + kInertia +
                                  "<collision><geometry><mesh filename='broken.stl'/></geometry></collision></link>\n"
                                  "<joint name='j' type='continuous'><parent link='a'/><child link='b'/></joint>\n</robot>\n");
  AssetLibrary library{AssetResolver()};
  const auto r = ImportRobot(path.string(), library);
  REQUIRE_FALSE(r);
  CHECK(r.error().where.file == (dir.path() / "robot/broken.stl").string());
  CHECK_THAT(r.error().message, Catch::Contains(path.string() + ":3"));
}

TEST_CASE("a missing URDF file and an unknown built-in are errors", "[assets][urdf][errors]") {
  AssetLibrary library{AssetResolver()};
  const auto missing = ImportRobot("/nonexistent/robot.urdf", library);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().where.file == "/nonexistent/robot.urdf");
  const auto unknown = ImportRobot("builtin://nope", library);
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().message, Catch::Contains("parafab_arm"));
}

}  // namespace
}  // namespace pf::assets
