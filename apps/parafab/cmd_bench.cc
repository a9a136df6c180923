// parafab bench SUITE: speed and memory figures as JSON lines (one object per result).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdlib.h>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "pf/assets/library.h"
#include "pf/assets/primitives.h"
#include "pf/core/rng.h"
#include "pf/datagen/datagen.h"
#include "pf/render/batch_renderer.h"
#include "pf/scenarios/expert.h"
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

struct BenchRenderOptions {
  double seconds = 2.0;     // measuring time per case
  int spheres = 8;          // per env, 48-segment spheres (~2.3k triangles each) on a box
  std::string device;       // Vulkan device name substring
  std::vector<std::string> cases;  // WxHxENVS; empty: the issue's four cases
  std::string lod = "both";  // automatic level of detail: on, off or both
  double lod_pixel_error = render::LodConfig{}.pixel_error;
  std::string shadows = "on";
  std::uint32_t shadow_map_size = 0;  // texels; 0 = automatic
};

struct RenderCase {
  std::uint32_t width = 0, height = 0;
  int envs = 0;
};

core::Result<RenderCase> ParseRenderCase(const std::string& text) {
  RenderCase c;
  char x1 = 0, x2 = 0;
  std::istringstream in(text);
  if (!(in >> c.width >> x1 >> c.height >> x2 >> c.envs) || x1 != 'x' || x2 != 'x' || !in.eof() ||
      c.width == 0 || c.height == 0 || c.envs <= 0)
    return core::Fail(core::StrCat("bench render: --case wants WIDTHxHEIGHTxENVS (e.g. 128x128x256), got '", text, "'"));
  return c;
}

// The bench scene for one case: per env `spheres` 4 cm spheres at random places on a box,
// one camera looking down at them from about 1.1 m.
core::RenderSnapshot MakeBenchSnapshot(const RenderCase& c, int spheres) {
  core::RenderSnapshot snapshot;
  const int n = spheres;
  for (int i = 0; i < n; ++i) {
    core::InstanceDesc inst;
    inst.mesh = core::MeshId{0};
    inst.material = core::MaterialId{0};
    inst.scale = core::Vec3::Constant(0.04);
    inst.body = static_cast<std::uint32_t>(i);
    inst.semantic_class = 1;
    snapshot.instances.push_back(inst);
  }
  core::InstanceDesc table;
  table.mesh = core::MeshId{1};
  table.material = core::MaterialId{1};
  table.scale = core::Vec3(0.8, 0.8, 0.05);
  table.body = static_cast<std::uint32_t>(n);
  snapshot.instances.push_back(table);
  snapshot.Resize(static_cast<std::uint32_t>(c.envs), static_cast<std::uint32_t>(n + 1), 1);
  for (int e = 0; e < c.envs; ++e) {
    core::CounterRng rng({0, 0, static_cast<std::uint64_t>(e), core::RngStream::kTest, 0});
    for (int i = 0; i <= n; ++i) {
      const core::Vec3 p = i < n ? core::Vec3(rng.Uniform(-0.3, 0.3), rng.Uniform(-0.3, 0.3), 0.065)
                                 : core::Vec3(0, 0, 0);
      core::PoseToArray(core::MakePose(p), snapshot.body_poses.data() +
                                               (static_cast<std::size_t>(e) * static_cast<std::size_t>(n + 1) + static_cast<std::size_t>(i)) * 7);
      snapshot.segmentation_ids[static_cast<std::size_t>(e) * snapshot.instances.size() + static_cast<std::size_t>(i)] =
          static_cast<std::uint32_t>(i + 1);
    }
    core::CameraIntrinsics K;
    K.width = c.width;
    K.height = c.height;
    K.fx = K.fy = 0.9 * c.width;
    K.cx = 0.5 * c.width;
    K.cy = 0.5 * c.height;
    snapshot.camera_intrinsics[static_cast<std::size_t>(e)] = K;
    // Looking down at the table from 1.2 m, slightly tilted.
    core::Pose X_WC = core::MakePose(core::Vec3(0.0, -0.35, 1.1), core::QuatFromRpy(-2.85, 0.0, 0.0));
    core::PoseToArray(X_WC, snapshot.camera_poses.data() + 7 * e);
  }
  return snapshot;
}

