// The subcommands of the `parafab` binary. Each Register* adds its CLI11 subcommand and
// sets `*exit_code` when it runs. Exit codes: 0 success, 1 invalid input or failure,
// 2 usage error.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "pf/assets/library.h"
#include "pf/scenarios/scenario.h"
#include "pf/sim/model.h"

namespace pf::apps {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;
inline constexpr int kExitUsage = 2;

void RegisterValidate(CLI::App& app, int* exit_code);
void RegisterBench(CLI::App& app, int* exit_code);
void RegisterBenchRl(CLI::App* bench, int* exit_code);    // bench rl (cmd_bench_rl.cc)
void RegisterBenchSoak(CLI::App* bench, int* exit_code);  // bench soak (cmd_bench_soak.cc)
void RegisterRun(CLI::App& app, int* exit_code);
void RegisterRender(CLI::App& app, int* exit_code);
void RegisterReplay(CLI::App& app, int* exit_code);
void RegisterDatagen(CLI::App& app, int* exit_code);
void RegisterInspect(CLI::App& app, int* exit_code);

// Where third-party test assets live: $PARAFAB_TEST_ASSETS or the build's default.
std::string TestAssetsDir();

// Asset roots from PARAFAB_ASSET_PATH plus the --asset-root options.
assets::AssetResolver MakeResolver(const std::vector<std::string>& extra_roots);

// A scenario and its compiled Model.
struct CompiledScenario {
  scenarios::Scenario scenario;
  std::shared_ptr<const sim::Model> model;
};
// Compiles a loaded scenario; compile errors are prefixed with the scenario's source.
core::Result<CompiledScenario> Compile(core::Result<scenarios::Scenario> scenario);

// Prints "parafab COMMAND: error: ..." and returns kExitInvalid.
int ReportError(const char* command, const core::Error& error);

}  // namespace pf::apps
