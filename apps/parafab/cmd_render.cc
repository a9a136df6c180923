// parafab render [SCENARIO] --out DIR: draws every env's view of a scenario and writes, per
// view, PNGs for people (RGB, colour-mapped depth, instance and semantic ids) and raw
// arrays for programs (float32 z-depth in metres, uint32 ids), plus camera.json.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>

#include <nlohmann/json.hpp>
#include <stb_image_write.h>

#include "commands.h"
#include "pf/core/hash.h"
#include "pf/core/rng.h"
#include "pf/core/str.h"
#include "pf/render/batch_renderer.h"
#include "pf/render/camera.h"
#include "pf/render/vulkan_context.h"
#include "pf/sim/batch_sim.h"
#include "pf/sim/random_actions.h"

namespace pf::apps {
namespace {

namespace fs = std::filesystem;

struct RenderOptions {
  std::string scenario = "builtin://default";
  std::string out;
  int envs = 1;
  int steps = 0;
  std::uint64_t seed = 0;
  int width = 320;
  int height = 240;
  double fov_y_deg = 60.0;
  std::vector<double> eye{1.2, -0.8, 1.1};
  std::vector<double> target{0.5, 0.0, 0.45};
  std::string device;
  std::string lod = "on";          // automatic level of detail
  std::string shadows = "on";
  std::uint32_t shadow_map_size = 0;  // texels; 0 = automatic
  double lod_pixel_error = 0.5;    // its largest screen-space error, pixels
  bool overwrite = false;
  std::vector<std::string> asset_roots;
};


// A distinct, stable colour for an id (0 = black).
void IdColour(std::uint32_t id, std::uint8_t* rgb) {
  if (id == 0) {
    rgb[0] = rgb[1] = rgb[2] = 0;
    return;
  }
  const std::uint64_t h = core::Mix64(id);
  rgb[0] = static_cast<std::uint8_t>(64 + (h & 0xBF));
  rgb[1] = static_cast<std::uint8_t>(64 + ((h >> 8) & 0xBF));
  rgb[2] = static_cast<std::uint8_t>(64 + ((h >> 16) & 0xBF));
}

// Near = yellow, far = dark blue; background black.
void DepthColour(float z, float lo, float hi, std::uint8_t* rgb) {
  if (!(z > 0.0f)) {
    rgb[0] = rgb[1] = rgb[2] = 0;
    return;
  }
  const float t = hi > lo ? std::clamp((z - lo) / (hi - lo), 0.0f, 1.0f) : 0.0f;
  static constexpr float kRamp[5][3] = {{253, 231, 37}, {94, 201, 98}, {33, 145, 140}, {59, 82, 139}, {68, 1, 84}};
  const float f = t * 4.0f;
  const int i = std::min(static_cast<int>(f), 3);
  const float w = f - static_cast<float>(i);
  for (int c = 0; c < 3; ++c) rgb[c] = static_cast<std::uint8_t>(kRamp[i][c] * (1 - w) + kRamp[i + 1][c] * w);
}

template <class T>
bool WriteRaw(const fs::path& path, std::span<const T> values) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size_bytes()));
  return static_cast<bool>(out);
}

