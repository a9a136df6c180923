#include "pf/sim/random_actions.h"

#include <algorithm>

#include "pf/core/rng.h"

namespace pf::sim {

void FillRandomActions(BatchSim& sim, const RandomActionConfig& config, std::uint64_t step) {
  const Model& m = sim.model();
  const int n = m.num_actuated();
  for (int e = 0; e < sim.num_envs(); ++e) {
    core::CounterRng rng({m.spec().scenario_hash, config.seed, static_cast<std::uint64_t>(config.first_env + e),
                          core::RngStream::kActions, step});
    double* action = sim.actions().data() + static_cast<std::size_t>(e) * static_cast<std::size_t>(n);
    for (int a = 0; a < n; ++a) {
      const DofInfo& dof = m.dofs()[static_cast<std::size_t>(m.actuated()[static_cast<std::size_t>(a)])];
      const double u = rng.Uniform(-1.0, 1.0);
      switch (m.spec().robots[static_cast<std::size_t>(dof.robot)].control_mode) {
        case ControlMode::kJointPosition: {
          double target = std::clamp(action[a] + config.step_size * u, dof.initial_position - config.range,
                                     dof.initial_position + config.range);
          if (dof.has_limits) target = std::clamp(target, dof.lower, dof.upper);
          action[a] = target;
          break;
        }
        case ControlMode::kJointVelocity: action[a] = config.max_velocity * u; break;
        case ControlMode::kJointTorque:
          action[a] = config.torque_fraction * (dof.max_effort > 0.0 ? dof.max_effort : 1.0) * u;
          break;
      }
    }
  }
}

}  // namespace pf::sim
