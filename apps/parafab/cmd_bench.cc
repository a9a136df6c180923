// parafab bench SUITE: speed and memory figures as JSON lines (one object per result).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "pf/assets/library.h"
#include "pf/scenarios/scenario.h"
#include "pf/sim/batch_sim.h"
#include "pf/sim/random_actions.h"
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
  if (!cold) return ReportError("bench assets", cold.error());
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

// The Panda with 5 boxes on a table (the issue's reference scene), read from the test assets.
constexpr const char* kPandaBoxes = R"(
name: "panda_boxes"
physics { timestep: 0.004166666666666667 control_substeps: 4 solver_iterations: 50 }
robots {
  name: "panda" urdf: "franka_panda/panda.urdf" fixed_base: true
  base_pose { position { z: 0.4 } }
  initial_joint_positions { key: "panda_joint2" value: -0.5 }
  initial_joint_positions { key: "panda_joint4" value: -2.3 }
  initial_joint_positions { key: "panda_joint6" value: 1.8 }
  initial_joint_positions { key: "panda_joint7" value: 0.8 }
  initial_joint_positions { key: "panda_finger_joint1" value: 0.03 }
  end_effector_link: "panda_hand"
}
objects { name: "pedestal" box { size { x: 0.3 y: 0.3 z: 0.4 } } pose { position { z: 0.2 } } mass: 0 }
objects { name: "table" box { size { x: 0.6 y: 1.0 z: 0.4 } } pose { position { x: 0.6 z: 0.2 } } mass: 0 }
objects { name: "box0" box { size { x: 0.05 y: 0.05 z: 0.05 } } pose { position { x: 0.45 y: -0.15 z: 0.426 } } mass: 0.1 semantic_class: "box" }
objects { name: "box1" box { size { x: 0.05 y: 0.05 z: 0.05 } } pose { position { x: 0.52 y: -0.05 z: 0.426 } } mass: 0.1 semantic_class: "box" }
objects { name: "box2" box { size { x: 0.05 y: 0.05 z: 0.05 } } pose { position { x: 0.59 y: 0.05 z: 0.426 } } mass: 0.1 semantic_class: "box" }
objects { name: "box3" box { size { x: 0.05 y: 0.05 z: 0.05 } } pose { position { x: 0.45 y: 0.15 z: 0.426 } } mass: 0.1 semantic_class: "box" }
objects { name: "box4" box { size { x: 0.05 y: 0.05 z: 0.05 } } pose { position { x: 0.66 y: 0.0 z: 0.426 } } mass: 0.1 semantic_class: "box" }
)";

struct BenchPhysicsOptions {
  std::vector<std::string> scenes{"default", "panda_boxes"};
  std::vector<int> envs{1, 64, 512, 4096};
  std::vector<int> threads{1, 2};
  double seconds = 1.0;  // measuring time per case and mode
};

core::Result<scenarios::Scenario> BenchScene(const std::string& scene, assets::AssetLibrary& library) {
  if (scene == "panda_boxes")
    return scenarios::ParseScenario(kPandaBoxes, std::filesystem::path(TestAssetsDir()) / "panda_boxes.pbtxt", library);
  return scenarios::LoadScenario(scene.find('.') != std::string::npos || scene.starts_with("builtin://")
                                     ? scene
                                     : "builtin://" + scene,
                                 library);
}

