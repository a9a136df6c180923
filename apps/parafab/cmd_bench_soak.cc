// parafab bench soak: datagen runs and VecEnv stepping with resets, over and over, for
// --minutes; every --interval-s a JSON line with resident memory, heap in use, open file
// descriptors and live Vulkan objects, and at the end a summary of how they moved after
// the warm-up (memory: the rise of a least-squares line through the samples; the counts:
// their range). Leaks show as figures that keep growing.
//
// One cycle: a datagen run of a few episodes in every format into a fresh temporary
// directory (removed after), then a long-lived VecEnv (state and pixels, auto-reset, short
// episodes) stepped synchronously and asynchronously with random end-effector actions,
// with an explicit ResetEnvs and a full Reset(seed) now and then. Figures are sampled
// between cycles, when no datagen run is open and no VecEnv step is in flight, so the
// counts of a leak-free process repeat exactly.
#include <dirent.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "pf/core/log.h"
#include "pf/core/str.h"
#include "pf/core/rng.h"
#include "pf/datagen/datagen.h"
#include "pf/render/vulkan_context.h"
#include "pf/rl/vec_env.h"
#include "process_stats.h"

namespace pf::apps {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchSoakOptions {
  double minutes = 30.0;
  std::uint64_t cycles = 0;        // > 0: run exactly this many cycles instead
  double interval_s = 60.0;        // between samples
  double warmup_minutes = 5.0;     // growth is measured from the first sample at or after this
  std::string scenario = "builtin://default";
  std::uint64_t datagen_episodes = 2;  // per datagen run
  int datagen_envs = 2;
  std::vector<std::string> formats = {"hdf5", "bop", "coco", "rlds"};
  int vecenv_envs = 4;
  int vecenv_steps = 120;          // VecEnv steps per cycle (half Step, half Send/Recv)
  int max_episode_steps = 40;      // VecEnv episodes end (truncate) this soon: many resets
  int threads = 2;
  std::string device;
  bool datagen = true;  // run the datagen part of each cycle
  bool vecenv = true;   // run the VecEnv part
};

std::uint64_t OpenFileDescriptors() {
  std::uint64_t n = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (const dirent* entry = ::readdir(dir))
      if (entry->d_name[0] != '.') ++n;
    ::closedir(dir);
    if (n > 0) --n;  // the descriptor of the listing itself
  }
  return n;
}

struct Sample {
  double elapsed_s = 0.0;
  std::uint64_t rss = 0, heap = 0, fds = 0;
  std::uint64_t rss_anon = 0, rss_file = 0, rss_shmem = 0;  // /proc/self/status, bytes
  std::int64_t vk_total = 0;
  std::map<std::string, std::int64_t> vk;
};

Sample TakeSample(Clock::time_point start) {
  Sample s;
  s.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  s.rss = CurrentRssBytes();
  s.heap = HeapInUseBytes();
  s.fds = OpenFileDescriptors();
  // Where resident memory is: anonymous (heap, stacks, driver allocations), mapped files
  // (libraries), shared memory.
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    std::uint64_t* field = line.starts_with("RssAnon:")    ? &s.rss_anon
                           : line.starts_with("RssFile:")  ? &s.rss_file
                           : line.starts_with("RssShmem:") ? &s.rss_shmem
                                                           : nullptr;
    if (field != nullptr) *field = 1024 * std::strtoull(line.c_str() + line.find(':') + 1, nullptr, 10);
  }
  for (const render::VulkanObjectCount& c : render::LiveVulkanObjects()) {
    if (c.live != 0) s.vk[c.kind] = c.live;
    s.vk_total += c.live;
  }
  return s;
}

