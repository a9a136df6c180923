#include <catch2/catch.hpp>

#include <numbers>

#include "pf/assets/library.h"
#include "pf/assets/urdf.h"
#include "support/test_support.h"

namespace pf::assets {
namespace {

using pf::testing::TempDir;

// Links are written child-first on purpose: the importer puts them in tree order.
constexpr const char* kRobot = R"(<?xml version="1.0"?>
<robot name="demo">
  <material name="blue"><color rgba="0 0 1 1"/></material>
  <link name="tip">
    <inertial><origin xyz="0 0 0.05"/><mass value="0.5"/>
      <inertia ixx="0.001" ixy="0" ixz="0" iyy="0.001" iyz="0" izz="0.0005"/></inertial>
    <visual><geometry><sphere radius="0.02"/></geometry><material name="blue"/></visual>
    <collision><geometry><capsule radius="0.01" length="0.1"/></geometry></collision>
  </link>
  <link name="base">
    <inertial><mass value="2"/><inertia ixx="0.1" iyy="0.1" izz="0.1"/></inertial>
    <visual name="body"><origin xyz="0 0 0.1" rpy="0 0 1.5707963267948966"/>
      <geometry><box size="0.2 0.3 0.4"/></geometry>
      <material name="local"><color rgba="1 0.5 0 1"/></material></visual>
    <collision><geometry><cylinder radius="0.1" length="0.2"/></geometry></collision>
    <contact><lateral_friction value="0.8"/><restitution value="0.1"/></contact>
  </link>
  <link name="arm">
    <inertial><mass value="1"/><inertia ixx="0.01" iyy="0.01" izz="0.01"/></inertial>
  </link>
  <link name="slider"/>
  <link name="free"/>
  <link name="flat"/>
  <link name="wheel"/>
  <link name="finger"/>
  <joint name="j_tip" type="fixed"><parent link="arm"/><child link="tip"/><origin xyz="0 0 0.3"/></joint>
  <joint name="j_arm" type="revolute"><parent link="base"/><child link="arm"/>
    <origin xyz="0 0 0.2" rpy="0 0 0"/><axis xyz="0 0 2"/>
    <limit lower="-1.5" upper="1.5" effort="10" velocity="2"/><dynamics damping="0.3" friction="0.1"/></joint>
  <joint name="j_slide" type="prismatic"><parent link="base"/><child link="slider"/><axis xyz="1 0 0"/>
    <limit lower="0" upper="0.2" effort="50" velocity="0.1"/></joint>
  <joint name="j_finger" type="prismatic"><parent link="base"/><child link="finger"/><axis xyz="-1 0 0"/>
    <limit lower="0" upper="0.2" effort="50" velocity="0.1"/><mimic joint="j_slide" multiplier="1" offset="0"/></joint>
  <joint name="j_free" type="floating"><parent link="base"/><child link="free"/></joint>
  <joint name="j_flat" type="planar"><parent link="base"/><child link="flat"/><axis xyz="0 0 1"/></joint>
  <joint name="j_wheel" type="continuous"><parent link="base"/><child link="wheel"/><axis xyz="0 1 0"/></joint>
  <transmission name="ignored"><joint name="j_arm"/></transmission>
  <gazebo reference="base"><material>Gazebo/Blue</material></gazebo>
</robot>
)";

TEST_CASE("a URDF with every joint type parses into tree order", "[assets][urdf]") {
  TempDir dir;
  const auto path = dir.Write("demo.urdf", kRobot);
  Warnings warnings;
  const auto robot = LoadUrdf(path, AssetResolver(), &warnings);
  REQUIRE(robot);
  CHECK(warnings.empty());
  CHECK(robot->name == "demo");
  REQUIRE(robot->num_links() == 8);
  REQUIRE(robot->num_joints() == 7);
  CHECK(robot->links[0].name == "base");
  for (int l = 1; l < robot->num_links(); ++l) {
    const JointDesc& j = robot->joints[static_cast<std::size_t>(l - 1)];
    CHECK(j.child_link == l);
    CHECK(j.parent_link < l);
    CHECK(robot->links[static_cast<std::size_t>(l)].parent_joint == l - 1);
  }
  CHECK(robot->NumDofs() == 1 + 1 + 1 + 6 + 3 + 1);
  CHECK(robot->NumIndependentDofs() == robot->NumDofs() - 1);
  CHECK(robot->NumJointsOfType(JointType::kPrismatic) == 2);
  CHECK(robot->TotalMass() == Approx(3.5));

  const JointDesc& arm = robot->joints[static_cast<std::size_t>(robot->FindJoint("j_arm"))];
  CHECK(arm.type == JointType::kRevolute);
  CHECK(arm.axis == core::Vec3::UnitZ());  // normalised
  REQUIRE(arm.limits);
  CHECK(arm.limits->lower == -1.5);
  CHECK(arm.limits->effort == 10);
  CHECK(arm.damping == 0.3);
  CHECK(arm.friction == 0.1);
  CHECK(arm.line == 27);
  const JointDesc& finger = robot->joints[static_cast<std::size_t>(robot->FindJoint("j_finger"))];
  REQUIRE(finger.mimic);
  CHECK(finger.mimic->joint_index == robot->FindJoint("j_slide"));

  const LinkDesc& base = robot->links[0];
  REQUIRE(base.visuals.size() == 1);
  CHECK(base.visuals[0].name == "body");
  CHECK(base.visuals[0].geometry.size == core::Vec3(0.2, 0.3, 0.4));
  CHECK((base.visuals[0].X_LG.rotation() * core::Vec3::UnitX() - core::Vec3::UnitY()).norm() < 1e-12);
  REQUIRE(base.visuals[0].material >= 0);
  CHECK(robot->materials[static_cast<std::size_t>(base.visuals[0].material)].rgba == core::Vec4(1, 0.5, 0, 1));
  CHECK(base.collisions[0].geometry.type == GeometryType::kCylinder);
  REQUIRE(base.contact);
  CHECK(base.contact->lateral_friction == 0.8);
  CHECK(base.contact->restitution == 0.1);
  const LinkDesc& tip = robot->links[static_cast<std::size_t>(robot->FindLink("tip"))];
  CHECK(robot->materials[static_cast<std::size_t>(tip.visuals[0].material)].name == "blue");
  CHECK(tip.collisions[0].geometry.type == GeometryType::kCapsule);
  CHECK(tip.inertial->X_LI.translation().z() == 0.05);
}

TEST_CASE("forward kinematics follows the joint chain", "[assets][urdf]") {
  TempDir dir;
  const auto robot = LoadUrdf(dir.Write("demo.urdf", kRobot), AssetResolver());
  REQUIRE(robot);
  std::vector<double> q(robot->joints.size(), 0.0);
  q[static_cast<std::size_t>(robot->FindJoint("j_arm"))] = std::numbers::pi / 2;
  q[static_cast<std::size_t>(robot->FindJoint("j_slide"))] = 0.1;
  const auto X = robot->ForwardKinematics(q);
  const auto tip = static_cast<std::size_t>(robot->FindLink("tip"));
  CHECK((X[tip].translation() - core::Vec3(0, 0, 0.5)).norm() < 1e-15);
  CHECK((X[static_cast<std::size_t>(robot->FindLink("slider"))].translation() - core::Vec3(0.1, 0, 0)).norm() < 1e-15);
  CHECK((X[static_cast<std::size_t>(robot->FindLink("arm"))].rotation() * core::Vec3::UnitX() - core::Vec3::UnitY()).norm() < 1e-15);
}

TEST_CASE("a fixed base makes links welded to it static, their meshes stay triangle meshes", "[assets][urdf]") {
  TempDir dir;
  dir.Write("m/box.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\nv 1 1 1\nv 0 1 1\n"
                         "f 1 4 3 2\nf 5 6 7 8\nf 1 2 6 5\nf 3 4 8 7\nf 1 5 8 4\nf 2 3 7 6\n");
  const auto path = dir.Write("r.urdf", R"(<robot name="r">
  <link name="a"><collision><geometry><mesh filename="package://m/box.obj" scale="0.5"/></geometry></collision></link>
  <link name="b"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1"/></inertial>
    <collision><geometry><mesh filename="m/box.obj"/></geometry></collision></link>
  <joint name="j" type="revolute"><parent link="a"/><child link="b"/><limit lower="-1" upper="1"/></joint>
</robot>)");
  AssetLibrary library{AssetResolver()};
  const auto robot = ImportRobot(path.string(), library);
  REQUIRE(robot);
  CHECK(robot->fixed_base);  // massless root
  CHECK(robot->link_is_static == std::vector<bool>{true, false});
  CHECK(robot->collision_meshes[0][0]->kind == CollisionMeshKind::kTriangleMesh);
  CHECK(robot->collision_meshes[1][0]->kind == CollisionMeshKind::kConvexHulls);
  CHECK(robot->collision_meshes[0][0]->scale == core::Vec3::Constant(0.5));
  CHECK(robot->NumMeshFiles() == 1);
  CHECK(library.num_meshes() == 1);
  ImportConfig floating;
  floating.fixed_base = false;
  const auto moving = ImportRobot(path.string(), library, floating);
  REQUIRE(moving);
  CHECK(moving->collision_meshes[0][0]->kind == CollisionMeshKind::kConvexHulls);
}

}  // namespace
}  // namespace pf::assets
