#include "pf/scenarios/scenario.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace {

using pf::assets::AssetLibrary;
using pf::assets::AssetResolver;
using pf::scenarios::LoadScenario;
using pf::scenarios::ParseScenario;
using pf::scenarios::Scenario;

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

const pf::sim::ObjectSpec& FindObject(const Scenario& s, const std::string& name) {
  const auto it = std::find_if(s.model.objects.begin(), s.model.objects.end(),
                               [&](const auto& o) { return o.name == name; });
  REQUIRE(it != s.model.objects.end());
  return *it;
}

}  // namespace

TEST_CASE("the built-in default scenario loads", "[scenarios]") {
  AssetLibrary library{AssetResolver()};
  const auto names = pf::scenarios::BuiltinScenarioNames();
  CHECK(std::find(names.begin(), names.end(), "default") != names.end());

  const auto loaded = LoadScenario("builtin://default", library);
  REQUIRE(loaded);
  const Scenario& s = *loaded;
  CHECK(s.source == "builtin://default");
  CHECK(s.model.name == "default");
  CHECK(s.model.ground_plane);
  CHECK(s.model.physics.timestep == 1.0 / 240.0);
  CHECK(s.model.physics.control_substeps == 4);
  CHECK(s.model.physics.solver_iterations == 50);
  CHECK(s.model.physics.solver_residual == pf::sim::PhysicsConfig{}.solver_residual);

  REQUIRE(s.model.robots.size() == 1);
  const pf::sim::RobotSpec& arm = s.model.robots[0];
  CHECK(arm.name == "arm");
  REQUIRE(arm.robot);
  CHECK(arm.robot->desc.name == "parafab_arm");
  CHECK(arm.robot->desc.NumDofs() == 9);
  CHECK(arm.robot->desc.NumIndependentDofs() == 8);
  CHECK(arm.fixed_base);
  CHECK(arm.robot->fixed_base);
  CHECK(arm.X_WB.translation().isApprox(pf::core::Vec3(0, 0, 0.4)));
  CHECK(arm.end_effector_link == "tcp");
  CHECK(arm.control_mode == pf::sim::ControlMode::kJointPosition);
  CHECK(arm.gains.empty());
  // Actuated-joint order: joint1..joint7, finger_left_joint (finger_right_joint mimics it).
  CHECK(arm.initial_positions == std::vector<double>{0, -0.3, 0, -2.2, 0, 2.0, 0.78, 0.04});

  REQUIRE(s.model.objects.size() == 6);
  const auto& table = FindObject(s, "table");
  CHECK(table.mass == 0.0);
  CHECK(table.shape == pf::sim::ObjectShape::kBox);
  CHECK(table.X_WO.translation().z() + table.size.z() / 2 == Approx(0.4));
  const auto& red = FindObject(s, "red_cube");
  CHECK(red.shape == pf::sim::ObjectShape::kBox);
  CHECK(red.size.isApprox(pf::core::Vec3::Constant(0.05)));
  CHECK(red.mass == 0.1);
  CHECK(red.colour.isApprox(pf::core::Vec4(0.85, 0.12, 0.10, 1)));
  const auto& green = FindObject(s, "green_cube");
  const auto& cylinder = FindObject(s, "blue_cylinder");
  const auto& sphere = FindObject(s, "yellow_sphere");
  CHECK(cylinder.shape == pf::sim::ObjectShape::kCylinder);
  CHECK(sphere.shape == pf::sim::ObjectShape::kSphere);
  // Semantic ids in order of first appearance; both cubes share "cube".
  CHECK(FindObject(s, "pedestal").semantic_class == 1);
  CHECK(table.semantic_class == 2);
  CHECK(red.semantic_class == 3);
  CHECK(red.semantic_name == "cube");
  CHECK(green.semantic_class == 3);
  CHECK(cylinder.semantic_class == 4);
  CHECK(sphere.semantic_class == 5);
  CHECK(sphere.semantic_name == "sphere");

  // The parts rest on the table top, in reach of the tool at home.
  const auto& desc = arm.robot->desc;
  std::vector<double> q(desc.joints.size(), 0.0);  // one value per joint (fixed ones unused)
  for (std::size_t k = 0, a = 0; k < desc.joints.size(); ++k) {
    if (desc.joints[k].type == pf::assets::JointType::kFixed) continue;
    q[k] = desc.joints[k].mimic ? 0.04 : arm.initial_positions[a++];
  }
  const auto X_BL = desc.ForwardKinematics(q);
  const pf::core::Vec3 p_W_tcp = arm.X_WB * X_BL[static_cast<std::size_t>(desc.FindLink("tcp"))].translation();
  CHECK(p_W_tcp.z() > 0.45);
  for (const auto* part : {&red, &green, &cylinder, &sphere}) {
    INFO(part->name);
    const double half = part->shape == pf::sim::ObjectShape::kBox ? part->size.z() / 2
                        : part->shape == pf::sim::ObjectShape::kCylinder ? part->length / 2
                                                                         : part->radius;
    CHECK(part->X_WO.translation().z() - half == Approx(0.4));
    CHECK(part->mass > 0);
    CHECK(part->friction > 0);
    CHECK(part->X_WO.translation().x() >= 0.45);
    CHECK(part->X_WO.translation().x() <= 0.6);
    CHECK(std::abs(part->X_WO.translation().y()) <= 0.15);
    CHECK((part->X_WO.translation() - p_W_tcp).head<2>().norm() < 0.2);
  }
}