// Growth of a noisy figure over samples [first, end): the least-squares line's rise from the
// first to the last sample time, relative to the line's value at the first. Resident memory
// moves by a few megabytes from one sample to the next as threads come and go and the heap
// is reused, so comparing two single samples says more about that noise than about a leak.
double FittedGrowth(const std::vector<Sample>& samples, std::size_t first, std::uint64_t Sample::*field) {
  const std::size_t n = samples.size() - first;
  if (n < 2) return 0.0;
  double st = 0, sv = 0;
  for (std::size_t i = first; i < samples.size(); ++i) {
    st += samples[i].elapsed_s;
    sv += static_cast<double>(samples[i].*field);
  }
  const double mt = st / static_cast<double>(n), mv = sv / static_cast<double>(n);
  double stt = 0, stv = 0;
  for (std::size_t i = first; i < samples.size(); ++i) {
    const double dt = samples[i].elapsed_s - mt;
    stt += dt * dt;
    stv += dt * (static_cast<double>(samples[i].*field) - mv);
  }
  if (stt <= 0.0) return 0.0;
  const double slope = stv / stt;
  const double t0 = samples[first].elapsed_s, t1 = samples.back().elapsed_s;
  const double v0 = mv + slope * (t0 - mt);
  return v0 > 0.0 ? slope * (t1 - t0) / v0 : 0.0;
}

double Growth(std::uint64_t from, std::uint64_t to) {
  return from == 0 ? 0.0 : (static_cast<double>(to) - static_cast<double>(from)) / static_cast<double>(from);
}

