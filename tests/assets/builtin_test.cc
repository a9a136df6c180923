#include <catch2/catch.hpp>

#include <Eigen/Eigenvalues>

#include "pf/assets/builtin.h"
#include "pf/assets/library.h"
#include "support/test_support.h"

namespace pf::assets {
namespace {

TEST_CASE("the built-in arm is compiled from assets/builtin/parafab_arm.urdf", "[assets][builtin]") {
  const auto text = BuiltinUrdf("parafab_arm");
  REQUIRE(text);
  CHECK(*text == pf::testing::ReadFile(pf::testing::SourceDir() / "assets/builtin/parafab_arm.urdf"));
  CHECK_FALSE(BuiltinUrdf("unknown"));
}

TEST_CASE("the built-in arm: 7 revolute joints, a mimic gripper, physical inertias", "[assets][builtin]") {
  AssetLibrary library{AssetResolver()};
  const auto robot = ImportRobot("builtin://parafab_arm", library);
  REQUIRE(robot);
  CHECK(robot->warnings.empty());
  const RobotDesc& d = robot->desc;
  CHECK(d.name == "parafab_arm");
  CHECK(d.num_links() == 12);
  CHECK(d.num_joints() == 11);
  CHECK(d.NumJointsOfType(JointType::kRevolute) == 7);
  CHECK(d.NumJointsOfType(JointType::kPrismatic) == 2);
  CHECK(d.NumJointsOfType(JointType::kFixed) == 2);
  CHECK(d.NumDofs() == 9);
  CHECK(d.NumIndependentDofs() == 8);
  CHECK(d.TotalMass() == Approx(18.5));
  CHECK(robot->NumMeshFiles() == 0);
  CHECK(robot->fixed_base == false);  // the scenario welds it; the URDF gives the base a mass
  for (const auto& joint : d.joints) {
    INFO(joint.name);
    if (joint.type == JointType::kFixed) continue;
    REQUIRE(joint.limits);
    CHECK(joint.limits->effort > 0.0);
    CHECK(joint.limits->velocity > 0.0);
    CHECK(joint.damping > 0.0);
  }
  for (const auto& link : d.links) {
    INFO(link.name);
    if (!link.inertial) continue;
    const Eigen::SelfAdjointEigenSolver<core::Mat3> s(link.inertial->I_I);
    const core::Vec3 ev = s.eigenvalues();
    CHECK(ev.minCoeff() > 0.0);
    CHECK(ev[0] + ev[1] >= ev[2]);
    CHECK(link.visuals.size() >= 1);
    CHECK(link.collisions.size() >= 1);
  }
}

TEST_CASE("the built-in arm's tool frame at the home pose", "[assets][builtin]") {
  AssetLibrary library{AssetResolver()};
  const auto robot = ImportRobot("builtin://parafab_arm", library);
  REQUIRE(robot);
  const RobotDesc& d = robot->desc;
  std::vector<double> q(d.joints.size(), 0.0);
  const double home[7] = {0, -0.3, 0, -2.2, 0, 2.0, 0.78};
  for (int i = 0; i < 7; ++i) q[static_cast<std::size_t>(d.FindJoint("joint" + std::to_string(i + 1)))] = home[i];
  const auto X = d.ForwardKinematics(q);
  const core::Pose& X_WT = X[static_cast<std::size_t>(d.FindLink("tcp"))];
  // Independent figures from a Python evaluation of the same URDF chain.
  CHECK((X_WT.translation() - core::Vec3(0.521, 0.0, 0.427)).norm() < 2e-3);
  // The tool's +z (approach) points down, within 0.15 rad.
  CHECK(X_WT.rotation().col(2).dot(-core::Vec3::UnitZ()) > std::cos(0.15));
}

}  // namespace
}  // namespace pf::assets