TEST_CASE("the built-in default equals the file on disk", "[scenarios]") {
  const auto path = pf::testing::SourceDir() / "scenarios/library/default.pbtxt";
  const std::string on_disk = pf::testing::ReadFile(path);
  const auto builtin_text = pf::scenarios::BuiltinScenarioText("default");
  REQUIRE(builtin_text);
  CHECK(*builtin_text == on_disk);

  AssetLibrary library{AssetResolver()};
  const auto builtin = LoadScenario("builtin://default", library);
  const auto file = LoadScenario(path.string(), library);
  REQUIRE(builtin);
  REQUIRE(file);
  CHECK(file->source == path);
  CHECK(file->canonical_text == builtin->canonical_text);
  CHECK(file->model.scenario_hash == builtin->model.scenario_hash);
}

TEST_CASE("the scenario hash follows the content, not the layout", "[scenarios]") {
  AssetLibrary library{AssetResolver()};
  const std::string text(*pf::scenarios::BuiltinScenarioText("default"));
  const auto a = ParseScenario(text, "a.pbtxt", library);
  const auto b = ParseScenario(text, "b.pbtxt", library);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->model.scenario_hash != 0);
  CHECK(a->model.scenario_hash == b->model.scenario_hash);
  CHECK(a->canonical_text == b->canonical_text);

  // Comments and layout do not count.
  const auto relaid = ParseScenario("# another comment\n" + Replace(text, "  mass: 0.1\n", "  mass:   0.10   # kg\n"),
                                    "c.pbtxt", library);
  REQUIRE(relaid);
  CHECK(relaid->model.scenario_hash == a->model.scenario_hash);
  CHECK(relaid->canonical_text == a->canonical_text);

  // A physical change does.
  const auto heavier = ParseScenario(Replace(text, "  mass: 0.1\n", "  mass: 0.11\n"), "d.pbtxt", library);
  REQUIRE(heavier);
  CHECK(FindObject(*heavier, "red_cube").mass == 0.11);
  CHECK(heavier->model.scenario_hash != a->model.scenario_hash);
  CHECK(heavier->canonical_text != a->canonical_text);

  // The canonical text parses back to the same scenario.
  const auto again = ParseScenario(a->canonical_text, "e.pbtxt", library);
  REQUIRE(again);
  CHECK(again->model.scenario_hash == a->model.scenario_hash);
  CHECK(again->canonical_text == a->canonical_text);
}