// One JSON line per case (default: the issue's 128×128 × 64 and 256 envs, 256×256 × 64,
// 640×480 × 1) and LOD setting: about 18k triangles per env at full detail, one camera per
// env, every output read back each frame.
int RunBenchRender(const BenchRenderOptions& options) {
  core::SetLogLevel(core::LogLevel::kError);
  std::vector<RenderCase> cases;
  for (const std::string& text : options.cases) {
    auto c = ParseRenderCase(text);
    if (!c) return ReportError("bench render", c.error());
    cases.push_back(*c);
  }
  if (cases.empty()) cases = {{128, 128, 64}, {128, 128, 256}, {256, 256, 64}, {640, 480, 1}};
  std::vector<bool> lod_settings;
  if (options.lod == "off" || options.lod == "both") lod_settings.push_back(false);
  if (options.lod == "on" || options.lod == "both") lod_settings.push_back(true);

  const assets::MeshData sphere = assets::MakeSphereMesh(1.0, 48);
  const assets::MeshData box = assets::MakeBoxMesh(core::Vec3::Ones());
  std::vector<render::RenderMeshInput> meshes{{sphere, core::Vec4(0.8, 0.3, 0.2, 1.0), nullptr, 0.3},
                                              {box, core::Vec4(0.5, 0.5, 0.55, 1.0)}};
  for (const bool lod : lod_settings) {
    render::RenderConfig config;
    config.validation = false;
    config.device_name = options.device;
    config.lod.enabled = lod;
    config.lod.pixel_error = options.lod_pixel_error;
    config.shadows = options.shadows == "on";
    config.shadow_map_size = options.shadow_map_size;
    auto renderer = render::BatchRenderer::Create(config, meshes);
    if (!renderer) return ReportError("bench render", renderer.error());
    render::BatchRenderer& r = **renderer;
    for (const RenderCase& c : cases) {
      const core::RenderSnapshot snapshot = MakeBenchSnapshot(c, options.spheres);
      const std::size_t triangles =
          box.num_triangles() + static_cast<std::size_t>(options.spheres) * sphere.num_triangles();
      // Warm-up: render targets, pipelines and the driver's caches.
      for (int i = 0; i < 2; ++i)
        if (auto status = r.Render(snapshot); !status) return ReportError("bench render", status.error());
      // Frames are pipelined as a data generator runs them: frame k + 1 is submitted before
      // frame k is collected (and read on the host).
      int frames = 0;
      double record = 0, gpu = 0, readback = 0, drawn = 0, shadow_drawn = 0;
      const std::uint64_t heap_before = HeapInUseBytes();
      const double cpu_before = ProcessCpuSeconds();
      const auto start = Clock::now();
      if (auto status = r.Submit(snapshot); !status) return ReportError("bench render", status.error());
      while (frames < 3 || MsSince(start) < options.seconds * 1000.0) {
        if (auto status = r.Submit(snapshot); !status) return ReportError("bench render", status.error());
        if (auto status = r.Collect(); !status) return ReportError("bench render", status.error());
        const auto& t = r.last_stats();
        record += t.record_ms;
        gpu += t.gpu_ms;
        readback += t.readback_ms;
        drawn += static_cast<double>(t.triangles);
        shadow_drawn += static_cast<double>(t.shadow_triangles);
        ++frames;
      }
      if (auto status = r.Collect(); !status) return ReportError("bench render", status.error());
      ++frames;
      const double seconds = MsSince(start) / 1000.0;
      const double cpu_seconds = ProcessCpuSeconds() - cpu_before;
      const std::int64_t heap_growth = static_cast<std::int64_t>(HeapInUseBytes()) - static_cast<std::int64_t>(heap_before);
      const double views = static_cast<double>(c.envs) * frames;
      const double measured = frames - 1;  // frames with stats in the sums above
      std::cout << nlohmann::json{{"bench", "render"},
                                  {"width", c.width},
                                  {"height", c.height},
                                  {"envs", c.envs},
                                  {"cameras", 1},
                                  {"triangles_per_env", triangles},
                                  {"lod", lod ? "on" : "off"},
                                  {"lod_pixel_error", lod ? options.lod_pixel_error : 0.0},
                                  {"drawn_triangles_per_view", drawn / measured / c.envs},
                                  {"shadows", options.shadows},
                                  {"shadow_map_size", r.shadow_map_size()},
                                  {"shadow_triangles_per_env", shadow_drawn / measured / c.envs},
                                  {"views_per_s", views / seconds},
                                  {"mpix_per_s", views * c.width * c.height / seconds / 1e6},
                                  {"cpu_ms_per_view", 1e3 * cpu_seconds / views},
                                  {"record_ms", record / measured},
                                  {"gpu_wait_ms", gpu / measured},
                                  {"readback_ms", readback / measured},
                                  {"frames", frames},
                                  {"views_per_pass", r.views_per_pass()},
                                  {"reads_in_place", r.reads_in_place()},
                                  // malloc'd bytes in use after the timed frames minus before
                                  // (the driver's included; parafab's own frames allocate nothing)
                                  {"heap_growth_bytes", heap_growth},
                                  {"device", r.context().device().name},
                                  {"peak_rss_bytes", PeakRssBytes()}}
                       .dump()
                << std::endl;
    }
  }
  return kExitOk;
}

