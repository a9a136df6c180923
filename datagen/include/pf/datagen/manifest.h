// Reading a dataset's manifest.json back (written by the datagen runner, datagen.h; read
// by parafab inspect, inspect.h).
//
// Only what readers need is taken from it, and every part is checked: errors name the
// manifest file and the JSON path of the field (`counts.frames`, `shards[2].files[0].path`).
// File paths listed for shards must stay inside the dataset directory (relative, no "..").
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "pf/core/result.h"

namespace pf::datagen {

struct ManifestCamera {
  std::string name;
  std::uint32_t width = 0, height = 0;  // pixels, 1..16384
};

struct ManifestShard {
  int shard = 0;                    // shard number
  std::uint64_t kept = 0;           // episodes it keeps
  std::vector<std::string> files;   // [num_files] paths relative to the dataset directory
  std::string episodes_file;        // the one named episodes.hdf5, "" when none
};

struct DatasetManifest {
  std::string scenario_name, scenario_source, scenario_hash, task, parafab_version;  // source, task and version may be ""
  std::uint64_t seed = 0;
  int episodes_per_shard = 0;
  std::uint64_t episodes_attempted = 0, episodes_kept = 0, successes = 0, frames = 0;
  int num_shards = 0;  // counts.shards
  double physics_hz = 0.0, control_hz = 0.0, brain_hz = 0.0;
  std::vector<std::string> formats;     // the string entries of "formats", when present
  std::vector<ManifestCamera> cameras;  // [num_cameras]
  std::vector<ManifestShard> shards;    // [num_shards listed] in file order
};

// Parses manifest.json text; `path` names the file in errors.
core::Result<DatasetManifest> ParseManifest(std::string_view text, const std::filesystem::path& path);

// Reads and parses the manifest file at `path`.
core::Result<DatasetManifest> ReadManifest(const std::filesystem::path& path);

}  // namespace pf::datagen