TEST_CASE("unset settings keep the simulator's defaults", "[scenarios]") {
  AssetLibrary library{AssetResolver()};
  const auto s = ParseScenario(R"(name: "minimal"
objects { name: "ball" sphere { radius: 0.1 } }
objects { name: "block" box { size { x: 1 y: 2 z: 3 } } pose { quaternion { w: 0 x: 0 y: 0 z: 2 } } }
environment { ground_plane: false }
)",
                               "minimal.pbtxt", library);
  REQUIRE(s);
  const pf::sim::PhysicsConfig defaults;
  CHECK(s->model.physics.timestep == defaults.timestep);
  CHECK(s->model.physics.gravity == defaults.gravity);
  CHECK(s->model.physics.collision_margin == defaults.collision_margin);
  CHECK_FALSE(s->model.ground_plane);
  const auto& ball = s->model.objects[0];
  CHECK(ball.mass == pf::sim::ObjectSpec{}.mass);
  CHECK(ball.friction < 0);
  CHECK(ball.restitution < 0);
  CHECK(ball.semantic_class == 0);
  CHECK(ball.colour == pf::sim::ObjectSpec{}.colour);
  // (w, x, y, z) = (0, 0, 0, 2): normalised, a half turn about z.
  const auto& block = s->model.objects[1];
  CHECK(block.X_WO.linear().isApprox(pf::core::AngleAxis(M_PI, pf::core::Vec3::UnitZ()).toRotationMatrix()));
}

TEST_CASE("robots: gains, modes and URDFs beside the scenario", "[scenarios]") {
  pf::testing::TempDir dir;
  dir.Write("robots/two_link.urdf", R"(<robot name="two_link">
  <link name="base"/>
  <joint name="hinge" type="revolute">
    <parent link="base"/><child link="arm"/><axis xyz="0 0 1"/>
    <limit lower="-1" upper="1" effort="5" velocity="1"/>
  </joint>
  <link name="arm"><inertial><mass value="1"/><inertia ixx="0.01" iyy="0.01" izz="0.01" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <joint name="slide" type="prismatic">
    <parent link="arm"/><child link="tip"/><axis xyz="1 0 0"/>
    <limit lower="0.1" upper="0.2" effort="5" velocity="1"/>
  </joint>
  <link name="tip"><inertial><mass value="0.5"/><inertia ixx="0.01" iyy="0.01" izz="0.01" ixy="0" ixz="0" iyz="0"/></inertial></link>
</robot>
)");
  const auto path = dir.Write("scenes/../scene.pbtxt", R"(name: "two"
robots {
  name: "a"
  urdf: "robots/two_link.urdf"
  base_pose { position { x: 1 } rpy { z: 1.5707963267948966 } }
  fixed_base: false
  initial_joint_positions { key: "hinge" value: 0.5 }
  gains { joint: "slide" kp: 100 kd: 10 }
  gains { joint: "hinge" kp: 50 kd: 5 max_effort: 3 }
  control_mode: JOINT_TORQUE
  self_collision: true
  lateral_friction: 0.5
}
robots { name: "b" urdf: "robots/two_link.urdf" fixed_base: false }
)");
  AssetLibrary library{AssetResolver()};
  const auto s = LoadScenario(path.string(), library);
  REQUIRE(s);
  REQUIRE(s->model.robots.size() == 2);
  const auto& a = s->model.robots[0];
  CHECK_FALSE(a.fixed_base);
  CHECK(a.control_mode == pf::sim::ControlMode::kJointTorque);
  CHECK(a.self_collision);
  CHECK(a.lateral_friction == 0.5);
  CHECK(a.X_WB.translation().isApprox(pf::core::Vec3(1, 0, 0)));
  CHECK(a.X_WB.linear().isApprox(pf::core::AngleAxis(M_PI / 2, pf::core::Vec3::UnitZ()).toRotationMatrix()));
  // Unlisted joints start at 0 clamped into their limits.
  CHECK(a.initial_positions == std::vector<double>{0.5, 0.1});
  REQUIRE(a.gains.size() == 2);
  CHECK(a.gains[0].kp == 50);
  CHECK(a.gains[0].max_effort == 3);
  CHECK(a.gains[1].kd == 10);
  // The same URDF is imported once.
  CHECK(s->model.robots[1].robot == a.robot);
  CHECK(s->model.robots[1].initial_positions.empty());
}