int RunRender(const RenderOptions& options) {
  if (options.eye.size() != 3 || options.target.size() != 3) {
    std::fprintf(stderr, "parafab render: --eye and --target take three numbers\n");
    return kExitUsage;
  }
  const fs::path out(options.out);
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_empty(out, ec) && !options.overwrite)
    return ReportError("render", core::Error{"output folder exists and is not empty (use --overwrite)", {out.string(), 0, 0, ""}});
  assets::AssetLibrary library(MakeResolver(options.asset_roots));
  auto compiled = Compile(scenarios::LoadScenario(options.scenario, library));
  if (!compiled) return ReportError("render", compiled.error());
  const sim::Model& model = *compiled->model;
  auto sim = sim::BatchSim::Create(compiled->model, {options.envs, 0, 64});
  if (!sim) return ReportError("render", sim.error());
  sim::RandomActionConfig actions;
  actions.seed = options.seed;
  for (int t = 0; t < options.steps; ++t) {
    sim::FillRandomActions(**sim, actions, static_cast<std::uint64_t>(t));
    (*sim)->Step();
  }

  core::RenderSnapshot snapshot;
  snapshot.num_cameras = 1;
  (*sim)->WriteSnapshot(&snapshot);
  core::CameraIntrinsics K;
  K.width = static_cast<std::uint32_t>(options.width);
  K.height = static_cast<std::uint32_t>(options.height);
  K.fy = 0.5 * options.height / std::tan(0.5 * options.fov_y_deg * std::numbers::pi / 180.0);
  K.fx = K.fy;
  K.cx = 0.5 * options.width;
  K.cy = 0.5 * options.height;
  K.near = 0.02;
  K.far = 20.0;
  const core::Pose X_WC = render::LookAt({options.eye[0], options.eye[1], options.eye[2]},
                                 {options.target[0], options.target[1], options.target[2]});
  for (int e = 0; e < options.envs; ++e) {
    snapshot.camera_intrinsics[static_cast<std::size_t>(e)] = K;
    core::PoseToArray(X_WC, snapshot.camera_poses.data() + 7 * e);
  }
  std::vector<render::RenderMeshInput> meshes;
  for (const auto& mesh : model.render_meshes()) meshes.emplace_back(*mesh.mesh, mesh.colour, mesh.texture, mesh.specular);
  render::RenderConfig config;
  config.device_name = options.device;
  config.lod.enabled = options.lod == "on";
  config.lod.pixel_error = options.lod_pixel_error;
  config.shadows = options.shadows == "on";
  config.shadow_map_size = options.shadow_map_size;
  auto renderer = render::BatchRenderer::Create(config, meshes);
  if (!renderer) return ReportError("render", renderer.error());
  if (auto status = (*renderer)->Render(snapshot); !status) return ReportError("render", status.error());

  fs::create_directories(out, ec);
  if (ec) return ReportError("render", core::Error{"cannot create the output folder: " + ec.message(), {out.string(), 0, 0, ""}});
  const std::size_t pixels = static_cast<std::size_t>(options.width) * static_cast<std::size_t>(options.height);
  std::vector<std::uint8_t> rgb(pixels * 3);
  auto write_png = [&](const fs::path& path, int channels, const std::uint8_t* data) {
    return stbi_write_png(path.c_str(), options.width, options.height, channels, data, options.width * channels) != 0;
  };
  for (int e = 0; e < options.envs; ++e) {
    const auto view = static_cast<std::uint32_t>(e);
    char stem[32];
    std::snprintf(stem, sizeof stem, "view%03d", e);
    const auto depth = (*renderer)->depth(view);
    const auto instance = (*renderer)->instance_ids(view);
    const auto semantic = (*renderer)->semantic_ids(view);
    float lo = 1e30f, hi = 0.0f;
    for (float z : depth)
      if (z > 0.0f) {
        lo = std::min(lo, z);
        hi = std::max(hi, z);
      }
    bool ok = write_png(out / (std::string(stem) + "_rgb.png"), 4, (*renderer)->colour(view).data());
    for (std::size_t i = 0; i < pixels; ++i) DepthColour(depth[i], lo, hi, &rgb[3 * i]);
    ok = ok && write_png(out / (std::string(stem) + "_depth.png"), 3, rgb.data());
    for (std::size_t i = 0; i < pixels; ++i) IdColour(instance[i], &rgb[3 * i]);
    ok = ok && write_png(out / (std::string(stem) + "_instance.png"), 3, rgb.data());
    for (std::size_t i = 0; i < pixels; ++i) IdColour(semantic[i], &rgb[3 * i]);
    ok = ok && write_png(out / (std::string(stem) + "_semantic.png"), 3, rgb.data());
    ok = ok && WriteRaw(out / (std::string(stem) + "_depth.f32"), depth);
    ok = ok && WriteRaw(out / (std::string(stem) + "_instance.u32"), instance);
    ok = ok && WriteRaw(out / (std::string(stem) + "_semantic.u32"), semantic);
    if (!ok) return ReportError("render", core::Error{"cannot write the view files", {out.string(), 0, 0, ""}});
  }
  nlohmann::json bodies = nlohmann::json::array();
  for (int b = 0; b < model.num_bodies(); ++b)
    bodies.push_back({{"instance_id", b + 1}, {"name", model.bodies()[static_cast<std::size_t>(b)].name},
                      {"semantic_id", model.bodies()[static_cast<std::size_t>(b)].semantic_class}});
  double pose[7];
  core::PoseToArray(X_WC, pose);
  std::ofstream(out / "camera.json") << nlohmann::json{
      {"conventions", {{"camera", "OpenCV: +X right, +Y down, +Z forward"},
                       {"pose", "X_WC: camera in world, (x, y, z, qw, qx, qy, qz), metres"},
                       {"depth", "z-depth in metres, float32 little-endian [H x W], 0 = background"},
                       {"ids", "uint32 little-endian [H x W], 0 = background; instance id = body index + 1"}}},
      {"width", K.width}, {"height", K.height},
      {"K", {{K.fx, 0.0, K.cx}, {0.0, K.fy, K.cy}, {0.0, 0.0, 1.0}}},
      {"X_WC", std::vector<double>(pose, pose + 7)},
      {"scenario", compiled->scenario.model.name},
      {"views", options.envs},
      {"lod", options.lod},
      {"shadow_map_size", (*renderer)->shadow_map_size()},
      {"lod_pixel_error", options.lod_pixel_error},
      {"bodies", bodies}}.dump(2)
                                  << "\n";
  const auto& context = (*renderer)->context();
  if (context.validation_errors() + context.validation_warnings() > 0)
    return ReportError("render", core::Error{core::StrCat("the Vulkan validation layer reported ", context.validation_errors(),
                                                          " errors and ", context.validation_warnings(), " warnings"),
                                             {}});
  const auto& stats = (*renderer)->last_stats();
  std::printf("rendered %d view(s) of %s at %dx%d into %s (device: %s, lod %s: %llu triangles)\n", options.envs,
              compiled->scenario.model.name.c_str(), options.width, options.height, out.c_str(),
              (*renderer)->context().device().name.c_str(), options.lod.c_str(),
              static_cast<unsigned long long>(stats.triangles));
  return kExitOk;
}

}  // namespace

