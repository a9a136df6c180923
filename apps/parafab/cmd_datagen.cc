// parafab datagen SCENARIO --out DIR --episodes N ...: the main job. Runs the scenario's
// task with its scripted expert in N episodes, renders every camera at the brain rate and
// writes a sharded, resumable dataset (see pf/datagen/datagen.h); prints a summary.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "pf/core/str.h"
#include "pf/datagen/datagen.h"
#include "progress.h"

namespace pf::apps {
namespace {

struct DatagenOptions {
  datagen::DatagenConfig config;
  std::string out;
  std::string formats = "hdf5";
  int shard = -1, num_shards = -1;
  std::vector<std::string> asset_roots;
  bool json = false;
};

// A Slurm array variable as a non-negative int, or an error naming it.
core::Result<int> SlurmInt(const char* name) {
  const char* value = std::getenv(name);
  char* end = nullptr;
  const long v = std::strtol(value, &end, 10);
  if (end == value || *end != '\0' || v < 0 || v > (1 << 24))
    return core::Fail(core::StrCat(name, " is not a non-negative integer: '", value, "'"), {"", 0, 0, name});
  return static_cast<int>(v);
}

int RunDatagenCommand(DatagenOptions& options) {
  datagen::DatagenConfig& config = options.config;
  config.out = options.out;
  config.formats.clear();
  for (std::size_t at = 0; at <= options.formats.size();) {
    const std::size_t comma = std::min(options.formats.find(',', at), options.formats.size());
    if (comma > at) config.formats.push_back(options.formats.substr(at, comma - at));
    at = comma + 1;
  }
  // Shard index and count: the flags, else a Slurm array job's variables, else 0 of 1.
  if (options.shard >= 0) config.shard = options.shard;
  else if (std::getenv("SLURM_ARRAY_TASK_ID")) {
    auto id = SlurmInt("SLURM_ARRAY_TASK_ID");
    if (!id) return ReportError("datagen", id.error());
    config.shard = *id;
  }
  if (options.num_shards >= 0) config.num_shards = options.num_shards;
  else if (std::getenv("SLURM_ARRAY_TASK_COUNT")) {
    auto count = SlurmInt("SLURM_ARRAY_TASK_COUNT");
    if (!count) return ReportError("datagen", count.error());
    config.num_shards = *count;
  }
  assets::AssetLibrary library(MakeResolver(options.asset_roots));
  Progress progress("datagen", 0, "episodes");
  std::uint64_t total = 0;
  auto result = datagen::RunDatagen(config, library, [&](const datagen::DatagenProgress& p) {
    if (total == 0) {
      total = p.episodes_total;
      progress = Progress("datagen", total, "episodes");
    }
    progress.Update(p.episodes_done);
  });
  progress.Finish();
  if (!result) return ReportError("datagen", result.error());
  const datagen::DatagenStats& s = *result;
  const double frames_per_s = s.wall_s > 0 ? static_cast<double>(s.frames) / s.wall_s : 0.0;
  if (options.json) {
    std::cout << nlohmann::json{{"out", options.out},
                                {"shard", config.shard},
                                {"num_shards", config.num_shards},
                                {"episodes_run", s.episodes_run},
                                {"episodes_kept", s.episodes_kept},
                                {"successes", s.successes},
                                {"frames", s.frames},
                                {"views", s.views},
                                {"bytes", s.bytes},
                                {"shards_written", s.shards_written},
                                {"shards_skipped", s.shards_skipped},
                                {"manifest_written", s.manifest_written},
                                {"wall_s", s.wall_s},
                                {"frames_per_s", frames_per_s},
                                {"peak_episodes_held", s.peak_episodes_held}}
                     .dump()
              << std::endl;
    return kExitOk;
  }
  std::printf("dataset         %s (shard %d of %d)\n", options.out.c_str(), config.shard, config.num_shards);
  std::printf("episodes        %llu run, %llu successful, %llu kept\n", static_cast<unsigned long long>(s.episodes_run),
              static_cast<unsigned long long>(s.successes), static_cast<unsigned long long>(s.episodes_kept));
  std::printf("frames          %llu brain frames, %llu camera images\n", static_cast<unsigned long long>(s.frames),
              static_cast<unsigned long long>(s.views));
  std::printf("shards          %d written, %d already complete\n", s.shards_written, s.shards_skipped);
  std::printf("bytes           %.1f MB\n", static_cast<double>(s.bytes) / 1e6);
  std::printf("time            %.1f s (%.1f frames/s): sim %.1f s, render %.1f s, record %.1f s, write %.1f s (writer thread)\n",
              s.wall_s, frames_per_s, s.sim_s, s.render_s, s.record_s, s.write_s);
  std::printf("manifest        %s\n", s.manifest_written ? (options.out + "/manifest.json").c_str()
                                                         : "not yet: other shards of the run are still missing");
  return kExitOk;
}

}  // namespace

void RegisterDatagen(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<DatagenOptions>();
  datagen::DatagenConfig& c = options->config;
  CLI::App* cmd = app.add_subcommand("datagen", "Generate a labelled dataset: the scenario's task run by its scripted "
                                                "expert, every camera rendered at the brain rate, sharded and resumable");
  cmd->add_option("scenario", c.scenario, "Scenario file (.pbtxt) or builtin://NAME")->capture_default_str();
  cmd->add_option("--out", options->out, "Dataset directory")->required();
  cmd->add_option("--episodes", c.episodes, "Episodes in the whole dataset")->check(CLI::Range(1, 1 << 30))->capture_default_str();
  cmd->add_option("--envs", c.envs, "Episodes simulated at once")->check(CLI::Range(1, 65536))->capture_default_str();
  cmd->add_option("--threads", c.threads, "Simulation threads (0 = all cores)")->check(CLI::Range(0, 1024))->capture_default_str();
  cmd->add_option("--seed", c.seed, "Seed: with the scenario, it fixes every episode")->capture_default_str();
  cmd->add_option("--formats", options->formats, "Comma-separated output formats: hdf5, bop, coco, rlds")->capture_default_str();
  cmd->add_option("--brain-hz", c.brain_hz, "Camera and action rate (divides the control rate)")->capture_default_str();
  cmd->add_flag("--keep-failed", c.keep_failed, "Keep episodes whose task failed");
  cmd->add_option("--shard", options->shard, "This process's shard index (default $SLURM_ARRAY_TASK_ID or 0)")->check(CLI::Range(0, 1 << 24));
  cmd->add_option("--num-shards", options->num_shards, "Processes sharing the run (default $SLURM_ARRAY_TASK_COUNT or 1)")->check(CLI::Range(1, 1 << 24));
  cmd->add_option("--episodes-per-shard", c.episodes_per_shard, "Episodes per shard directory")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_flag("--resume", c.resume, "Continue the dataset in --out, skipping complete shards");
  cmd->add_flag("--overwrite", c.overwrite, "Replace the dataset in --out");
  cmd->add_option("--device", c.device, "Vulkan device (name substring; default: the best one)");
  cmd->add_option("--asset-root", options->asset_roots, "Extra asset root (repeatable)");
  cmd->add_flag("--json", options->json, "Print one JSON object");
  cmd->footer("The dataset depends only on the scenario, --seed, --episodes, --episodes-per-shard, --formats, --brain-hz and\n"
              "--keep-failed: not on --envs, --threads or how shards are split between processes.\n"
              "Exit codes: 0 success, 1 invalid input or failure, 2 usage error.");
  cmd->callback([options, exit_code] {
    if (std::getenv("PARAFAB_VK_VALIDATION")) options->config.validation = true;
    *exit_code = RunDatagenCommand(*options);
  });
}

}  // namespace pf::apps
