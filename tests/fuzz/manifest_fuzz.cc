// Fuzz target: the dataset manifest reader (datagen/manifest.h, ParseManifest), which
// parafab inspect uses on manifest.json.
//
// The input is manifest.json text. It must fail with an error naming the file, or give a
// manifest whose cameras have sizes in 1..16384, whose shard files stay inside the dataset
// directory, and whose integers are the ones the JSON holds (read again here with
// nlohmann::json: nothing wrapped around to fit a narrower type).
#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "pf/datagen/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pf;
  fuzz::QuietLogs();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string file = "dataset/manifest.json";
  const auto manifest = datagen::ParseManifest(text, file);
  if (!manifest) {
    fuzz::ExpectErrorNames(manifest.error(), file);
    return 0;
  }
  for (const datagen::ManifestCamera& camera : manifest->cameras)
    fuzz::Expect(!camera.name.empty() && camera.width >= 1 && camera.width <= 16384 && camera.height >= 1 &&
                     camera.height <= 16384,
                 "camera '", camera.name, "' of ", camera.width, " x ", camera.height, " accepted");
  for (const datagen::ManifestShard& shard : manifest->shards) {
    for (const std::string& path : shard.files)
      fuzz::Expect(!std::filesystem::path(path).is_absolute() && path.find("..") == std::string::npos,
                   "shard file '", path, "' leaves the dataset");
    fuzz::Expect(shard.episodes_file.empty() ||
                     std::find(shard.files.begin(), shard.files.end(), shard.episodes_file) != shard.files.end(),
                 "episodes file '", shard.episodes_file, "' is not among the shard's files");
  }
  // The integers as JSON has them (the parse succeeded, so they are there and non-negative
  // where unsigned).
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  fuzz::Expect(json.is_object(), "a manifest that is not a JSON object was accepted");
  const auto same = [](const nlohmann::json& j, auto value, const char* what) {
    const bool equal = j.is_number_unsigned()  ? std::cmp_equal(j.get<std::uint64_t>(), value)
                       : j.is_number_integer() ? std::cmp_equal(j.get<std::int64_t>(), value)
                                               : false;
    fuzz::Expect(equal, what, " is ", j.dump(), " in the JSON but ", value, " in the manifest");
  };
  same(json.at("episodes_per_shard"), manifest->episodes_per_shard, "episodes_per_shard");
  same(json.at("counts").at("shards"), manifest->num_shards, "counts.shards");
  same(json.at("seed"), manifest->seed, "seed");
  for (std::size_t i = 0; i < manifest->cameras.size(); ++i) {
    same(json.at("cameras").at(i).at("width"), manifest->cameras[i].width, "a camera width");
    same(json.at("cameras").at(i).at("height"), manifest->cameras[i].height, "a camera height");
  }
  for (std::size_t i = 0; i < manifest->shards.size(); ++i) {
    same(json.at("shards").at(i).at("shard"), manifest->shards[i].shard, "a shard number");
    same(json.at("shards").at(i).at("kept"), manifest->shards[i].kept, "a shard's kept count");
  }
  return 0;
}