TEST_CASE("objects from single-link URDFs", "[scenarios]") {
  pf::testing::TempDir dir;
  dir.Write("crate.urdf", R"(<robot name="crate"><link name="crate">
  <inertial><mass value="2.5"/><inertia ixx="0.1" iyy="0.1" izz="0.1" ixy="0" ixz="0" iyz="0"/></inertial>
  <collision><geometry><box size="0.3 0.3 0.3"/></geometry></collision>
</link></robot>
)");
  const auto path = dir.Write("scene.pbtxt", R"(
objects { name: "c1" urdf: "crate.urdf" semantic_class: "crate" }
objects { name: "c2" urdf: "crate.urdf" mass: 0 semantic_class: "crate" }
objects { name: "c3" urdf: "crate.urdf" mass: 1 }
)");
  AssetLibrary library{AssetResolver()};
  const auto s = LoadScenario(path.string(), library);
  REQUIRE(s);
  REQUIRE(s->model.objects.size() == 3);
  CHECK(s->model.objects[0].shape == pf::sim::ObjectShape::kUrdf);
  CHECK(s->model.objects[0].mass == 2.5);
  CHECK(s->model.objects[1].mass == 0.0);
  CHECK(s->model.objects[1].urdf->fixed_base);
  CHECK_FALSE(s->model.objects[0].urdf->fixed_base);
  CHECK(s->model.objects[2].mass == 1.0);
  CHECK(s->model.objects[2].urdf == s->model.objects[0].urdf);
  CHECK(s->model.objects[0].semantic_class == 1);
  CHECK(s->model.objects[1].semantic_class == 1);
  CHECK(s->model.objects[2].semantic_class == 0);
}

