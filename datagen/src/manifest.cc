// manifest.json read back (manifest.h).
#include "pf/datagen/manifest.h"

#include <fstream>
#include <limits>
#include <sstream>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "pf/core/str.h"

namespace pf::datagen {
namespace {

namespace fs = std::filesystem;
using core::Fail;
using core::Location;
using core::StrCat;
using nlohmann::json;

Location At(const fs::path& file, std::string field = {}) { return Location{file.string(), 0, 0, std::move(field)}; }

// The member at `path` (dot-separated) of `root`, with the type `Want`, or an error naming
// the file and the field (`prefix`.`path`). Integers must fit `Want`.
template <class Want>
core::Result<Want> Get(const json& root, std::string_view path, const fs::path& file, std::string_view prefix = {}) {
  const auto At = [&](const fs::path& f, const std::string& p) {
    return Location{f.string(), 0, 0, prefix.empty() ? p : StrCat(prefix, ".", p)};
  };
  const json* node = &root;
  std::size_t at = 0;
  while (at <= path.size()) {
    const std::size_t dot = std::min(path.find('.', at), path.size());
    const std::string key(path.substr(at, dot - at));
    if (!node->is_object() || !node->contains(key)) return Fail("missing", At(file, std::string(path)));
    node = &(*node)[key];
    at = dot + 1;
  }
  const bool ok = [&] {
    if constexpr (std::is_same_v<Want, std::string>) return node->is_string();
    else if constexpr (std::is_same_v<Want, double>) return node->is_number();
    else if constexpr (std::is_same_v<Want, json>) return true;
    else return node->is_number_integer() || node->is_number_unsigned();
  }();
  if (!ok) return Fail(StrCat("unexpected type: ", node->type_name()), At(file, std::string(path)));
  if constexpr (std::is_same_v<Want, json>) return *node;
  else if constexpr (std::is_integral_v<Want>) {
    if (node->is_number_unsigned()) {
      const auto v = node->get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(std::numeric_limits<Want>::max()))
        return Fail(StrCat(v, " is out of range"), At(file, std::string(path)));
      return static_cast<Want>(v);
    }
    const auto v = node->get<std::int64_t>();
    if (v < 0 && std::is_unsigned_v<Want>) return Fail("negative", At(file, std::string(path)));
    if constexpr (std::is_signed_v<Want>) {
      if (v < std::numeric_limits<Want>::min() || v > std::numeric_limits<Want>::max())
        return Fail(StrCat(v, " is out of range"), At(file, std::string(path)));
    } else {
      if (static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<Want>::max()))
        return Fail(StrCat(v, " is out of range"), At(file, std::string(path)));
    }
    return static_cast<Want>(v);
  } else {
    return node->get<Want>();
  }
}

}  // namespace