struct BenchTasksOptions {
  std::vector<std::string> scenarios;  // empty = every built-in scenario with a task
  int episodes = 50;
  int envs = 8;
  int threads = 0;
  std::uint64_t seed = 7;
};

// One JSON line per task scenario: the expert's success rate (the task's predicate) and mean
// episode length over seeded, randomized episodes.
int RunBenchTasks(const BenchTasksOptions& options) {
  core::SetLogLevel(core::LogLevel::kError);
  assets::AssetLibrary library(MakeResolver({}));
  std::vector<std::string> names = options.scenarios;
  if (names.empty())
    for (std::string_view name : scenarios::BuiltinScenarioNames()) names.push_back(std::string("builtin://") + std::string(name));
  for (const std::string& name : names) {
    auto scenario = scenarios::LoadScenario(name, library);
    if (!scenario) return ReportError("bench tasks", scenario.error());
    if (!scenario->task) continue;
    const auto start = Clock::now();
    auto result = scenarios::EvaluateExpert(*scenario, options.episodes, options.envs, options.seed, options.threads);
    if (!result) return ReportError("bench tasks", result.error());
    const double seconds = MsSince(start) / 1000.0;
    std::cout << nlohmann::json{{"bench", "tasks"},
                                {"scenario", name},
                                {"task", scenarios::TaskKindName(scenario->task->kind)},
                                {"episodes", result->episodes},
                                {"successes", result->successes},
                                {"success_rate", static_cast<double>(result->successes) / std::max(1, result->episodes)},
                                {"mean_episode_steps", result->mean_steps},
                                {"mean_episode_s", result->mean_steps * result->control_dt},
                                {"episodes_per_s", result->episodes / seconds},
                                {"seed", options.seed}}
                     .dump()
              << std::endl;
  }
  return kExitOk;
}

struct BenchDatagenOptions {
  std::string scenario = "builtin://default";
  std::vector<std::uint64_t> episodes = {4, 12};  // runs of growing length: peak RSS must stay flat
  int envs = 4;
  int threads = 0;
  int episodes_per_shard = 4;
  double render_seconds = 3.0;
  std::string device;
  std::vector<std::string> formats = {"hdf5"};
};