namespace {

struct BadCase {
  const char* name;
  const char* text;
  int line;
  int column;
  const char* message;  // a part of the message; "@DIR@" stands for the scenario's folder
  const char* field;    // the field path, nullptr = not checked
};

const BadCase kBadCases[] = {
    {"unknown field", "name: \"x\"\nphysics {\n  timestep: 0.01\n  time_step: 0.01\n}\n", 4, 3,
     "has no field named \"time_step\"", nullptr},
    {"unknown field in a robot", "robots {\n  name: \"r\"\n  urdf: \"builtin://parafab_arm\" colour: 1\n}\n", 3, 33,
     "has no field named \"colour\"", nullptr},
    {"wrong type", "physics {\n  timestep: \"fast\"\n}\n", 2, 13, "Expected double", nullptr},
    {"wrong type for an integer", "physics { control_substeps: 2.5 }\n", 1, 29, "Expected integer", nullptr},
    {"syntax error", "name: \"x\"\nobjects {\n  name: \"a\" }\n}\n", 4, 1, "Expected identifier", nullptr},
    {"unterminated message", "objects {\n  name: \"a\"\n", 3, 1, "end of file", nullptr},
    {"unknown enum value", "robots {\n  control_mode: JOINT_FORCE\n}\n", 2, 17, "JOINT_FORCE", nullptr},
    {"a field twice", "physics {\n  timestep: 0.01\n  timestep: 0.02\n}\n", 3, 3, "specified multiple times", nullptr},
    {"two shapes", "objects { name: \"a\" box { } sphere { radius: 1 } }\n", 1, 29, "another member of oneof", nullptr},
    {"tabs count as one column", "physics {\n\t\ttimestep: 0.5\n}\n", 2, 3, "timestep must be in (0, 0.1]",
     "physics.timestep"},
    {"columns count bytes", "name: \"\xc3\xa9\" physics { timestep: 1 }\n", 1, 22, "timestep must be in", nullptr},
    {"timestep out of range", "physics {\n  timestep: 0.5\n}\n", 2, 3, "timestep must be in (0, 0.1] s, got 0.5",
     "physics.timestep"},
    {"zero timestep", "physics { timestep: 0 }\n", 1, 11, "timestep must be in (0, 0.1]", "physics.timestep"},
    {"too many substeps", "physics {\n  control_substeps: 1001\n}\n", 2, 3, "control_substeps must be in [1, 1000]",
     "physics.control_substeps"},
    {"no substeps", "physics {\n  control_substeps: 0\n}\n", 2, 3, "control_substeps", "physics.control_substeps"},
    {"no solver iterations", "physics {\n  solver_iterations: 0\n}\n", 2, 3, "solver_iterations must be >= 1",
     "physics.solver_iterations"},
    {"negative default friction", "physics {\n  default_friction: -0.1\n}\n", 2, 3, "default_friction must be >= 0",
     "physics.default_friction"},
    {"invalid UTF-8", "objects {\n  name: \"a\\377b\"\n}\n", 2, 3, "name is not valid UTF-8", "objects[0].name"},
    {"nan", "physics {\n  gravity { z: nan }\n}\n", 2, 13, "must be a finite number", "physics.gravity.z"},
    {"infinity", "objects {\n  name: \"a\"\n  sphere { radius: inf }\n}\n", 3, 12, "radius must be a finite number",
     "objects[a].sphere.radius"},
    {"negative mass", "objects {\n  name: \"cube\"\n  box { size { x: 0.05 y: 0.05 z: 0.05 } }\n  mass: -1\n}\n", 4, 3,
     "mass must be >= 0 kg, got -1", "objects[cube].mass"},
    {"restitution above 1", "objects {\n  name: \"cube\"\n  box { size { x: 0.05 y: 0.05 z: 0.05 } }\n  restitution: 1.5\n}\n",
     4, 3, "restitution must be in [0, 1], got 1.5", "objects[cube].restitution"},
    {"negative friction", "objects {\n  name: \"c\"\n  sphere { radius: 0.1 }\n  friction: -0.5\n}\n", 4, 3,
     "friction must be >= 0", "objects[c].friction"},
    {"zero box size", "objects {\n  name: \"c\"\n  box { size { x: 0.1 y: 0 z: 0.1 } }\n}\n", 3, 23, "y must be > 0 m",
     "objects[c].box.size.y"},
    {"box without size", "objects {\n  name: \"c\"\n  box { }\n}\n", 3, 3, "x must be > 0 m", "objects[c].box.size.x"},
    {"negative radius", "objects {\n  name: \"s\"\n  sphere { radius: -0.1 }\n}\n", 3, 12, "radius must be > 0",
     "objects[s].sphere.radius"},
    {"cylinder without length", "objects {\n  name: \"c\"\n  cylinder {\n    radius: 0.1\n  }\n}\n", 3, 3,
     "length must be > 0", "objects[c].cylinder.length"},
    {"colour out of range", "objects {\n  name: \"c\"\n  sphere { radius: 0.1 }\n  color { r: 1 g: 2 b: 0 }\n}\n", 4, 16,
     "g must be in [0, 1], got 2", "objects[c].color.g"},
    {"zero quaternion", "objects {\n  name: \"c\"\n  sphere { radius: 0.1 }\n  pose { quaternion { } }\n}\n", 4, 10,
     "quaternion (w, x, y, z) must not be zero", "objects[c].pose.quaternion"},
    {"an object with no shape", "objects {\n  name: \"ghost\"\n  mass: 1\n}\n", 1, 1, "'ghost' has no shape",
     "objects[ghost]"},
    {"an object with no name", "name: \"x\"\nobjects { sphere { radius: 1 } }\n", 2, 1, "object name is empty",
     "objects[0]"},
    {"duplicate object names",
     "objects {\n  name: \"cube\"\n  sphere { radius: 0.1 }\n}\nobjects {\n  name: \"cube\"\n  sphere { radius: 0.1 }\n}\n", 6,
     3, "duplicate name 'cube': already used at line 2", "objects[cube].name"},
    {"a robot and an object of the same name",
     "robots { name: \"arm\" urdf: \"builtin://parafab_arm\" }\nobjects { name: \"arm\" sphere { radius: 0.1 } }\n", 2, 11,
     "duplicate name 'arm'", "objects[arm].name"},
    {"empty urdf", "robots {\n  name: \"r\"\n  urdf: \"\"\n}\n", 3, 3, "needs a urdf", "robots[r].urdf"},
    {"no urdf", "robots {\n  name: \"r\"\n}\n", 1, 1, "needs a urdf", "robots[r].urdf"},
    {"empty object urdf", "objects {\n  name: \"o\"\n  urdf: \"\"\n}\n", 3, 3, "empty urdf", "objects[o].urdf"},
    {"unknown joint name",
     "robots {\n  name: \"arm\"\n  urdf: \"builtin://parafab_arm\"\n  initial_joint_positions { key: \"joint9\" value: 0 }\n}\n",
     4, 29, "unknown joint 'joint9' in robot 'arm' (actuated joints: joint1,",
     "robots[arm].initial_joint_positions[joint9].key"},
    {"a mimic joint",
     "robots {\n  name: \"arm\"\n  urdf: \"builtin://parafab_arm\"\n  initial_joint_positions { key: \"finger_right_joint\" value: 0 }\n}\n",
     4, 29, "mimics 'finger_left_joint'", nullptr},
    {"a fixed joint", "robots {\n  name: \"arm\"\n  urdf: \"builtin://parafab_arm\"\n  gains { joint: \"tcp_joint\" kp: 1 }\n}\n",
     4, 11, "joint 'tcp_joint' of robot 'arm' is fixed", "robots[arm].gains[tcp_joint].joint"},
    {"initial position outside limits",
     "robots {\n  name: \"arm\"\n  urdf: \"builtin://parafab_arm\"\n  initial_joint_positions { key: \"joint4\" value: 0.5 }\n}\n",
     4, 43, "initial position 0.5 of joint 'joint4' is outside its limits [-3, 0.1]",
     "robots[arm].initial_joint_positions[joint4].value"},
    {"an initial position twice",
     "robots {\n  name: \"arm\"\n  urdf: \"builtin://parafab_arm\"\n  initial_joint_positions { key: \"joint1\" value: 0 }\n"
     "  initial_joint_positions { key: \"joint1\" value: 1 }\n}\n",
     5, 29, "twice", nullptr},
    {"negative kd", "robots {\n  name: \"arm\"\n  urdf: \"builtin://parafab_arm\"\n  gains { joint: \"joint1\" kp: 1 kd: -2 }\n}\n",
     4, 33, "kd must be >= 0, got -2", "robots[arm].gains[joint1].kd"},
    {"negative kp", "robots {\n  name: \"arm\"\n  urdf: \"builtin://parafab_arm\"\n  gains { joint: \"joint1\" kp: -1 }\n}\n",
     4, 27, "kp must be >= 0", "robots[arm].gains[joint1].kp"},
    {"gains for some joints only",
     "robots {\n  name: \"arm\"\n  urdf: \"builtin://parafab_arm\"\n  gains { joint: \"joint1\" kp: 1 }\n}\n", 4, 3,
     "missing: joint2, joint3", nullptr},
    {"unknown control mode number", "robots {\n  name: \"arm\"\n  urdf: \"builtin://parafab_arm\"\n  control_mode: 7\n}\n", 4,
     3, "unknown control_mode 7", "robots[arm].control_mode"},
    {"unknown end-effector link",
     "robots {\n  name: \"arm\"\n  urdf: \"builtin://parafab_arm\"\n  end_effector_link: \"gripper\"\n}\n", 4, 3,
     "unknown end_effector_link 'gripper'", "robots[arm].end_effector_link"},
    {"unknown built-in robot", "robots {\n  name: \"arm\"\n  urdf: \"builtin://ur5\"\n}\n", 3, 3,
     "unknown built-in robot 'ur5'", "robots[arm].urdf"},
    {"missing URDF file", "robots {\n  name: \"arm\"\n  urdf: \"robots/missing.urdf\"\n}\n", 3, 3,
     "file not found: 'robots/missing.urdf' resolved to @DIR@/robots/missing.urdf", "robots[arm].urdf"},
    {"URDF path escaping the roots", "objects {\n  name: \"o\"\n  urdf: \"../../etc/passwd\"\n}\n", 3, 3,
     "outside the asset roots", "objects[o].urdf"},
    {"an absolute URDF path outside the roots", "robots { name: \"r\" urdf: \"/etc/passwd\" }\n", 1, 20,
     "outside the asset roots", "robots[r].urdf"},
    {"a broken URDF", "robots {\n  name: \"r\"\n  urdf: \"broken.urdf\"\n}\n", 3, 3,
     "cannot import URDF 'broken.urdf': @DIR@/broken.urdf:", "robots[r].urdf"},
    {"a multi-link object URDF", "objects {\n  name: \"o\"\n  urdf: \"builtin://parafab_arm\"\n}\n", 3, 3,
     "its URDF has 12 links", "objects[o].urdf"},
};

}  // namespace