int RunBenchSoak(const BenchSoakOptions& options) {
  core::SetLogLevel(core::LogLevel::kError);
  const char* command = "bench soak";
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.minutes * 60.0));

  // The VecEnv lives for the whole soak: leaks in stepping and resetting accumulate in it.
  rl::VecEnvConfig env_config;
  env_config.num_envs = options.vecenv_envs;
  env_config.threads = options.threads;
  env_config.observation = rl::ObservationMode::kBoth;
  env_config.action = rl::ActionMode::kEndEffectorDelta;
  env_config.max_episode_steps = options.max_episode_steps;
  env_config.batch_size = std::max(1, options.vecenv_envs / 2);
  env_config.render_device = options.device;
  auto env = rl::VecEnv::Create(options.scenario, env_config);
  if (!env) return ReportError(command, env.error());
  rl::VecEnv& vec = **env;

  char pattern[] = "/tmp/parafab-bench-soak-XXXXXX";
  const char* tmp = ::mkdtemp(pattern);
  if (tmp == nullptr) return ReportError(command, core::Error{"cannot create a temporary directory", {"/tmp", 0, 0, ""}});
  const std::filesystem::path work = tmp;
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{work};

  assets::AssetLibrary library(MakeResolver({}));
  datagen::DatagenConfig dg;
  dg.scenario = options.scenario;
  dg.episodes = options.datagen_episodes;
  dg.envs = options.datagen_envs;
  dg.threads = options.threads;
  dg.formats = options.formats;
  dg.episodes_per_shard = static_cast<int>(std::max<std::uint64_t>(1, (options.datagen_episodes + 1) / 2));
  dg.device = options.device;

  const int A = vec.action_dim();
  const int N = vec.num_envs();
  std::vector<float> actions(static_cast<std::size_t>(N) * static_cast<std::size_t>(A));
  std::uint64_t draw = 0;
  auto fill_actions = [&](std::size_t count) {
    core::CounterRng rng(core::RngKey{0, 0, draw++, core::RngStream::kActions, 0});
    for (std::size_t i = 0; i < count; ++i) actions[i] = static_cast<float>(rng.Uniform(-1.0, 1.0));
  };

  std::uint64_t cycles = 0, datagen_runs = 0, datagen_episodes = 0, env_steps = 0, env_episodes = 0;
  std::vector<Sample> samples;
  std::uint64_t sampled_cycles = 0;  // cycles done at the last sample
  auto emit = [&](const Sample& s, int minute) {
    nlohmann::json vk = nlohmann::json::object();
    for (const auto& [kind, n] : s.vk) vk[kind] = n;
    std::cout << nlohmann::json{{"bench", "soak"},
                                {"minute", minute},
                                {"elapsed_s", s.elapsed_s},
                                {"rss_bytes", s.rss},
                                {"heap_bytes", s.heap},
                                {"rss_anon_bytes", s.rss_anon},
                                {"rss_file_bytes", s.rss_file},
                                {"rss_shmem_bytes", s.rss_shmem},
                                {"open_fds", s.fds},
                                {"vk_objects", s.vk_total},
                                {"vk_objects_by_kind", vk},
                                {"cycles", cycles},
                                {"datagen_runs", datagen_runs},
                                {"datagen_episodes", datagen_episodes},
                                {"vecenv_steps", env_steps},
                                {"vecenv_episodes", env_episodes},
                                {"faults", vec.faults()}}
                     .dump()
              << std::endl;
  };

  vec.Reset(0);
  samples.push_back(TakeSample(start));
  emit(samples.back(), 0);
  auto next_sample = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.interval_s));
  while (options.cycles > 0 ? cycles < options.cycles : Clock::now() < deadline) {
    // A datagen run: every stage of the pipeline is created, run and torn down.
    const std::filesystem::path out = work / ("run-" + std::to_string(cycles));
    if (options.datagen) {
    dg.out = out;
    dg.seed = cycles;
    auto stats = datagen::RunDatagen(dg, library);
    if (!stats) return ReportError(command, stats.error());
    ++datagen_runs;
    datagen_episodes += stats->episodes_run;
    std::error_code ec;
    std::filesystem::remove_all(out, ec);
    if (ec) return ReportError(command, core::Error{core::StrCat("cannot remove: ", ec.message()), {out.string(), 0, 0, ""}});
    }

    // VecEnv stepping: synchronous steps, then asynchronous batches, with resets.
    const int half = options.vecenv ? options.vecenv_steps / 2 : 0;
    for (int t = 0; t < half; ++t) {
      fill_actions(actions.size());
      auto step = vec.Step(actions);
      if (!step) return ReportError(command, step.error());
      env_steps += static_cast<std::uint64_t>(step->batch);
      for (int i = 0; i < step->batch; ++i) env_episodes += (step->terminated[i] || step->truncated[i]) ? 1 : 0;
    }
    std::vector<std::int32_t> ids(static_cast<std::size_t>(N));
    std::iota(ids.begin(), ids.end(), 0);
    fill_actions(actions.size());
    if (options.vecenv)
      if (auto sent = vec.Send(actions, ids); !sent) return ReportError(command, sent.error());
    for (int t = 0; options.vecenv && t < options.vecenv_steps - half; ++t) {
      auto batch = vec.Recv();
      if (!batch) return ReportError(command, batch.error());
      env_steps += static_cast<std::uint64_t>(batch->batch);
      for (int i = 0; i < batch->batch; ++i) env_episodes += (batch->terminated[i] || batch->truncated[i]) ? 1 : 0;
      const std::vector<std::int32_t> back(batch->env_ids.begin(), batch->env_ids.end());
      if (t + 1 < options.vecenv_steps - half) {
        fill_actions(back.size() * static_cast<std::size_t>(A));
        if (auto sent = vec.Send(std::span<const float>(actions.data(), back.size() * static_cast<std::size_t>(A)), back); !sent)
          return ReportError(command, sent.error());
      }
    }
    while (vec.in_flight() > 0) {
      auto batch = vec.Recv();
      if (!batch) return ReportError(command, batch.error());
      env_steps += static_cast<std::uint64_t>(batch->batch);
    }
    const std::int32_t one[] = {static_cast<std::int32_t>(cycles % static_cast<std::uint64_t>(N))};
    if (options.vecenv) {
      if (auto reset = vec.ResetEnvs(one); !reset) return ReportError(command, reset.error());
      if (cycles % 5 == 4) vec.Reset(cycles);
    }
    ++cycles;

    if (Clock::now() >= next_sample) {
      samples.push_back(TakeSample(start));
      emit(samples.back(), static_cast<int>(samples.back().elapsed_s / 60.0 + 0.5));
      sampled_cycles = cycles;
      next_sample += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.interval_s));
    }
  }
  if (samples.size() == 1 || sampled_cycles != cycles) {
    samples.push_back(TakeSample(start));
    emit(samples.back(), static_cast<int>(samples.back().elapsed_s / 60.0 + 0.5));
  }

  // Growth after the warm-up: from the first sample at or after it (the first sample after
  // the start one when the soak is shorter) to the last.
  std::size_t ref = 1;
  for (std::size_t i = 1; i < samples.size(); ++i)
    if (samples[i].elapsed_s >= options.warmup_minutes * 60.0) {
      ref = i;
      break;
    }
  std::uint64_t rss_max = 0, fds_min = UINT64_MAX, fds_max = 0;
  std::int64_t vk_min = INT64_MAX, vk_max = 0;
  for (std::size_t i = ref; i < samples.size(); ++i) {
    rss_max = std::max(rss_max, samples[i].rss);
    fds_min = std::min(fds_min, samples[i].fds);
    fds_max = std::max(fds_max, samples[i].fds);
    vk_min = std::min(vk_min, samples[i].vk_total);
    vk_max = std::max(vk_max, samples[i].vk_total);
  }
  const Sample& from = samples[ref];
  const Sample& to = samples.back();
  const double rss_growth = FittedGrowth(samples, ref, &Sample::rss);
  const bool flat = rss_growth < 0.01 && fds_min == fds_max && vk_min == vk_max;
  std::cout << nlohmann::json{{"bench", "soak"},
                              {"summary", true},
                              {"scenario", options.scenario},
                              {"minutes", to.elapsed_s / 60.0},
                              {"warmup_minutes", options.warmup_minutes},
                              {"reference_elapsed_s", from.elapsed_s},
                              {"samples", samples.size()},
                              {"cycles", cycles},
                              {"datagen_runs", datagen_runs},
                              {"datagen_episodes", datagen_episodes},
                              {"vecenv_steps", env_steps},
                              {"vecenv_episodes", env_episodes},
                              {"rss_after_warmup_bytes", from.rss},
                              {"rss_end_bytes", to.rss},
                              {"rss_max_after_warmup_bytes", rss_max},
                              {"rss_growth_after_warmup", rss_growth},
                              {"rss_growth_endpoints", Growth(from.rss, to.rss)},
                              {"heap_after_warmup_bytes", from.heap},
                              {"heap_end_bytes", to.heap},
                              {"heap_growth_after_warmup", FittedGrowth(samples, ref, &Sample::heap)},
                              {"open_fds_min", fds_min},
                              {"open_fds_max", fds_max},
                              {"vk_objects_min", vk_min},
                              {"vk_objects_max", vk_max},
                              {"validation_messages", vec.validation_messages()},
                              {"faults", vec.faults()},
                              {"flat", flat}}
                   .dump()
            << std::endl;
  return kExitOk;
}

}  // namespace