core::Result<DatasetManifest> ParseManifest(std::string_view text, const fs::path& path) {
  const json manifest = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded()) return Fail("not valid JSON", At(path));
  if (!manifest.is_object()) return Fail("not a JSON object", At(path));
  PF_ASSIGN_OR_RETURN(const std::string format, Get<std::string>(manifest, "format", path));
  if (format != "parafab-dataset") return Fail(StrCat("'", format, "' is not a parafab dataset"), At(path, "format"));

  DatasetManifest m;
  PF_ASSIGN_OR_RETURN(m.scenario_name, Get<std::string>(manifest, "scenario.name", path));
  PF_ASSIGN_OR_RETURN(m.scenario_hash, Get<std::string>(manifest, "scenario.hash", path));
  if (auto source = Get<std::string>(manifest, "scenario.source", path)) m.scenario_source = *source;
  if (auto task = Get<std::string>(manifest, "task", path)) m.task = *task;
  if (auto version = Get<std::string>(manifest, "parafab_version", path)) m.parafab_version = *version;
  PF_ASSIGN_OR_RETURN(m.seed, Get<std::uint64_t>(manifest, "seed", path));
  PF_ASSIGN_OR_RETURN(m.episodes_per_shard, Get<int>(manifest, "episodes_per_shard", path));
  PF_ASSIGN_OR_RETURN(m.episodes_attempted, Get<std::uint64_t>(manifest, "counts.episodes_attempted", path));
  PF_ASSIGN_OR_RETURN(m.episodes_kept, Get<std::uint64_t>(manifest, "counts.episodes_kept", path));
  PF_ASSIGN_OR_RETURN(m.successes, Get<std::uint64_t>(manifest, "counts.successes", path));
  PF_ASSIGN_OR_RETURN(m.frames, Get<std::uint64_t>(manifest, "counts.frames", path));
  PF_ASSIGN_OR_RETURN(m.num_shards, Get<int>(manifest, "counts.shards", path));
  PF_ASSIGN_OR_RETURN(m.physics_hz, Get<double>(manifest, "rates.physics_hz", path));
  PF_ASSIGN_OR_RETURN(m.control_hz, Get<double>(manifest, "rates.control_hz", path));
  PF_ASSIGN_OR_RETURN(m.brain_hz, Get<double>(manifest, "rates.brain_hz", path));
  if (auto formats = Get<json>(manifest, "formats", path); formats && formats->is_array())
    for (const json& f : *formats)
      if (f.is_string()) m.formats.push_back(f.get<std::string>());

  PF_ASSIGN_OR_RETURN(const json cameras, Get<json>(manifest, "cameras", path));
  if (!cameras.is_array()) return Fail("not an array", At(path, "cameras"));
  for (std::size_t i = 0; i < cameras.size(); ++i) {
    const std::string field = StrCat("cameras[", i, "]");
    ManifestCamera camera;
    PF_ASSIGN_OR_RETURN(camera.name, Get<std::string>(cameras[i], "name", path, field));
    PF_ASSIGN_OR_RETURN(camera.width, Get<std::uint32_t>(cameras[i], "width", path, field));
    PF_ASSIGN_OR_RETURN(camera.height, Get<std::uint32_t>(cameras[i], "height", path, field));
    if (camera.name.empty() || camera.width == 0 || camera.height == 0 || camera.width > 16384 || camera.height > 16384)
      return Fail("a camera needs a name and a size of 1..16384 pixels", At(path, field));
    m.cameras.push_back(std::move(camera));
  }

  PF_ASSIGN_OR_RETURN(const json shards, Get<json>(manifest, "shards", path));
  if (!shards.is_array()) return Fail("not an array", At(path, "shards"));
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::string field = StrCat("shards[", i, "]");
    ManifestShard shard;
    PF_ASSIGN_OR_RETURN(shard.shard, Get<int>(shards[i], "shard", path, field));
    PF_ASSIGN_OR_RETURN(shard.kept, Get<std::uint64_t>(shards[i], "kept", path, field));
    PF_ASSIGN_OR_RETURN(const json files, Get<json>(shards[i], "files", path, field));
    if (!files.is_array()) return Fail("not an array", At(path, field + ".files"));
    for (std::size_t f = 0; f < files.size(); ++f) {
      auto file = Get<std::string>(files[f], "path", path);
      if (!file) return Fail("missing or not a string", At(path, StrCat(field, ".files[", f, "].path")));
      if (fs::path(*file).is_absolute() || file->find("..") != std::string::npos)
        return Fail(StrCat("'", *file, "' leaves the dataset directory"), At(path, StrCat(field, ".files[", f, "].path")));
      if (fs::path(*file).filename() == "episodes.hdf5") shard.episodes_file = *file;
      shard.files.push_back(std::move(*file));
    }
    m.shards.push_back(std::move(shard));
  }
  return m;
}

core::Result<DatasetManifest> ReadManifest(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot read the file", At(path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseManifest(text.str(), path);
}

}  // namespace pf::datagen
