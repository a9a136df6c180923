#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "pf/core/rng.h"
#include "pf/sim/batch_sim.h"
#include "sim/scenes.h"

namespace pf::sim {
namespace {

std::shared_ptr<const Model> ArmModel(int boxes) {
  auto model = Model::Compile(pf::testing::ArmWithBoxes(boxes));
  if (!model) FAIL(model.error().ToString());
  return *model;
}

// Deterministic random position targets around the initial pose, per (global env, step).
void RandomEnvActions(BatchSim& sim, int e, int first_env, std::uint64_t step) {
  const Model& m = sim.model();
  core::CounterRng rng({0x5eed, 1, static_cast<std::uint64_t>(first_env + e), core::RngStream::kActions, step});
  for (int a = 0; a < m.num_actuated(); ++a) {
    const DofInfo& dof = m.dofs()[static_cast<std::size_t>(m.actuated()[static_cast<std::size_t>(a)])];
    double target = dof.initial_position + rng.Uniform(-0.3, 0.3);
    if (dof.has_limits) target = std::clamp(target, dof.lower, dof.upper);
    sim.actions()[static_cast<std::size_t>(e * m.num_actuated() + a)] = target;
  }
}

void RandomActions(BatchSim& sim, int first_env, std::uint64_t step) {
  for (int e = 0; e < sim.num_envs(); ++e) RandomEnvActions(sim, e, first_env, step);
}

std::vector<std::uint64_t> RunHashes(std::shared_ptr<const Model> model, int envs, int threads, int steps, int first_env = 0) {
  auto sim = BatchSim::Create(model, {envs, threads, 64});
  REQUIRE(sim);
  std::vector<std::uint64_t> hashes;  // per step, per env
  for (int t = 0; t < steps; ++t) {
    RandomActions(**sim, first_env, static_cast<std::uint64_t>(t));
    (*sim)->Step();
    for (int e = 0; e < envs; ++e) hashes.push_back((*sim)->EnvStateHash(e));
  }
  return hashes;
}

TEST_CASE("trajectories are bitwise identical for any thread count and batch size", "[sim][determinism]") {
  const auto model = ArmModel(5);
  const int steps = 40;
  const auto reference = RunHashes(model, 64, 1, steps);
  for (int threads : {2, 4}) {
    INFO("threads " << threads);
    CHECK(RunHashes(model, 64, threads, steps) == reference);
  }
  // Env i of the batch of 64 equals the same env run alone or in a batch of 7.
  for (int env : {0, 5, 63}) {
    INFO("env " << env);
    const auto alone = RunHashes(model, 1, 1, steps, env);
    for (int t = 0; t < steps; ++t) CHECK(alone[static_cast<std::size_t>(t)] == reference[static_cast<std::size_t>(t * 64 + env)]);
  }
  const auto seven = RunHashes(model, 7, 2, steps, 3);
  for (int t = 0; t < steps; ++t)
    for (int e = 0; e < 7; ++e)
      CHECK(seven[static_cast<std::size_t>(t * 7 + e)] == reference[static_cast<std::size_t>(t * 64 + 3 + e)]);
}

TEST_CASE("save, restore and replay reproduce a trajectory bit for bit", "[sim][determinism]") {
  const auto model = ArmModel(5);
  auto sim = BatchSim::Create(model, {2, 1, 64});
  REQUIRE(sim);
  BatchSim& s = **sim;
  for (int t = 0; t < 30; ++t) {
    RandomActions(s, 0, static_cast<std::uint64_t>(t));
    s.Step();
  }
  std::vector<double> saved(static_cast<std::size_t>(s.StateSize(kStateAll)));
  s.GetState(0, kStateAll, saved);
  std::vector<std::uint64_t> original;
  for (int t = 30; t < 70; ++t) {
    RandomActions(s, 0, static_cast<std::uint64_t>(t));
    s.Step();
    original.push_back(s.EnvStateHash(0));
  }
  for (int round = 0; round < 2; ++round) {
    s.SetState(0, kStateAll, saved);
    std::vector<double> again(saved.size());
    s.GetState(0, kStateAll, again);
    CHECK(std::memcmp(again.data(), saved.data(), saved.size() * sizeof(double)) == 0);
    std::vector<std::uint64_t> replay;
    for (int t = 30; t < 70; ++t) {
      RandomActions(s, 0, static_cast<std::uint64_t>(t));
      s.Step();
      replay.push_back(s.EnvStateHash(0));
    }
    CHECK(replay == original);
  }
  // Restoring into another env of the batch works the same.
  s.SetState(1, kStateAll, saved);
  for (int t = 30; t < 40; ++t) {
    RandomActions(s, 0, static_cast<std::uint64_t>(t));  // env 1 gets env 1's stream; copy env 0's
    for (int a = 0; a < model->num_actuated(); ++a)
      s.actions()[static_cast<std::size_t>(model->num_actuated() + a)] = s.actions()[static_cast<std::size_t>(a)];
    s.Step();
  }
  // After 10 steps env 1 holds what env 0 held at step 40 of the original run.
  CHECK(s.EnvStateHash(1) == original[9]);
}

TEST_CASE("resetting one env leaves the others untouched", "[sim][determinism]") {
  const auto model = ArmModel(3);
  auto a = BatchSim::Create(model, {3, 1, 64});
  auto b = BatchSim::Create(model, {3, 1, 64});
  REQUIRE(a);
  REQUIRE(b);
  for (int t = 0; t < 20; ++t) {
    RandomActions(**a, 0, static_cast<std::uint64_t>(t));
    RandomActions(**b, 0, static_cast<std::uint64_t>(t));
    (*a)->Step();
    (*b)->Step();
    if (t == 10) (*a)->ResetEnv(1);
  }
  CHECK((*a)->EnvStateHash(0) == (*b)->EnvStateHash(0));
  CHECK((*a)->EnvStateHash(2) == (*b)->EnvStateHash(2));
  CHECK((*a)->EnvStateHash(1) != (*b)->EnvStateHash(1));
  // A reset env equals a fresh one.
  (*a)->ResetEnv(1);
  auto fresh = BatchSim::Create(model, {1, 1, 64});
  CHECK((*a)->EnvStateHash(1) == (*fresh)->EnvStateHash(0));
}

TEST_CASE("Step's per-env hooks give the plain loop's trajectories on any thread count", "[sim][determinism]") {
  const auto model = ArmModel(3);
  const int envs = 12, steps = 30;
  const auto reference = RunHashes(model, envs, 1, steps);
  for (int threads : {1, 2, 4}) {
    INFO("threads " << threads);
    auto sim = BatchSim::Create(model, {envs, threads, 64});
    REQUIRE(sim);
    BatchSim& s = **sim;
    std::vector<std::uint64_t> hashes(reference.size(), 0);
    std::vector<int> before_calls(envs, 0), after_calls(envs, 0);  // each env's own entry only
    for (int t = 0; t < steps; ++t) {
      s.Step(
          [&](int e) {
            ++before_calls[static_cast<std::size_t>(e)];
            RandomEnvActions(s, e, 0, static_cast<std::uint64_t>(t));
          },
          [&](int e) {
            ++after_calls[static_cast<std::size_t>(e)];
            hashes[static_cast<std::size_t>(t * envs + e)] = s.EnvStateHash(e);
          });
    }
    CHECK(hashes == reference);
    CHECK(before_calls == std::vector<int>(envs, steps));
    CHECK(after_calls == std::vector<int>(envs, steps));
    std::vector<int> visits(envs, 0);
    s.ForEachEnv([&](int e) { ++visits[static_cast<std::size_t>(e)]; });
    CHECK(visits == std::vector<int>(envs, 1));
  }
}

TEST_CASE("a faulted env's after-hook sees it reset, as Step leaves it", "[sim][faults]") {
  const auto model = ArmModel(2);
  auto sim = BatchSim::Create(model, {3, 2, 64});
  REQUIRE(sim);
  BatchSim& s = **sim;
  s.Step();
  std::vector<double> state(static_cast<std::size_t>(s.StateSize(kStateJoints)));
  s.GetState(1, kStateJoints, state);
  state[static_cast<std::size_t>(model->num_dofs() + 2)] = std::nan("");  // a joint velocity
  s.SetState(1, kStateJoints, state);
  std::vector<std::uint64_t> seen(3, 0);
  std::vector<int> flagged(3, -1);
  s.Step({}, [&](int e) {
    seen[static_cast<std::size_t>(e)] = s.EnvStateHash(e);
    flagged[static_cast<std::size_t>(e)] = s.faulted()[static_cast<std::size_t>(e)];
  });
  CHECK(flagged == std::vector<int>{0, 1, 0});
  CHECK(s.fault_count() == 1);
  auto fresh = BatchSim::Create(model, {1, 1, 64});
  CHECK(seen[1] == (*fresh)->EnvStateHash(0));
  for (int e = 0; e < 3; ++e) CHECK(seen[static_cast<std::size_t>(e)] == s.EnvStateHash(e));
}

TEST_CASE("a NaN in one env flags and resets that env only", "[sim][faults]") {
  const auto model = ArmModel(2);
  auto sim = BatchSim::Create(model, {3, 2, 64});
  REQUIRE(sim);
  BatchSim& s = **sim;
  s.Step();
  const std::uint64_t other = s.EnvStateHash(2);
  std::vector<double> state(static_cast<std::size_t>(s.StateSize(kStateJoints)));
  s.GetState(1, kStateJoints, state);
  state[static_cast<std::size_t>(model->num_dofs() + 2)] = std::nan("");  // a joint velocity
  s.SetState(1, kStateJoints, state);
  auto reference = BatchSim::Create(model, {3, 1, 64});
  (*reference)->Step();
  (*reference)->Step();
  s.Step();
  CHECK(s.faulted()[1] == 1);
  CHECK(s.faulted()[0] == 0);
  CHECK(s.fault_count() == 1);
  CHECK(s.EnvStateHash(2) == (*reference)->EnvStateHash(2));
  CHECK(s.EnvStateHash(2) != other);
  auto fresh = BatchSim::Create(model, {1, 1, 64});
  CHECK(s.EnvStateHash(1) == (*fresh)->EnvStateHash(0));
  // Runaway velocity is a fault too.
  std::vector<double> objects(static_cast<std::size_t>(s.StateSize(kStateObjects)));
  s.GetState(0, kStateObjects, objects);
  objects[13 * 2 + 9] = 1e6;  // first box, v_z
  s.SetState(0, kStateObjects, objects);
  s.Step();
  CHECK(s.faulted()[0] == 1);
  CHECK(s.fault_count() == 2);
}

TEST_CASE("position control holds the home pose and respects torque limits", "[sim][control]") {
  const auto model = ArmModel(0);
  auto sim = BatchSim::Create(model, {1, 1, 64});
  REQUIRE(sim);
  BatchSim& s = **sim;
  for (int t = 0; t < 240; ++t) s.Step();  // 4 s
  for (int a = 0; a < model->num_actuated(); ++a) {
    const int d = model->actuated()[static_cast<std::size_t>(a)];
    INFO(model->dofs()[static_cast<std::size_t>(d)].name);
    CHECK(std::abs(s.joint_positions()[static_cast<std::size_t>(d)] - model->dofs()[static_cast<std::size_t>(d)].initial_position) < 2e-3);
  }
  // Far targets, switching every 0.25 s, saturate the drives: the torque of every physics
  // step (gravity compensation + drive + friction) stays within the effort limit plus the
  // joint's Coulomb friction, and reaches the limit. (The passive damping, a torque of its
  // own, is off here so that the bound is exact.)
  EnvParams no_damping;
  no_damping.joint_damping.assign(static_cast<std::size_t>(model->num_dofs()), 0.0);
  s.SetEnvParams(0, no_damping);
  s.ResetEnv(0);
  const int substeps = model->physics().control_substeps;
  const std::size_t nd = static_cast<std::size_t>(model->num_dofs());
  std::vector<double> peak(nd, 0.0);
  for (int t = 0; t < 60; ++t) {
    const double sign = (t / 15) % 2 == 0 ? 1.0 : -1.0;
    for (int a = 0; a < model->num_actuated(); ++a) {
      const DofInfo& dof = model->dofs()[static_cast<std::size_t>(model->actuated()[static_cast<std::size_t>(a)])];
      s.actions()[static_cast<std::size_t>(a)] = std::clamp(dof.initial_position + sign * 0.5, dof.lower, dof.upper);
    }
    s.Step();
    REQUIRE(s.faulted()[0] == 0);
    for (int k = 0; k < substeps; ++k)
      for (std::size_t d = 0; d < nd; ++d)
        peak[d] = std::max(peak[d], std::abs(s.substep_torques()[static_cast<std::size_t>(k) * nd + d]));
  }
  int saturated = 0;
  for (std::size_t d = 0; d < nd; ++d) {
    const DofInfo& dof = model->dofs()[d];
    if (dof.max_effort <= 0.0 || dof.mimic_of >= 0) continue;
    INFO(dof.name << ": peak torque " << peak[d] << ", effort limit " << dof.max_effort << ", friction " << dof.friction);
    CHECK(peak[d] <= dof.max_effort + dof.friction + 1e-9);
    if (peak[d] >= 0.999 * dof.max_effort) ++saturated;
  }
  CHECK(saturated >= 6);
}

// Only explicit control laws are checked against the timestep: position control (implicit)
// takes gains far beyond the old explicit bound dt·λmax(M⁻¹Kd) < 1 and stays stable, while
// the same kd for velocity control (a torque computed before the step) is refused.
TEST_CASE("position control accepts any gains, velocity control still checks its damping", "[sim][control]") {
  sim::ModelSpec spec = pf::testing::ArmWithBoxes(0);
  spec.robots[0].gains.assign(8, JointGains{1e5, 1e3, 0.0});  // dt·kd/I ≈ 500 on the wrist
  const auto stiff = Model::Compile(spec);
  REQUIRE(stiff);
  auto sim = BatchSim::Create(*stiff, {1, 1, 64});
  REQUIRE(sim);
  BatchSim& s = **sim;
  const std::vector<double> folded{0.3, 0.09, -0.1, -2.7, -0.2, 2.84, 1.3, 0.04};
  for (int t = 0; t < 120; ++t) {
    for (std::size_t a = 0; a < folded.size(); ++a) s.actions()[a] = folded[a];
    s.Step();
    REQUIRE(s.faulted()[0] == 0);
  }
  for (int a = 0; a < (*stiff)->num_actuated(); ++a) {
    const std::size_t d = static_cast<std::size_t>((*stiff)->actuated()[static_cast<std::size_t>(a)]);
    INFO((*stiff)->dofs()[d].name);
    CHECK(std::abs(s.joint_positions()[d] - folded[static_cast<std::size_t>(a)]) < 1e-3);
    CHECK(std::abs(s.joint_velocities()[d]) < 1e-3);
  }
  spec.robots[0].control_mode = ControlMode::kJointVelocity;
  const auto refused = Model::Compile(spec);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().ToString(), Catch::Contains("too stiff for the timestep"));
  // Default velocity gains are scaled down until they pass.
  spec.robots[0].gains.clear();
  CHECK(Model::Compile(spec));
}

// The torque that holds a robot still against gravity, ∂V/∂q of the potential energy
// V(q) = Σ m_k g h_k(q), by central differences of the URDF's forward kinematics (the
// mimic finger follows its leader): an independent check of the torque sensors.
std::vector<double> HoldingTorques(const Model& m, std::span<const double> q_dofs) {
  const assets::RobotDesc& desc = m.spec().robots[0].robot->desc;
  const core::Pose& X_WB = m.spec().robots[0].X_WB;
  const double g = -m.physics().gravity.z();
  auto potential = [&](const std::vector<double>& q_act) {
    std::vector<double> q(desc.joints.size(), 0.0);
    for (int d = 0; d < m.num_dofs(); ++d) {
      const DofInfo& dof = m.dofs()[static_cast<std::size_t>(d)];
      q[static_cast<std::size_t>(dof.joint)] =
          dof.mimic_of < 0 ? q_act[static_cast<std::size_t>(dof.action)]
                           : dof.mimic_multiplier * q_act[static_cast<std::size_t>(m.dofs()[static_cast<std::size_t>(dof.mimic_of)].action)] +
                                 dof.mimic_offset;
    }
    const std::vector<core::Pose> X_BL = desc.ForwardKinematics(q);
    double V = 0.0;
    for (std::size_t k = 0; k < desc.links.size(); ++k)
      if (desc.links[k].inertial) V += desc.links[k].inertial->mass * g * (X_WB * X_BL[k] * desc.links[k].inertial->X_LI).translation().z();
    return V;
  };
  std::vector<double> q_act(static_cast<std::size_t>(m.num_actuated()));
  for (int a = 0; a < m.num_actuated(); ++a)
    q_act[static_cast<std::size_t>(a)] = q_dofs[static_cast<std::size_t>(m.actuated()[static_cast<std::size_t>(a)])];
  std::vector<double> tau(static_cast<std::size_t>(m.num_actuated()));
  const double h = 1e-6;
  for (std::size_t a = 0; a < q_act.size(); ++a) {
    std::vector<double> plus = q_act, minus = q_act;
    plus[a] += h;
    minus[a] -= h;
    tau[a] = (potential(plus) - potential(minus)) / (2.0 * h);
  }
  return tau;
}

TEST_CASE("holding still, the applied torques are the gravity torques", "[sim][control][sensors]") {
  for (const bool compensation : {true, false}) {
    INFO("gravity compensation " << compensation);
    sim::ModelSpec spec = pf::testing::ArmWithBoxes(0);
    spec.robots[0].gravity_compensation = compensation;
    // A stretched pose (large gravity torques) and the folded one.
    for (const std::vector<double>& pose : {std::vector<double>{0.4, 0.6, -0.2, -1.2, 0.3, 1.2, 0.5, 0.03},
                                            std::vector<double>{0.3, 0.09, -0.1, -2.7, -0.2, 2.84, 1.3, 0.04}}) {
      spec.robots[0].initial_positions = pose;
      const auto model = Model::Compile(spec);
      REQUIRE(model);
      const Model& m = **model;
      auto sim = BatchSim::Create(*model, {1, 1, 64});
      REQUIRE(sim);
      BatchSim& s = **sim;
      for (int t = 0; t < 120; ++t) s.Step();  // 2 s to settle
      const std::vector<double> expected = HoldingTorques(m, s.joint_positions());
      double largest = 0.0;
      for (int a = 0; a < m.num_actuated(); ++a) {
        const std::size_t d = static_cast<std::size_t>(m.actuated()[static_cast<std::size_t>(a)]);
        const double tau = s.applied_torques()[d];
        const double want = expected[static_cast<std::size_t>(a)];
        largest = std::max(largest, std::abs(want));
        INFO(m.dofs()[d].name << ": applied " << tau << ", gravity torque " << want << ", qd " << s.joint_velocities()[d]
                              << ", sag " << s.joint_positions()[d] - pose[static_cast<std::size_t>(a)]);
        CHECK(std::abs(s.joint_velocities()[d]) < 1e-4);
        CHECK(std::abs(tau - want) < 1e-2 + 1e-4 * std::abs(want));
        CHECK(std::abs(tau) <= m.dofs()[d].max_effort);
        // Without compensation the drive alone holds the load, sagging by load / kp (to
        // what the solver's residual threshold leaves of its convergence: a few percent
        // of sags of 1e-4 rad).
        if (!compensation)
          CHECK(s.joint_positions()[d] - pose[static_cast<std::size_t>(a)] ==
                Approx(-want / m.dofs()[d].kp).margin(3e-5).epsilon(0.01));
      }
      CHECK(largest > 10.0);  // the check sees real loads
    }
  }
}

// StepRaw is the benchmark's baseline: Bullet with the given torques only. The position
// drives must be off there: a position-controlled arm given zero raw torques falls like a
// torque-controlled one (no drives) instead of holding its pose. StepRaw does not refresh
// the sensors, so the worlds are compared through ray casts (which see Bullet's bodies).
TEST_CASE("StepRaw applies the raw torques only", "[sim][control]") {
  sim::ModelSpec spec = pf::testing::ArmWithBoxes(0);
  const auto position = Model::Compile(spec);
  spec.robots[0].control_mode = ControlMode::kJointTorque;
  const auto torque = Model::Compile(spec);
  REQUIRE(position);
  REQUIRE(torque);
  auto a = BatchSim::Create(*position, {1, 1, 64});
  auto b = BatchSim::Create(*torque, {1, 1, 64});
  REQUIRE(a);
  REQUIRE(b);
  // Vertical rays over the arm and the table: the height of what each one hits.
  auto heights = [](const BatchSim& sim) {
    std::vector<double> z;
    for (double x = -0.2; x <= 0.8; x += 0.04)
      for (double y = -0.3; y <= 0.3; y += 0.04) {
        const auto hit = sim.RayCast(0, core::Vec3(x, y, 2.0), core::Vec3(x, y, 0.0));
        z.push_back(hit.hit ? hit.p_W.z() : 0.0);
      }
    return z;
  };
  const std::vector<double> start = heights(**a);
  REQUIRE(start == heights(**b));
  const std::vector<double> zero(static_cast<std::size_t>((*position)->physics().control_substeps * (*position)->num_dofs()), 0.0);
  for (int t = 0; t < 15; ++t) {  // 0.25 s
    (*a)->StepRaw(zero);
    (*b)->StepRaw(zero);
  }
  const std::vector<double> za = heights(**a), zb = heights(**b);
  double moved = 0.0, differ = 0.0;
  for (std::size_t i = 0; i < za.size(); ++i) {
    moved = std::max(moved, std::abs(za[i] - start[i]));
    differ = std::max(differ, std::abs(za[i] - zb[i]));
  }
  INFO("largest change of a ray's hit height " << moved << " m; largest difference between the arms " << differ << " m");
  CHECK(moved > 0.05);     // the arm fell: no drive held it
  CHECK(differ < 1e-6);    // as the arm without drives did
}

TEST_CASE("the mimic finger follows its leader", "[sim][control]") {
  const auto model = ArmModel(0);
  auto sim = BatchSim::Create(model, {1, 1, 64});
  REQUIRE(sim);
  BatchSim& s = **sim;
  int leader = -1, follower = -1;
  for (int d = 0; d < model->num_dofs(); ++d) {
    if (model->dofs()[static_cast<std::size_t>(d)].mimic_of >= 0) {
      follower = d;
      leader = model->dofs()[static_cast<std::size_t>(d)].mimic_of;
    }
  }
  REQUIRE(follower >= 0);
  for (double target : {0.01, 0.035}) {
    s.actions()[static_cast<std::size_t>(model->num_actuated() - 1)] = target;
    for (int t = 0; t < 120; ++t) s.Step();
    INFO("target " << target);
    CHECK(std::abs(s.joint_positions()[static_cast<std::size_t>(leader)] - target) < 1e-3);
    CHECK(std::abs(s.joint_positions()[static_cast<std::size_t>(follower)] - target) < 1e-3);
  }
}

TEST_CASE("boxes rest on the table: contacts carry their weight", "[sim][sensors]") {
  const auto model = ArmModel(1);
  auto sim = BatchSim::Create(model, {1, 1, 64});
  REQUIRE(sim);
  BatchSim& s = **sim;
  for (int t = 0; t < 60; ++t) s.Step();
  const int box = model->object_body(2);
  double force = 0.0;
  for (const Contact& c : s.contacts(0))
    if (c.body_a == box || c.body_b == box) force += c.normal_force;
  CHECK(force == Approx(0.1 * 9.81).epsilon(0.05));
  const double* pose = s.body_poses().data() + 7 * box;
  CHECK(pose[2] == Approx(0.425).margin(2e-3));
}

TEST_CASE("the snapshot carries every visual with its body's pose and a stable id", "[sim][snapshot]") {
  const auto model = ArmModel(2);
  auto sim = BatchSim::Create(model, {3, 1, 64});
  REQUIRE(sim);
  (*sim)->Step();
  core::RenderSnapshot snapshot;
  snapshot.num_cameras = 1;
  (*sim)->WriteSnapshot(&snapshot);
  CHECK(snapshot.num_envs == 3);
  CHECK(snapshot.num_cameras == 1);
  CHECK(snapshot.num_bodies == static_cast<std::uint32_t>(model->num_bodies()));
  REQUIRE(snapshot.instances.size() == model->instances().size());
  // Every link of the arm has visuals; every object has one instance.
  CHECK(snapshot.instances.size() >= static_cast<std::size_t>(model->num_bodies()));
  CHECK(snapshot.body_poses.size() == (*sim)->body_poses().size());
  CHECK(std::equal(snapshot.body_poses.begin(), snapshot.body_poses.end(), (*sim)->body_poses().begin()));
  const std::size_t n = snapshot.instances.size();
  for (std::size_t e = 0; e < 3; ++e)
    for (std::size_t i = 0; i < n; ++i) {
      CHECK(snapshot.segmentation_ids[e * n + i] == snapshot.instances[i].body + 1);
      CHECK(snapshot.instances[i].mesh.value < model->render_meshes().size());
    }
  // Boxes carry their semantic class; their meshes are 12-triangle boxes.
  const auto& box = snapshot.instances.back();
  CHECK(box.semantic_class == 1);
  CHECK(model->render_meshes()[box.mesh.value].mesh->num_triangles() == 12);
}

}  // namespace
}  // namespace pf::sim