TEST_CASE("bad scenarios fail with file, line, column and field", "[scenarios]") {
  pf::testing::TempDir dir;
  dir.Write("broken.urdf", "<robot name=\"b\">\n  <link name=\"a\"/>\n  <link name=\"a\"/>\n</robot>\n");
  AssetLibrary library{AssetResolver()};
  for (const BadCase& c : kBadCases) {
    SECTION(c.name) {
      const auto path = dir.Write("bad.pbtxt", c.text);
      const auto result = LoadScenario(path.string(), library);
      REQUIRE_FALSE(result);
      const pf::core::Error& e = result.error();
      INFO(e.ToString());
      CHECK(e.where.file == path.string());
      CHECK(e.where.line == c.line);
      CHECK(e.where.column == c.column);
      std::string expected = c.message;
      if (const auto at = expected.find("@DIR@"); at != std::string::npos)
        expected.replace(at, 5, dir.path().string());
      CHECK(e.message.find(expected) != std::string::npos);
      if (c.field != nullptr) CHECK(e.where.field == c.field);
    }
  }
}

TEST_CASE("loading errors without a position", "[scenarios]") {
  AssetLibrary library{AssetResolver()};
  const auto unknown = LoadScenario("builtin://nope", library);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.find("unknown built-in scenario 'nope' (built-in: bin_pick, default") != std::string::npos);
  const auto missing = LoadScenario("/nonexistent/scene.pbtxt", library);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().where.file == "/nonexistent/scene.pbtxt");
  CHECK(missing.error().message.find("not found") != std::string::npos);
  // Built-in scenarios may use built-in URDFs only (they have no folder of their own).
  const auto refused = ParseScenario("robots { name: \"r\" urdf: \"robot.urdf\" }\n", "builtin://test", library);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().where.file == "builtin://test");
  CHECK(refused.error().where.line == 1);
  CHECK(refused.error().where.column == 20);
  CHECK(refused.error().message.find("built-in URDFs") != std::string::npos);
}

