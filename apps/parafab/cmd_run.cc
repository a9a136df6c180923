// parafab run [SCENARIO]: simulates N envs with the deterministic pseudo-random action
// stream and prints the final state hash and the speed.
#include <chrono>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "pf/core/hash.h"
#include "pf/scenarios/scenario.h"
#include "pf/sim/batch_sim.h"
#include "pf/sim/random_actions.h"
#include "progress.h"

namespace pf::apps {
namespace {

struct RunOptions {
  std::string scenario = "builtin://default";
  int envs = 1;
  int steps = 100;
  int threads = 1;
  std::uint64_t seed = 0;
  std::vector<std::string> asset_roots;
  bool json = false;
};

int RunRun(const RunOptions& options) {
  assets::AssetLibrary library(MakeResolver(options.asset_roots));
  auto compiled = Compile(scenarios::LoadScenario(options.scenario, library));
  if (!compiled) return ReportError("run", compiled.error());
  const auto& model = compiled->model;
  const auto& scenario = compiled->scenario;
  auto sim = sim::BatchSim::Create(model, {options.envs, options.threads, 64});
  if (!sim) return ReportError("run", sim.error());
  sim::RandomActionConfig actions;
  actions.seed = options.seed;
  Progress progress("run", static_cast<std::uint64_t>(options.steps), "steps");
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < options.steps; ++t) {
    sim::FillRandomActions(**sim, actions, static_cast<std::uint64_t>(t));
    (*sim)->Step();
    progress.Update(static_cast<std::uint64_t>(t + 1));
  }
  progress.Finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Env-steps are physics steps (control steps × substeps), as in `parafab bench physics`.
  const double env_steps =
      static_cast<double>(options.envs) * options.steps * model->physics().control_substeps;
  const std::string hash = core::HexU64((*sim)->StateHash());
  if (options.json) {
    std::cout << nlohmann::json{{"scenario", scenario.model.name},
                                {"scenario_hash", core::HexU64(scenario.model.scenario_hash)},
                                {"envs", options.envs},
                                {"steps", options.steps},
                                {"threads", options.threads},
                                {"seed", options.seed},
                                {"state_hash", hash},
                                {"faults", (*sim)->fault_count()},
                                {"env_steps_per_s", env_steps / seconds}}
                     .dump()
              << std::endl;
    return kExitOk;
  }
  std::printf("scenario        %s (hash %s)\n", scenario.model.name.c_str(),
              core::HexU64(scenario.model.scenario_hash).c_str());
  std::printf("envs            %d x %d control steps (%d physics steps each), %d threads, seed %llu\n",
              options.envs, options.steps, model->physics().control_substeps, options.threads,
              static_cast<unsigned long long>(options.seed));
  std::printf("faults          %llu\n", static_cast<unsigned long long>((*sim)->fault_count()));
  std::printf("env_steps_per_s %.0f\n", env_steps / seconds);
  std::printf("state_hash      %s\n", hash.c_str());
  return kExitOk;
}

}  // namespace

void RegisterRun(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Simulate a scenario with a deterministic pseudo-random action stream; "
                                            "prints the final state hash and env-steps/s");
  cmd->add_option("scenario", options->scenario, "Scenario file (.pbtxt) or builtin://NAME")
      ->capture_default_str();
  cmd->add_option("--envs", options->envs, "Number of environments")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--steps", options->steps, "Control steps")->check(CLI::Range(0, 1 << 30))->capture_default_str();
  cmd->add_option("--threads", options->threads, "Worker threads (0 = all cores)")->check(CLI::Range(0, 1024))->capture_default_str();
  cmd->add_option("--seed", options->seed, "Seed of the action stream")->capture_default_str();
  cmd->add_option("--asset-root", options->asset_roots, "Extra asset root (repeatable)");
  cmd->add_flag("--json", options->json, "Print one JSON object");
  cmd->footer("The state hash is the same for a scenario and seed whatever --threads and whichever envs run beside.\n"
              "Exit codes: 0 success, 1 invalid input, 2 usage error.");
  cmd->callback([options, exit_code] { *exit_code = RunRun(*options); });
}

}  // namespace pf::apps