namespace pf::sim {
namespace {

TEST_CASE("per-env parameters: mass, friction and gains differ by env and survive resets", "[sim][params]") {
  const auto model = pf::sim::Model::Compile(pf::testing::ArmWithBoxes(1));
  REQUIRE(model);
  auto created = BatchSim::Create(*model, {3, 1, 64});
  REQUIRE(created);
  BatchSim& s = **created;
  const int O = (*model)->num_objects();
  EnvParams heavy;
  heavy.object_mass.assign(static_cast<std::size_t>(O), 0.0);
  heavy.object_mass[2] = 0.3;
  heavy.object_mass[0] = 5.0;  // the pedestal is static and stays so
  s.SetEnvParams(1, heavy);
  EnvParams weak;
  weak.gain_scale.assign(static_cast<std::size_t>((*model)->num_actuated()), 0.5);
  s.SetEnvParams(2, weak);
  s.ResetEnv(1);
  s.ResetEnv(2);
  // Push every env's joint targets away from home (a little: within the drives' linear range,
  // below the effort limit): the weaker gains lag behind.
  for (int e = 0; e < 3; ++e) s.actions()[static_cast<std::size_t>(e * (*model)->num_actuated())] = 0.02;
  s.Step();
  s.Step();
  const std::size_t nd = static_cast<std::size_t>((*model)->num_dofs());
  CHECK(s.joint_positions()[2 * nd] < s.joint_positions()[0] - 1e-4);
  CHECK(s.joint_positions()[nd] == s.joint_positions()[0]);  // masses of parts do not move the arm here
  for (int t = 0; t < 60; ++t) s.Step();
  const int box = (*model)->object_body(2);
  auto weight_on = [&](int env) {
    double force = 0.0;
    for (const Contact& c : s.contacts(env))
      if (c.body_a == box || c.body_b == box) force += c.normal_force;
    return force;
  };
  CHECK(weight_on(0) == Approx(0.1 * 9.81).epsilon(0.05));
  CHECK(weight_on(1) == Approx(0.3 * 9.81).epsilon(0.05));
  const double* pedestal = s.body_poses().data() + 7 * ((*model)->num_bodies() + (*model)->object_body(0));
  CHECK(pedestal[2] == 0.2);  // static: did not fall
  // A fault-free reset keeps the parameters: the same trajectory again, bit for bit.
  const std::uint64_t before = s.EnvStateHash(1);
  s.ResetEnv(1);
  s.actions()[static_cast<std::size_t>((*model)->num_actuated())] = 0.02;
  for (int t = 0; t < 62; ++t) s.Step();
  CHECK(s.EnvStateHash(1) == before);
}

TEST_CASE("objects placed through a state vector start where they were put", "[sim][params]") {
  const auto model = pf::sim::Model::Compile(pf::testing::ArmWithBoxes(2));
  REQUIRE(model);
  auto created = BatchSim::Create(*model, {2, 1, 64});
  REQUIRE(created);
  BatchSim& s = **created;
  std::vector<double> state = s.InitialState();
  const core::Pose X_WO = core::MakePose(core::Vec3(0.6, 0.2, 0.425), core::QuatFromRpy(0, 0, 0.7));
  s.SetObjectPoseInState(state, 3, X_WO);
  s.SetState(1, kStateAll, state);
  const double* pose = s.body_poses().data() + 7 * ((*model)->num_bodies() + (*model)->object_body(3));
  const core::Pose got = core::PoseFromArray(pose);
  CHECK((got.translation() - X_WO.translation()).norm() < 1e-12);
  CHECK(core::Quat(got.rotation()).angularDistance(core::Quat(X_WO.rotation())) < 1e-9);
  // Env 0 still has the model's placement.
  const double* pose0 = s.body_poses().data() + 7 * (*model)->object_body(3);
  CHECK(pose0[0] == Approx(0.47));
}

}  // namespace
}  // namespace pf::sim
