#include <catch2/catch.hpp>

#include <string>

#include "pf/datagen/manifest.h"
#include "support/test_support.h"

namespace pf::datagen {
namespace {

// A manifest as the datagen runner writes it (the fields ParseManifest reads).
std::string Manifest(const std::string& camera_width = "128", const std::string& shard_number = "0",
                     const std::string& file = "shards/00000/episodes.hdf5") {
  return R"({"format": "parafab-dataset", "scenario": {"name": "default", "hash": "00ff", "source": "builtin://default"},
  "task": "pick_place", "parafab_version": "0.1.0", "seed": 7, "episodes_per_shard": 3,
  "counts": {"episodes_attempted": 3, "episodes_kept": 2, "successes": 1, "frames": 40, "shards": 1},
  "rates": {"physics_hz": 240.0, "control_hz": 60.0, "brain_hz": 10},
  "formats": ["hdf5", 3],
  "cameras": [{"name": "front", "width": )" + camera_width + R"(, "height": 96}],
  "shards": [{"shard": )" + shard_number + R"(, "kept": 2, "files": [{"path": ")" + file + R"("}, {"path": "shards/00000/shard.json"}]}]})";
}

TEST_CASE("ParseManifest reads what the runner writes", "[datagen][manifest]") {
  const auto m = ParseManifest(Manifest(), "ds/manifest.json");
  REQUIRE(m.has_value());
  CHECK(m->scenario_name == "default");
  CHECK(m->scenario_source == "builtin://default");
  CHECK(m->seed == 7);
  CHECK(m->episodes_per_shard == 3);
  CHECK(m->num_shards == 1);
  CHECK(m->brain_hz == 10.0);
  CHECK(m->formats == std::vector<std::string>{"hdf5"});
  REQUIRE(m->cameras.size() == 1);
  CHECK(m->cameras[0].width == 128);
  REQUIRE(m->shards.size() == 1);
  CHECK(m->shards[0].kept == 2);
  CHECK(m->shards[0].files.size() == 2);
  CHECK(m->shards[0].episodes_file == "shards/00000/episodes.hdf5");
}

TEST_CASE("ParseManifest refuses integers that do not fit, naming the field", "[datagen][manifest]") {
  // 2^32 + 1 used to wrap to a 1-pixel-wide camera.
  const auto wide = ParseManifest(Manifest("4294967297"), "ds/manifest.json");
  REQUIRE_FALSE(wide.has_value());
  CHECK(wide.error().where.file == "ds/manifest.json");
  CHECK(wide.error().where.field == "cameras[0].width");
  CHECK_THAT(wide.error().message, Catch::Contains("out of range"));

  const auto shard = ParseManifest(Manifest("128", "2147483648"), "ds/manifest.json");
  REQUIRE_FALSE(shard.has_value());
  CHECK(shard.error().where.field == "shards[0].shard");

  const auto negative = ParseManifest(Manifest("-5"), "ds/manifest.json");
  REQUIRE_FALSE(negative.has_value());
  CHECK(negative.error().message == "negative");
}

TEST_CASE("ParseManifest refuses files outside the dataset and bad JSON", "[datagen][manifest]") {
  const auto escape = ParseManifest(Manifest("128", "0", "../../etc/passwd"), "ds/manifest.json");
  REQUIRE_FALSE(escape.has_value());
  CHECK(escape.error().where.field == "shards[0].files[0].path");
  const auto broken = ParseManifest("{\"format\": ", "ds/manifest.json");
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().message == "not valid JSON");
  const auto missing = ReadManifest("/nonexistent/manifest.json");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().where.file == "/nonexistent/manifest.json");
}

}  // namespace
}  // namespace pf::datagen
