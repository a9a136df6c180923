// The deterministic pseudo-random action stream of `parafab run` and the benchmarks:
// a bounded random walk of each actuated joint's target around its initial position.
// Draw t of env e comes from CounterRng(scenario_hash, seed, e, kActions, t), so an env's
// actions do not depend on the batch it runs in.
#pragma once

#include <cstdint>
#include <span>

#include "pf/sim/batch_sim.h"

namespace pf::sim {

struct RandomActionConfig {
  std::uint64_t seed = 0;
  int first_env = 0;            // global index of the batch's env 0 (shards, sub-batches)
  double step_size = 0.02;      // max change of a position target per control step (rad or m)
  double range = 0.5;           // max distance of a target from the initial position
  double max_velocity = 0.5;    // velocity mode: targets in [-max, max]
  double torque_fraction = 0.1; // torque mode: targets in [-f, f] x effort limit
};

// Writes the actions for control step `step` into sim.actions() (reads the current ones).
void FillRandomActions(BatchSim& sim, const RandomActionConfig& config, std::uint64_t step);
// The same for one env's actions ([num_actuated]) held elsewhere (e.g. fed to pf::VecEnv):
// `env` is its index within the batch (config.first_env is added).
void FillRandomActions(const Model& model, const RandomActionConfig& config, std::uint64_t step, int env,
                       std::span<double> action);

}  // namespace pf::sim
