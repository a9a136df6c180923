// parafab bench SUITE: speed and memory figures as JSON lines (one object per result).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "pf/assets/library.h"
#include "pf/core/log.h"
#include "process_stats.h"

namespace pf::apps {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct BenchAssetsOptions {
  std::string urdf;  // default: the Panda from the test assets
  int repeat = 5;
};

// Times ImportRobot (URDF + visual and collision meshes + convex hulls) three ways:
//   cold:   the first import in this process (fresh AssetLibrary, first use of the importers)
//   warm:   a fresh AssetLibrary again (nothing cached by parafab; OS file cache warm), best of N
//   cached: the same AssetLibrary (every mesh and hull shared), best of N
int RunBenchAssets(const BenchAssetsOptions& options) {
  const std::string urdf =
      options.urdf.empty() ? (std::filesystem::path(TestAssetsDir()) / "franka_panda/panda.urdf").string()
                           : options.urdf;
  // Warnings about the inputs would repeat once per import; the figures are the output.
  core::SetLogLevel(core::LogLevel::kError);
  const std::uint64_t rss_before = CurrentRssBytes();
  auto import = [&](assets::AssetLibrary& library) -> core::Result<assets::ImportedRobot> {
    return assets::ImportRobot(urdf, library);
  };
  auto start = Clock::now();
  assets::AssetLibrary cold_library;
  auto cold = import(cold_library);
  const double cold_ms = MsSince(start);
  if (!cold) {
    std::fprintf(stderr, "parafab bench assets: error: %s\n", cold.error().ToString().c_str());
    return kExitInvalid;
  }
  double warm_ms = 1e300, cached_ms = 1e300;
  for (int i = 0; i < options.repeat; ++i) {
    start = Clock::now();
    assets::AssetLibrary library;
    auto warm = import(library);
    warm_ms = std::min(warm_ms, MsSince(start));
    start = Clock::now();
    auto cached = import(cold_library);
    cached_ms = std::min(cached_ms, MsSince(start));
    if (!warm || !cached) return kExitInvalid;
  }
  nlohmann::json out = {{"bench", "assets"},
                        {"robot", cold->desc.name},
                        {"urdf", urdf},
                        {"links", cold->desc.num_links()},
                        {"mesh_files", cold->NumMeshFiles()},
                        {"visual_triangles", cold->NumVisualTriangles()},
                        {"collision_triangles", cold->NumCollisionTriangles()},
                        {"convex_hulls", cold->NumConvexHulls()},
                        {"cold_ms", cold_ms},
                        {"warm_ms", warm_ms},
                        {"cached_ms", cached_ms},
                        {"repeat", options.repeat},
                        {"rss_growth_bytes", CurrentRssBytes() - rss_before},
                        {"peak_rss_bytes", PeakRssBytes()}};
  std::cout << out.dump() << std::endl;
  return kExitOk;
}

}  // namespace

std::string TestAssetsDir() {
  const char* env = std::getenv("PARAFAB_TEST_ASSETS");
  const std::filesystem::path dir = (env != nullptr && env[0] != '\0') ? env : PF_TEST_ASSETS_DEFAULT;
  std::error_code ec;
  const std::filesystem::path canonical = std::filesystem::weakly_canonical(dir, ec);
  return (ec ? dir : canonical).string();
}

void RegisterBench(CLI::App& app, int* exit_code) {
  CLI::App* bench = app.add_subcommand("bench", "Measure speed and memory; prints one JSON object per result");
  bench->require_subcommand(1);
  auto assets_options = std::make_shared<BenchAssetsOptions>();
  CLI::App* assets_cmd = bench->add_subcommand("assets", "Cold, warm and cached import time of a robot (default: the Panda)");
  assets_cmd->add_option("--urdf", assets_options->urdf, "URDF to import (default: $PARAFAB_TEST_ASSETS/franka_panda/panda.urdf)");
  assets_cmd->add_option("--repeat", assets_options->repeat, "Repetitions for the warm and cached figures")
      ->check(CLI::Range(1, 1000));
  assets_cmd->callback([assets_options, exit_code] { *exit_code = RunBenchAssets(*assets_options); });
}

}  // namespace pf::apps
