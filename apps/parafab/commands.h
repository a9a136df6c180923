// The subcommands of the `parafab` binary. Each Register* adds its CLI11 subcommand and
// sets `*exit_code` when it runs. Exit codes: 0 success, 1 invalid input or failure,
// 2 usage error.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace pf::apps {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;
inline constexpr int kExitUsage = 2;

void RegisterValidate(CLI::App& app, int* exit_code);
void RegisterBench(CLI::App& app, int* exit_code);
void RegisterRun(CLI::App& app, int* exit_code);

// Where third-party test assets live: $PARAFAB_TEST_ASSETS or the build's default.
std::string TestAssetsDir();

}  // namespace pf::apps