void RegisterRender(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<RenderOptions>();
  CLI::App* cmd = app.add_subcommand("render", "Render each env's view of a scenario: PNGs for people, raw depth and ids, camera.json");
  cmd->add_option("scenario", options->scenario, "Scenario file (.pbtxt) or builtin://NAME")->capture_default_str();
  cmd->add_option("--out", options->out, "Output folder")->required();
  cmd->add_option("--envs", options->envs, "Environments (one view each)")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--steps", options->steps, "Control steps simulated before rendering")->check(CLI::Range(0, 1 << 24))->capture_default_str();
  cmd->add_option("--seed", options->seed, "Seed of the action stream")->capture_default_str();
  cmd->add_option("--width", options->width, "Image width")->check(CLI::Range(8, 8192))->capture_default_str();
  cmd->add_option("--height", options->height, "Image height")->check(CLI::Range(8, 8192))->capture_default_str();
  cmd->add_option("--fov-y", options->fov_y_deg, "Vertical field of view, degrees")->check(CLI::Range(1.0, 170.0))->capture_default_str();
  cmd->add_option("--eye", options->eye, "Camera position x y z (m)")->expected(3)->capture_default_str();
  cmd->add_option("--target", options->target, "Point the camera looks at x y z (m)")->expected(3)->capture_default_str();
  cmd->add_option("--device", options->device, "Vulkan device name substring (default: prefer a discrete GPU)");
  cmd->add_option("--lod", options->lod, "Automatic level of detail per (view, object) from its projected size")
      ->capture_default_str()->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--lod-pixel-error", options->lod_pixel_error,
                  "LOD: largest screen-space error of a simplified mesh, pixels")
      ->capture_default_str()->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--shadows", options->shadows, "Shadow maps for the directional light")
      ->capture_default_str()->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--shadow-map", options->shadow_map_size,
                  "Side of each env's shadow map in texels; 0 = the views' larger side, rounded up to a power of two")
      ->capture_default_str()->check(CLI::Range(0, 8192));
  cmd->add_flag("--overwrite", options->overwrite, "Write into a non-empty output folder");
  cmd->add_option("--asset-root", options->asset_roots, "Extra asset root (repeatable)");
  cmd->footer("Exit codes: 0 success, 1 invalid input or failure, 2 usage error.");
  cmd->callback([options, exit_code] { *exit_code = RunRender(*options); });
}

}  // namespace pf::apps
