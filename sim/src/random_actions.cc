#include "pf/sim/random_actions.h"

#include <algorithm>

#include "pf/core/rng.h"

namespace pf::sim {

void FillRandomActions(BatchSim& sim, const RandomActionConfig& config, std::uint64_t step) {
  const std::size_t n = static_cast<std::size_t>(sim.model().num_actuated());
  for (int e = 0; e < sim.num_envs(); ++e)
    FillRandomActions(sim.model(), config, step, e, sim.actions().subspan(static_cast<std::size_t>(e) * n, n));
}

void FillRandomActions(const Model& m, const RandomActionConfig& config, std::uint64_t step, int e,
                       std::span<double> action) {
  const int n = m.num_actuated();
  {
    core::CounterRng rng({m.spec().scenario_hash, config.seed, static_cast<std::uint64_t>(config.first_env + e),
                          core::RngStream::kActions, step});
    for (int a = 0; a < n; ++a) {
      const DofInfo& dof = m.dofs()[static_cast<std::size_t>(m.actuated()[static_cast<std::size_t>(a)])];
      const double u = rng.Uniform(-1.0, 1.0);
      switch (m.spec().robots[static_cast<std::size_t>(dof.robot)].control_mode) {
        case ControlMode::kJointPosition: {
          double target = std::clamp(action[static_cast<std::size_t>(a)] + config.step_size * u, dof.initial_position - config.range,
                                     dof.initial_position + config.range);
          if (dof.has_limits) target = std::clamp(target, dof.lower, dof.upper);
          action[static_cast<std::size_t>(a)] = target;
          break;
        }
        case ControlMode::kJointVelocity: action[static_cast<std::size_t>(a)] = config.max_velocity * u; break;
        case ControlMode::kJointTorque:
          action[static_cast<std::size_t>(a)] = config.torque_fraction * (dof.max_effort > 0.0 ? dof.max_effort : 1.0) * u;
          break;
      }
    }
  }
}

}  // namespace pf::sim
