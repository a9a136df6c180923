// parafab bench rl: env-steps/s of pf::VecEnv (synchronous Step and asynchronous
// Send/Recv) against the raw BatchSim on the same scenario's worlds in the same run.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <numeric>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "pf/core/log.h"
#include "pf/core/rng.h"
#include "pf/rl/vec_env.h"
#include "pf/scenarios/scenario.h"
#include "pf/sim/batch_sim.h"
#include "pf/sim/random_actions.h"
#include "process_stats.h"

namespace pf::apps {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchRlOptions {
  std::string scenario = "builtin://reach";
  std::vector<int> envs{1, 64, 1024, 4096};
  std::vector<int> threads{1, 2};
  double seconds = 2.0;  // measuring time per (case, mode)
  double policy_us = 0.0;  // the caller's work per env per step (a stand-in for inference), µs
};

// Busy work of `us` microseconds on the calling thread.
void Spin(double us) {
  if (us <= 0.0) return;
  const auto end = Clock::now() + std::chrono::duration<double, std::micro>(us);
  while (Clock::now() < end) {
  }
}

double Since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The raw baseline's action stream (sim::FillRandomActions: a bounded random walk of every
// joint's position target, per env and step) for the listed envs, in the VecEnv's joint
// position action layout.
void RandomActions(const sim::Model& model, std::span<const std::int32_t> ids, std::uint64_t step,
                   std::vector<double>& targets, std::vector<float>& out) {
  const std::size_t A = static_cast<std::size_t>(model.num_actuated());
  out.resize(ids.size() * A);
  for (std::size_t r = 0; r < ids.size(); ++r) {
    const std::span<double> target = std::span(targets).subspan(static_cast<std::size_t>(ids[r]) * A, A);
    sim::FillRandomActions(model, sim::RandomActionConfig{}, step, ids[r], target);
    for (std::size_t a = 0; a < A; ++a) out[r * A + a] = static_cast<float>(target[a]);
  }
}

// Control steps of the raw BatchSim (random actions + Step) per second over `seconds`.
core::Result<double> RawRate(const std::shared_ptr<const sim::Model>& model, int envs, int threads, double seconds) {
  PF_ASSIGN_OR_RETURN(auto sim, sim::BatchSim::Create(model, {envs, threads, 64}));
  sim::RandomActionConfig actions;
  sim::FillRandomActions(*sim, actions, 0);
  sim->Step();
  std::uint64_t steps = 0;
  const auto start = Clock::now();
  double elapsed = 0.0;
  while (elapsed < seconds) {
    sim::FillRandomActions(*sim, actions, steps + 1);
    sim->Step();
    ++steps;
    elapsed = Since(start);
  }
  return static_cast<double>(steps) * envs / elapsed;
}

core::Result<double> VecRate(const BenchRlOptions& options, const sim::Model& model, int envs, int threads, bool async,
                             std::uint64_t* faults) {
  rl::VecEnvConfig config;
  config.num_envs = envs;
  config.threads = threads;
  config.action = rl::ActionMode::kJointPosition;
  config.batch_size = async ? std::max(1, envs / 2) : 0;
  PF_ASSIGN_OR_RETURN(auto env, rl::VecEnv::Create(options.scenario, config));
  std::vector<std::int32_t> all(static_cast<std::size_t>(envs));
  std::iota(all.begin(), all.end(), 0);
  std::vector<float> actions;
  std::vector<std::int32_t> ids;
  std::uint64_t env_steps = 0, step = 0;
  std::vector<double> targets;  // [envs × num_actuated] the random walk, from the initial positions
  for (int e = 0; e < envs; ++e)
    for (int a = 0; a < model.num_actuated(); ++a)
      targets.push_back(model.dofs()[static_cast<std::size_t>(model.actuated()[static_cast<std::size_t>(a)])].initial_position);
  if (!async) {
    RandomActions(model, all, step++, targets, actions);
    PF_TRY(env->Step(actions));  // warm-up
    const auto start = Clock::now();
    double elapsed = 0.0;
    while (elapsed < options.seconds) {
      RandomActions(model, all, step++, targets, actions);
      Spin(options.policy_us * envs);
      PF_TRY(env->Step(actions));
      env_steps += static_cast<std::uint64_t>(envs);
      elapsed = Since(start);
    }
    *faults = env->faults();
    return static_cast<double>(env_steps) / elapsed;
  }
  RandomActions(model, all, step++, targets, actions);
  PF_TRY(env->Send(actions, all));
  const auto start = Clock::now();
  double elapsed = 0.0;
  while (elapsed < options.seconds) {
    PF_ASSIGN_OR_RETURN(rl::StepResult r, env->Recv());
    ids.assign(r.env_ids.begin(), r.env_ids.end());
    env_steps += static_cast<std::uint64_t>(r.batch);
    RandomActions(model, ids, step++, targets, actions);
    Spin(options.policy_us * static_cast<double>(ids.size()));
    PF_TRY(env->Send(actions, ids));
    elapsed = Since(start);
  }
  *faults = env->faults();
  return static_cast<double>(env_steps) / elapsed;
}

int RunBenchRl(const BenchRlOptions& options) {
  core::SetLogLevel(core::LogLevel::kError);
  assets::AssetLibrary library;
  auto compiled = Compile(scenarios::LoadScenario(options.scenario, library));
  if (!compiled) return ReportError("bench rl", compiled.error());
  for (int envs : options.envs) {
    for (int threads : options.threads) {
      // The raw figure brackets the two VecEnv runs (measured before and after them), so a
      // drift in the machine's speed shows in both.
      auto raw_before = RawRate(compiled->model, envs, threads, options.seconds);
      if (!raw_before) return ReportError("bench rl", raw_before.error());
      double rates[2] = {0, 0};
      std::uint64_t faults[2] = {0, 0};
      for (int mode = 0; mode < 2; ++mode) {
        auto rate = VecRate(options, *compiled->model, envs, threads, mode == 1, &faults[mode]);
        if (!rate) return ReportError("bench rl", rate.error());
        rates[mode] = *rate;
      }
      auto raw_after = RawRate(compiled->model, envs, threads, options.seconds);
      if (!raw_after) return ReportError("bench rl", raw_after.error());
      const double raw = 0.5 * (*raw_before + *raw_after);
      for (int mode = 0; mode < 2; ++mode)
        std::cout << nlohmann::json{{"bench", "rl"},
                                    {"scenario", options.scenario},
                                    {"envs", envs},
                                    {"threads", threads},
                                    {"mode", mode == 0 ? "sync" : "async"},
                                    {"batch_size", mode == 0 ? envs : std::max(1, envs / 2)},
                                    {"observation", "state"},
                                    {"action", "joint_position"},
                                    {"policy_us", options.policy_us},
                                    {"env_steps_per_s", rates[mode]},
                                    {"raw_env_steps_per_s", raw},
                                    {"overhead", raw / rates[mode] - 1.0},
                                    {"faults", faults[mode]},
                                    {"peak_rss_bytes", PeakRssBytes()}}
                         .dump()
                  << std::endl;
    }
  }
  return kExitOk;
}

}  // namespace

void RegisterBenchRl(CLI::App* bench, int* exit_code) {
  auto options = std::make_shared<BenchRlOptions>();
  CLI::App* cmd = bench->add_subcommand(
      "rl", "VecEnv env-steps/s (sync Step, async Send/Recv with batch = envs/2) vs the raw BatchSim, the same random actions");
  cmd->add_option("--scenario", options->scenario, "Scenario with a task: file or builtin://NAME")->capture_default_str();
  cmd->add_option("--envs", options->envs, "Env counts")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--threads", options->threads, "Thread counts")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--policy-us", options->policy_us,
                  "The caller's work per env per step (µs of busy work standing in for inference): async mode overlaps it "
                  "with stepping, sync mode cannot; the raw baseline has none")
      ->capture_default_str()->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--seconds", options->seconds, "Measuring time per case and mode")->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
  cmd->callback([options, exit_code] { *exit_code = RunBenchRl(*options); });
}

}  // namespace pf::apps