// One JSON line per (scene, envs, threads): parafab's Step (random position targets,
// control law, sensors, fault checks) and the same worlds stepped raw through Bullet.
// Env-steps are physics steps.
int RunBenchPhysics(const BenchPhysicsOptions& options) {
  core::SetLogLevel(core::LogLevel::kError);
  assets::AssetLibrary library;
  for (const auto& scene_name : options.scenes) {
    auto compiled = Compile(BenchScene(scene_name, library));
    if (!compiled) return ReportError("bench physics", compiled.error());
    const auto& model = compiled->model;
    const int substeps = model->physics().control_substeps;
    for (int envs : options.envs) {
      for (int threads : options.threads) {
        const std::uint64_t heap_before = HeapInUseBytes();
        auto sim = sim::BatchSim::Create(model, {envs, threads, 64});
        if (!sim) return kExitInvalid;
        const std::uint64_t heap_after = HeapInUseBytes();
        sim::RandomActionConfig actions;
        for (int t = 0; t < 3; ++t) {
          sim::FillRandomActions(**sim, actions, static_cast<std::uint64_t>(t));
          (*sim)->Step();
        }
        // Steps per measurement from a short calibration, so each case takes ~seconds.
        // (Half the time goes to the raw twin below.)
        auto start = Clock::now();
        (*sim)->Step();
        const double one = std::max(MsSince(start) / 1000.0, 1e-6);
        const int steps = std::max(3, static_cast<int>(options.seconds / one));
        // A twin batch of the same worlds replays, through Bullet alone, the torques that
        // parafab's Step applied in each physics step: the same worlds on the same
        // trajectories. The two are timed step by step, interleaved, so drifts in the
        // machine's speed hit both alike.
        auto raw = sim::BatchSim::Create(model, {envs, threads, 64});
        if (!raw) return ReportError("bench physics", raw.error());
        for (int e = 0; e < envs; ++e) {
          std::vector<double> state(static_cast<std::size_t>((*sim)->StateSize(sim::kStateAll)));
          (*sim)->GetState(e, sim::kStateAll, state);
          (*raw)->SetState(e, sim::kStateAll, state);
        }
        double parafab_s = 0.0, raw_s = 0.0;
        for (int t = 0; t < steps; ++t) {
          start = Clock::now();
          sim::FillRandomActions(**sim, actions, static_cast<std::uint64_t>(t + 3));
          (*sim)->Step();
          parafab_s += MsSince(start) / 1000.0;
          start = Clock::now();
          (*raw)->StepRaw((*sim)->substep_torques());
          raw_s += MsSince(start) / 1000.0;
        }
        const double env_steps = static_cast<double>(envs) * steps * substeps;
        std::cout << nlohmann::json{{"bench", "physics"},
                                    {"scene", compiled->scenario.model.name},
                                    {"envs", envs},
                                    {"threads", threads},
                                    {"env_steps_per_s", env_steps / parafab_s},
                                    {"us_per_env_step", 1e6 * parafab_s * threads / env_steps},
                                    {"raw_env_steps_per_s", env_steps / raw_s},
                                    {"overhead", raw_s > 0 ? parafab_s / raw_s - 1.0 : 0.0},
                                    {"rss_bytes_per_env", static_cast<double>(heap_after - heap_before) / envs},
                                    {"peak_rss_bytes", PeakRssBytes()},
                                    {"control_steps", steps},
                                    {"faults", (*sim)->fault_count()}}
                         .dump()
                  << std::endl;
      }
    }
  }
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

  auto physics_options = std::make_shared<BenchPhysicsOptions>();
  CLI::App* physics_cmd = bench->add_subcommand(
      "physics", "Env-steps/s of BatchSim and of the same worlds stepped raw through Bullet, per (scene, envs, threads)");
  physics_cmd->add_option("--scene", physics_options->scenes, "Scenes: default, panda_boxes, a .pbtxt or builtin://NAME")
      ->capture_default_str();
  physics_cmd->add_option("--envs", physics_options->envs, "Batch sizes")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  physics_cmd->add_option("--threads", physics_options->threads, "Thread counts")->capture_default_str()->check(CLI::Range(1, 1024));
  physics_cmd->add_option("--seconds", physics_options->seconds, "Measuring time per case")->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
  physics_cmd->callback([physics_options, exit_code] { *exit_code = RunBenchPhysics(*physics_options); });
}

}  // namespace pf::apps