TEST_CASE("a Panda scenario from the shared assets", "[scenarios][shared]") {
  const auto root = pf::testing::RequireSharedAssets();
  pf::testing::TempDir dir;
  const auto path = dir.Write("panda.pbtxt", R"(name: "panda"
robots {
  name: "panda"
  urdf: "franka_panda/panda.urdf"
  initial_joint_positions { key: "panda_joint4" value: -2.0 }
  initial_joint_positions { key: "panda_finger_joint1" value: 0.04 }
}
objects { name: "duck" urdf: "objects/duck_vhacd.urdf" semantic_class: "duck" }
)");
  // Outside the scenario's folder: found through a configured root only.
  {
    AssetLibrary no_roots{AssetResolver()};
    const auto refused = LoadScenario(path.string(), no_roots);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().where.line == 4);
    CHECK(refused.error().where.column == 3);
    CHECK(refused.error().message.find("file not found") != std::string::npos);
  }
  AssetLibrary library{AssetResolver({root})};
  const auto s = LoadScenario(path.string(), library);
  REQUIRE(s);
  const auto& panda = s->model.robots[0];
  CHECK(panda.robot->desc.NumDofs() == 9);
  CHECK(panda.robot->desc.NumIndependentDofs() == 8);
  REQUIRE(panda.initial_positions.size() == 8);
  CHECK(panda.initial_positions[3] == -2.0);
  CHECK(panda.initial_positions[7] == 0.04);
  CHECK(s->model.objects[0].shape == pf::sim::ObjectShape::kUrdf);
  CHECK(s->model.objects[0].semantic_class == 1);
}
