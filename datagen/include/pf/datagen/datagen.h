// Dataset generation: the product's main job.
//
// Episodes of a scenario's task run in the env slots of one BatchSim, driven by the task's
// scripted expert; every camera is rendered at the brain rate; finished episodes go to a
// writer thread behind a bounded queue, so simulation and rendering overlap with
// compression and writing, and memory is bounded by the number of env slots, not the run
// length or the shard size (every format writes an episode out when it comes).
//
// Layout of a dataset directory OUT:
//   OUT/run.json              the run's fixed settings (scenario hash, seed, episodes, ...):
//                             every process of a sharded run checks it before joining
//   OUT/shards/NNNNN/         shard NNNNN = episodes [N·P, (N+1)·P) (P = episodes_per_shard)
//     episodes.hdf5           robomimic layout + cerebellum (hdf5_episodes.h)
//     shard.json              counts and the sha256 of every file of the shard
//   OUT/manifest.json         written once every shard is complete (by whichever process
//                             finishes last): counts, shard list with sha256, versions,
//                             conventions
// A shard is written under shards/.tmp-NNNNN-PID, fsynced and renamed when complete, so a
// killed run never leaves a partial shard behind; --resume skips complete shards. Shard
// NNNNN's bytes depend only on (scenario, seed, episodes, settings): never on the number of
// envs, threads, or how the shards are split between processes (shard i of K runs the
// shards N with N mod K = i).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "pf/assets/library.h"
#include "pf/core/result.h"

namespace pf::datagen {

struct DatagenConfig {
  std::string scenario = "builtin://default";  // scenario file or builtin://NAME
  std::filesystem::path out;                   // dataset directory
  std::uint64_t episodes = 10;                 // episodes in the whole dataset (all shards)
  int envs = 4;                                // env slots (episodes simulated at once)
  int threads = 0;                             // threads for the per-env work: physics, expert, recording (0 = all cores)
  std::uint64_t seed = 0;                      // keys every random draw with the scenario hash
  std::vector<std::string> formats = {"hdf5"};  // output formats; "hdf5" for now
  double brain_hz = 10.0;                      // camera/action rate; divides the control rate
  bool keep_failed = false;                    // keep episodes the task predicate judged failed
  int shard = 0;                               // this process's part of the run ...
  int num_shards = 1;                          // ... of this many (Slurm array task id / count)
  int episodes_per_shard = 10;                 // episodes per shard directory
  bool resume = false;                         // continue a run in OUT, skipping complete shards
  bool overwrite = false;                      // replace OUT's dataset (only parafab's own files)
  std::string device;                          // Vulkan device name ("" = the best one)
  bool validation = false;                     // Vulkan validation layer (fails on any message)
};

struct DatagenProgress {
  std::uint64_t episodes_done = 0;   // finished by this process (written or dropped)
  std::uint64_t episodes_total = 0;  // this process's share
  std::uint64_t frames = 0;          // brain frames recorded (every camera of an env counts once)
  double elapsed_s = 0.0;
};

struct DatagenStats {
  std::uint64_t episodes_run = 0;       // simulated by this process
  std::uint64_t episodes_kept = 0;      // written
  std::uint64_t successes = 0;          // judged successful by the task predicate
  std::uint64_t frames = 0;             // brain frames written
  std::uint64_t views = 0;              // camera images written (frames × cameras)
  std::uint64_t bytes = 0;              // bytes of the shards this process wrote
  int shards_written = 0;
  int shards_skipped = 0;               // complete already (resume, or another process)
  bool manifest_written = false;
  double wall_s = 0.0;
  // The main thread's time. The per-env work (expert, recording, task evaluation) runs in
  // parallel with the physics on the simulation threads (--threads).
  double sim_s = 0.0;                   // control steps: expert, physics, recording, task evaluation
  double render_s = 0.0;                // rendering and readback
  double record_s = 0.0;                // copying frames into episode records
  double write_s = 0.0;                 // HDF5 compression and writing, hashing (writer thread)
  // Most finished episodes held in memory at once (handed to the writer thread and not yet
  // written out). Every format streams episodes out as they are written, so this depends on
  // the env slots (at most 3 × envs + 1), not on episodes_per_shard.
  std::uint64_t peak_episodes_held = 0;
};

using ProgressFn = std::function<void(const DatagenProgress&)>;

// Runs (this process's part of) a dataset. Bad settings, an invalid scenario or a scenario
// without a task or cameras fail before any file is written; an existing OUT without
// resume/overwrite fails without touching it. I/O errors stop the run; complete shards
// stay intact.
core::Result<DatagenStats> RunDatagen(const DatagenConfig& config, assets::AssetLibrary& library,
                                      const ProgressFn& progress = {});

struct ReplayResult {
  std::uint64_t episode = 0;
  std::string recorded_hash, replayed_hash;  // trajectory hashes (16 hex digits)
  bool recorded_success = false, replayed_success = false;
  int recorded_steps = 0, replayed_steps = 0;
  bool scenario_hash_matches = false;        // the scenario file still has the recorded content
  bool match = false;                        // same trajectory, bit for bit, and same scenario
};

// Re-simulates episode `episode` of the dataset in `dataset` from its provenance (run.json:
// scenario, seed, settings; the episode's draws come from the counter-based RNG) with the
// expert, without rendering, and compares its trajectory hash with the one recorded in the
// episode's shard. `scenario_override` replaces run.json's scenario path (a moved file).
core::Result<ReplayResult> ReplayEpisode(const std::filesystem::path& dataset, std::uint64_t episode,
                                         assets::AssetLibrary& library, const std::string& scenario_override = "");

// The renderer alone on the views a datagen run draws: config.envs envs of the scenario's
// first episodes, every camera, rendered and read back repeatedly for `seconds`. Returns
// env-frames per second (one env's cameras = one frame), the figure datagen's frames/s is
// compared with.
core::Result<double> RenderOnlyFramesPerSecond(const DatagenConfig& config, assets::AssetLibrary& library,
                                               double seconds);

}  // namespace pf::datagen