void RegisterBenchSoak(CLI::App* bench, int* exit_code) {
  auto options = std::make_shared<BenchSoakOptions>();
  CLI::App* cmd = bench->add_subcommand(
      "soak", "Datagen runs and VecEnv stepping with resets, repeated for --minutes: RSS, heap, open files and live "
              "Vulkan objects every --interval-s, then their growth after the warm-up (flat: RSS growth along a least-squares line through the samples after the warm-up < 1 %, the counts equal)");
  cmd->add_option("--minutes", options->minutes, "How long to run")->capture_default_str()->check(CLI::Range(0.001, 100000.0));
  cmd->add_option("--cycles", options->cycles, "Run this many cycles instead of --minutes (0: use --minutes)")
      ->capture_default_str();
  cmd->add_option("--interval-s", options->interval_s, "Seconds between samples")->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--warmup-minutes", options->warmup_minutes, "Growth is measured from the first sample after this")
      ->capture_default_str()->check(CLI::Range(0.0, 100000.0));
  cmd->add_option("--scenario", options->scenario, "Scenario file or builtin://NAME")->capture_default_str();
  cmd->add_option("--datagen-episodes", options->datagen_episodes, "Episodes per datagen run")->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--datagen-envs", options->datagen_envs, "Env slots of each datagen run")->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--formats", options->formats, "Datagen output formats (hdf5, bop, coco, rlds)")->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--envs", options->vecenv_envs, "VecEnv environments")->capture_default_str()->check(CLI::Range(1, 65536));
  cmd->add_option("--steps", options->vecenv_steps, "VecEnv steps per cycle")->capture_default_str()->check(CLI::Range(2, 1 << 24));
  cmd->add_option("--max-episode-steps", options->max_episode_steps, "VecEnv episode length (short: many resets)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--threads", options->threads, "Threads of the datagen runs and the VecEnv (0 = all cores)")
      ->capture_default_str()->check(CLI::Range(0, 1024));
  cmd->add_option("--device", options->device, "Vulkan device name substring");
  cmd->add_flag("!--no-datagen", options->datagen, "Leave out the datagen runs (to tell where memory goes)");
  cmd->add_flag("!--no-vecenv", options->vecenv, "Leave out the VecEnv stepping");
  cmd->callback([options, exit_code] { *exit_code = RunBenchSoak(*options); });
}

}  // namespace pf::apps
