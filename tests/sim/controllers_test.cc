#include <catch2/catch.hpp>

#include <array>
#include <cmath>

#include "pf/sim/controllers.h"
#include "sim/scenes.h"

namespace pf::sim {
namespace {

TEST_CASE("end-effector delta IK moves the tool by the commanded offset", "[sim][control][ik]") {
  auto model = Model::Compile(pf::testing::ArmWithBoxes(0));
  REQUIRE(model);
  auto created = BatchSim::Create(*model, {1, 1, 64});
  REQUIRE(created);
  BatchSim& sim = **created;
  for (int t = 0; t < 30; ++t) sim.Step();
  const core::Pose start = EndEffectorPose(sim, 0, 0);
  // 6 cm along +x and 4 cm down, in 2 mm / 1.33 mm increments, orientation held.
  const core::Vec3 goal = start.translation() + core::Vec3(0.06, 0.0, -0.04);
  for (int t = 0; t < 240; ++t) {
    const core::Pose now = EndEffectorPose(sim, 0, 0);
    core::Vec3 dp = goal - now.translation();
    if (dp.norm() > 0.003) dp *= 0.003 / dp.norm();
    const core::AngleAxis rotation(core::Quat(start.rotation() * now.rotation().transpose()));
    const core::Vec3 dr = rotation.angle() * rotation.axis();
    const std::array<double, 6> delta{dp.x(), dp.y(), dp.z(), dr.x(), dr.y(), dr.z()};
    EndEffectorDeltaToJointTargets(sim, 0, 0, delta, sim.actions());
    sim.Step();
  }
  const core::Pose end = EndEffectorPose(sim, 0, 0);
  CHECK((end.translation() - goal).norm() < 2e-3);
  CHECK(core::AngleAxis(core::Quat(end.rotation() * start.rotation().transpose())).angle() < 0.02);
  // The gripper target was left alone.
  CHECK(sim.actions()[7] == Approx(0.04));
}

}  // namespace
}  // namespace pf::sim