// One JSON line per run length, then the render-only figure for the same views.
int RunBenchDatagen(const BenchDatagenOptions& options) {
  core::SetLogLevel(core::LogLevel::kError);
  assets::AssetLibrary library(MakeResolver({}));
  datagen::DatagenConfig config;
  config.scenario = options.scenario;
  config.envs = options.envs;
  config.threads = options.threads;
  config.episodes_per_shard = options.episodes_per_shard;
  config.device = options.device;
  config.formats = options.formats;
  auto render_only = datagen::RenderOnlyFramesPerSecond(config, library, options.render_seconds);
  if (!render_only) return ReportError("bench datagen", render_only.error());
  for (std::uint64_t episodes : options.episodes) {
    char pattern[] = "/tmp/parafab-bench-datagen-XXXXXX";
    const char* dir = ::mkdtemp(pattern);
    if (dir == nullptr) return ReportError("bench datagen", core::Error{"cannot create a temporary directory", {"/tmp", 0, 0, ""}});
    config.out = std::filesystem::path(dir) / "dataset";
    config.episodes = episodes;
    auto stats = datagen::RunDatagen(config, library);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (!stats) return ReportError("bench datagen", stats.error());
    const double wall = stats->wall_s;
    const double frames = static_cast<double>(stats->frames);
    std::cout << nlohmann::json{{"bench", "datagen"},
                                {"scenario", options.scenario},
                                {"episodes", episodes},
                                {"envs", options.envs},
                                {"cameras_per_frame", frames > 0 ? static_cast<double>(stats->views) / frames : 0.0},
                                {"episodes_per_s", static_cast<double>(stats->episodes_run) / wall},
                                {"frames_per_s", frames / wall},
                                {"render_only_frames_per_s", *render_only},
                                {"bytes_per_frame", frames > 0 ? static_cast<double>(stats->bytes) / frames : 0.0},
                                {"peak_rss_bytes", PeakRssBytes()},
                                {"peak_episodes_held", stats->peak_episodes_held},
                                {"share_sim", stats->sim_s / wall},
                                {"share_render", stats->render_s / wall},
                                {"share_encode", stats->record_s / wall},
                                {"share_write", stats->write_s / wall},
                                {"successes", stats->successes},
                                {"wall_s", wall}}
                     .dump()
              << std::endl;
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

  auto render_options = std::make_shared<BenchRenderOptions>();
  CLI::App* render_cmd = bench->add_subcommand("render", "Views/s of the batch renderer with every output read back, per (size, envs)");
  render_cmd->add_option("--seconds", render_options->seconds, "Measuring time per case")->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
  render_cmd->add_option("--spheres", render_options->spheres, "Spheres per env (~2.3k triangles each)")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  render_cmd->add_option("--device", render_options->device, "Vulkan device name substring");
  render_cmd->add_option("--case", render_options->cases,
                         "Cases WIDTHxHEIGHTxENVS (default: 128x128x64 128x128x256 256x256x64 640x480x1)");
  render_cmd->add_option("--lod", render_options->lod, "Automatic level of detail")
      ->capture_default_str()->check(CLI::IsMember({"on", "off", "both"}));
  render_cmd->add_option("--lod-pixel-error", render_options->lod_pixel_error,
                         "LOD: largest screen-space error of a simplified mesh, pixels")
      ->capture_default_str()->check(CLI::Range(0.0, 100.0));
  render_cmd->add_option("--shadows", render_options->shadows, "Shadow maps for the directional light")
      ->capture_default_str()->check(CLI::IsMember({"on", "off"}));
  render_cmd->add_option("--shadow-map", render_options->shadow_map_size,
                         "Side of each env's shadow map in texels; 0 = the views' larger side, rounded up to a power of two")
      ->capture_default_str()->check(CLI::Range(0, 8192));
  render_cmd->callback([render_options, exit_code] { *exit_code = RunBenchRender(*render_options); });

  auto tasks_options = std::make_shared<BenchTasksOptions>();
  CLI::App* tasks_cmd = bench->add_subcommand("tasks", "Expert success rate and mean episode length per task scenario");
  tasks_cmd->add_option("--scenario", tasks_options->scenarios, "Scenarios (default: every built-in one with a task)");
  tasks_cmd->add_option("--episodes", tasks_options->episodes, "Episodes per scenario")->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  tasks_cmd->add_option("--envs", tasks_options->envs, "Episodes simulated at once")->capture_default_str()
      ->check(CLI::Range(1, 65536));
  tasks_cmd->add_option("--threads", tasks_options->threads, "Simulation threads (0 = all cores)")->capture_default_str();
  tasks_cmd->add_option("--seed", tasks_options->seed, "Seed of the episodes")->capture_default_str();
  tasks_cmd->callback([tasks_options, exit_code] { *exit_code = RunBenchTasks(*tasks_options); });

  auto datagen_options = std::make_shared<BenchDatagenOptions>();
  CLI::App* datagen_cmd = bench->add_subcommand(
      "datagen", "End-to-end labelled frames/s of parafab datagen against the renderer alone, where the time goes, and "
                 "peak memory over runs of growing length");
  datagen_cmd->add_option("--scenario", datagen_options->scenario, "Scenario file or builtin://NAME")->capture_default_str();
  datagen_cmd->add_option("--episodes", datagen_options->episodes, "Run lengths (episodes), one JSON line each")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  datagen_cmd->add_option("--envs", datagen_options->envs, "Env slots")->capture_default_str()->check(CLI::Range(1, 65536));
  datagen_cmd->add_option("--threads", datagen_options->threads, "Simulation threads (0 = all cores)")->capture_default_str();
  datagen_cmd->add_option("--episodes-per-shard", datagen_options->episodes_per_shard, "Episodes per shard")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  datagen_cmd->add_option("--render-seconds", datagen_options->render_seconds, "Measuring time of the render-only figure")
      ->capture_default_str()->check(CLI::Range(0.01, 3600.0));
  datagen_cmd->add_option("--device", datagen_options->device, "Vulkan device name substring");
  datagen_cmd->add_option("--formats", datagen_options->formats, "Output formats (hdf5, bop, coco, rlds)")
      ->delimiter(',')->capture_default_str();
  datagen_cmd->callback([datagen_options, exit_code] { *exit_code = RunBenchDatagen(*datagen_options); });

  RegisterBenchRl(bench, exit_code);
  RegisterBenchSoak(bench, exit_code);
}

}  // namespace pf::apps
