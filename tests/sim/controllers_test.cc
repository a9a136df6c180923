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

namespace pf::sim {
namespace {

TEST_CASE("the wrist wrench carries the weight of a part held between the fingers", "[sim][sensors]") {
  sim::ModelSpec spec = pf::testing::ArmWithBoxes(0);
  // A 0.1 kg, 3 cm cube between the fingers (centred on the tool point), the fingers
  // starting just inside its faces so they hold it from the first step.
  spec.robots[0].initial_positions[7] = 0.0145;
  auto probe_model = Model::Compile(spec);
  REQUIRE(probe_model);
  auto probe = BatchSim::Create(*probe_model, {1, 1, 64});
  REQUIRE(probe);
  const core::Pose X_WT = EndEffectorPose(**probe, 0, 0);
  sim::ObjectSpec part;
  part.name = "part";
  part.size = core::Vec3::Constant(0.03);
  part.mass = 0.1;
  part.friction = 1.0;
  part.X_WO = core::MakePose(X_WT.translation(), core::Quat(X_WT.rotation()));
  spec.objects.push_back(part);
  auto model = Model::Compile(spec);
  REQUIRE(model);
  auto created = BatchSim::Create(*model, {1, 1, 64});
  REQUIRE(created);
  BatchSim& sim = **created;
  // Squeeze the part: a closing target past the part's faces; the PD gain times the
  // remaining gap sets the grip force (capped by the finger's effort limit).
  sim.actions()[7] = -0.1;
  for (int t = 0; t < 120; ++t) sim.Step();
  const double* part_pose = sim.body_poses().data() + 7 * (*model)->object_body(2);
  CHECK(std::abs(part_pose[2] - X_WT.translation().z()) < 0.01);  // held, not dropped
  // Averaged over a few steps, the contacts on the hand carry the part's weight.
  double fz = 0.0;
  for (int t = 0; t < 30; ++t) {
    sim.Step();
    fz += sim.end_effector_wrenches()[2] / 30.0;
  }
  CHECK(fz == Approx(-0.1 * 9.81).epsilon(0.05));
}

}  // namespace
}  // namespace pf::sim
