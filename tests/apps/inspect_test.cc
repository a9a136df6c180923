// parafab inspect as a user runs it: the summary equals the manifest, the PNGs exist with
// their sizes, the contact sheet's RGB row holds the dataset's frames pixel for pixel
// (read back with Debian's python3: h5py + cv2), the dataset is left untouched, and bad
// input exits 1 naming the file, usage errors 2.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using Run = pf::testing::CommandResult;
using pf::testing::RunCommand;

Run RunParafab(const std::string& args) { return RunCommand(std::string(PF_PARAFAB_BIN) + " " + args + " 2>&1"); }

// stdout only (the JSON), stderr dropped.
Run RunParafabStdout(const std::string& args) {
  return RunCommand(std::string(PF_PARAFAB_BIN) + " " + args + " 2>/dev/null");
}

// Debian's python3, where tools/setup installs python3-h5py, -numpy and -opencv.
constexpr const char* kPython3 = "/usr/bin/python3";

// Every regular file under `root`, by relative path, with its bytes.
std::map<std::string, std::string> Files(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file()) files[fs::relative(entry.path(), root).string()] = pf::testing::ReadFile(entry.path());
  return files;
}

// Width and height from a PNG's IHDR chunk (bytes 16..23, big-endian).
std::pair<std::uint32_t, std::uint32_t> PngSize(const fs::path& path) {
  const std::string bytes = pf::testing::ReadFile(path);
  REQUIRE(bytes.size() > 24);
  REQUIRE(bytes.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  REQUIRE(bytes.substr(12, 4) == "IHDR");
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

// Compares the first sampled episode's contact sheet with the dataset: every column of
// the RGB row equals its frame (each pixel a scale × scale block), the depth row is black
// exactly where the dataset has no surface, and the ids inspect found for the movable
// objects are those under their projected origins (majority over every frame).
constexpr std::string_view kCheckSheet = R"PY(
import json, sys
import cv2, h5py, numpy as np
summary = json.load(open(sys.argv[1]))
dataset = sys.argv[2]
ep = summary["episodes"][0]
sheet = ep["sheets"][0]
png = cv2.imread(sheet["png"], cv2.IMREAD_UNCHANGED)
assert png is not None, sheet["png"]
png = png[:, :, ::-1]
assert png.shape == (sheet["height"], sheet["width"], 3), png.shape
s = sheet["scale"]
with h5py.File(dataset + "/" + ep["file"], "r") as f:
    obs = f["data/demo_%d/obs" % ep["episode"]]
    cam = sheet["camera"]
    for k, t in enumerate(sheet["frames"]):
        x0 = sheet["column_x"][k]
        image = obs[cam + "_image"][t]
        depth = obs[cam + "_depth"][t]
        H, W = depth.shape
        tile = png[sheet["rgb_y"]:sheet["rgb_y"] + H * s, x0:x0 + W * s]
        want = np.repeat(np.repeat(image, s, axis=0), s, axis=1)
        if not np.array_equal(tile, want):
            print("rgb row differs from frame", t, "max", np.abs(tile.astype(int) - want).max()); sys.exit(1)
        d = png[sheet["depth_y"]:sheet["depth_y"] + H * s:s, x0:x0 + W * s:s]
        black = np.all(d == 0, axis=-1)
        if not np.array_equal(black, depth == 0):
            print("depth row black pixels differ from no-surface pixels in frame", t); sys.exit(1)
    # Instance ids of the movable objects from their projected origins.
    poses = obs["object_poses"][:]
    K = obs[cam + "_intrinsics"][:]
    X = obs[cam + "_pose"][:]
    T, O, _ = poses.shape
    moving = [o for o in range(O) if np.ptp(poses[:, o, :3], axis=0).max() > 1e-6]
    assert moving, "no object moves"
    for o in moving:
        votes = {}
        for t in range(T):
            w, x, y, z = X[t, 3:]
            R = np.array([[1 - 2*(y*y + z*z), 2*(x*y - w*z), 2*(x*z + w*y)],
                          [2*(x*y + w*z), 1 - 2*(x*x + z*z), 2*(y*z - w*x)],
                          [2*(x*z - w*y), 2*(y*z + w*x), 1 - 2*(x*x + y*y)]])
            p = R.T @ (poses[t, o, :3] - X[t, :3])
            if p[2] <= 0: continue
            u = K[t, 0] * p[0] / p[2] + K[t, 2]; v = K[t, 1] * p[1] / p[2] + K[t, 3]
            if not (0 <= u < W and 0 <= v < H): continue
            i = int(obs[cam + "_instance"][t, int(v), int(u)])
            if i: votes[i] = votes.get(i, 0) + 1
        if sum(votes.values()) >= 3:
            best = max(votes, key=votes.get)
            if ep["object_instance_ids"][o] != best:
                print("object", o, "inspect says id", ep["object_instance_ids"][o], "projections say", best); sys.exit(1)
print("ok", len(sheet["frames"]), "frames")
)PY";

TEST_CASE("parafab inspect: summary, contact sheets and plots of a real dataset", "[apps][inspect]") {
  pf::testing::TempDir dir;
  const fs::path ds = dir.path() / "ds";
  const Run made = RunParafab("datagen builtin://default --episodes 3 --episodes-per-shard 2 --envs 3 --seed 5 --out " +
                              ds.string());
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
  const auto before = Files(ds);
  const json manifest = json::parse(pf::testing::ReadFile(ds / "manifest.json"));

  // JSON summary; two of the three kept episodes (evenly spaced: the first and the last).
  const Run r = RunParafabStdout("inspect " + ds.string() + " --episodes 2 --frames 4 --json");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const json s = json::parse(r.output);
  CHECK(s["out"] == (dir.path() / "ds-inspect").string());
  CHECK(s["scenario"]["hash"] == manifest["scenario"]["hash"]);
  CHECK(s["scenario"]["name"] == manifest["scenario"]["name"]);
  CHECK(s["seed"] == manifest["seed"]);
  CHECK(s["counts"] == manifest["counts"]);
  CHECK(s["rates"] == manifest["rates"]);
  CHECK(s["cameras"] == manifest["cameras"]);
  // File sizes: those on disk, which the manifest lists too.
  std::uint64_t total = 0;
  for (const auto& f : s["files"]) {
    INFO(f.dump());
    CHECK(f["present"] == true);
    CHECK(f["bytes"].get<std::uint64_t>() == fs::file_size(ds / f["path"].get<std::string>()));
    total += f["bytes"].get<std::uint64_t>();
  }
  CHECK(s["files"].size() == 2 + 2 * manifest["shards"].size());
  CHECK(s["total_bytes"].get<std::uint64_t>() == total);
  for (const auto& shard : manifest["shards"])
    for (const auto& f : shard["files"]) {
      const auto listed = std::find_if(s["files"].begin(), s["files"].end(), [&](const json& g) { return g["path"] == f["path"]; });
      REQUIRE(listed != s["files"].end());
      CHECK((*listed)["bytes"] == f["bytes"]);
    }

  // The sampled episodes, against each shard's episode list.
  std::map<std::uint64_t, json> listed;
  for (const char* shard : {"shards/00000/shard.json", "shards/00001/shard.json"}) {
    const json shard_json = json::parse(pf::testing::ReadFile(ds / shard));
    for (const auto& e : shard_json["episode_list"]) listed[e["episode"].get<std::uint64_t>()] = e;
  }
  REQUIRE(s["episodes"].size() == 2);
  CHECK(s["episodes"][0]["episode"] == 0);
  CHECK(s["episodes"][1]["episode"] == 2);
  std::vector<std::string> images;
  for (const auto& e : s["episodes"]) {
    const json& want = listed.at(e["episode"].get<std::uint64_t>());
    CHECK(e["success"] == want["success"]);
    CHECK(e["frames"] == want["frames"]);
    CHECK(e["instruction"] == want["instruction"]);
    const int T = e["frames"];
    REQUIRE(e["sheets"].size() == 1);
    for (const auto& sheet : e["sheets"]) {
      const fs::path png = sheet["png"].get<std::string>();
      char stem[64];
      std::snprintf(stem, sizeof stem, "episode_%06d_front.png", e["episode"].get<int>());
      CHECK(png == dir.path() / "ds-inspect" / stem);
      REQUIRE(fs::exists(png));
      CHECK(PngSize(png) == std::pair<std::uint32_t, std::uint32_t>(sheet["width"], sheet["height"]));
      // Four frames evenly spaced, first and last included.
      json frames = json::array();
      for (int i = 0; i < 4; ++i) frames.push_back(std::lround(i * (T - 1) / 3.0));
      CHECK(sheet["frames"] == frames);
      // 128-pixel images are drawn twice as large; four columns fit side by side.
      CHECK(sheet["scale"] == 2);
      CHECK(sheet["width"].get<int>() >= 4 * 256);
      CHECK(sheet["depth_near"].get<double>() > 0.0);
      CHECK(sheet["depth_far"].get<double>() > sheet["depth_near"].get<double>());
      images.push_back(png.string());
    }
    const fs::path plot = e["trajectory_png"].get<std::string>();
    REQUIRE(fs::exists(plot));
    CHECK(PngSize(plot).first == 1200);
    CHECK(PngSize(plot).second > 600);
    images.push_back(plot.string());
  }
  CHECK(s["images"] == json(images));

  // The contact sheet's pixels against the dataset, in python3 (h5py + cv2).
  const auto summary_file = dir.Write("summary.json", r.output);
  const auto script = dir.Write("check_sheet.py", kCheckSheet);
  const Run py = RunCommand(std::string(kPython3) + " " + script.string() + " " + summary_file.string() + " " +
                            ds.string() + " 2>&1");
  INFO("python3 + h5py + cv2:\n" << py.output);
  CHECK(py.exit_code == 0);
  CHECK_THAT(py.output, Catch::StartsWith("ok 4 frames"));

  // The text summary, with a chosen --out; defaults: 4 episodes (all 3 here), 6 frames.
  const fs::path out = dir.path() / "pictures";
  const Run text = RunParafab("inspect " + ds.string() + " --out " + out.string());
  INFO(text.output);
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.output, Catch::Contains("episodes        3 attempted, 3 kept, 3 successful"));
  CHECK_THAT(text.output, Catch::Contains("frames          " + manifest["counts"]["frames"].dump() + " brain frames"));
  CHECK_THAT(text.output, Catch::Contains("hash " + manifest["scenario"]["hash"].get<std::string>()));
  CHECK_THAT(text.output, Catch::Contains("cameras         front 128x128"));
  CHECK_THAT(text.output, Catch::Contains("images          6 written to " + out.string()));
  for (const char* name : {"episode_000000_front.png", "episode_000001_front.png", "episode_000002_front.png",
                           "episode_000000_trajectory.png", "episode_000002_trajectory.png"}) {
    INFO(name);
    CHECK_THAT(text.output, Catch::Contains((out / name).string()));
    CHECK(fs::exists(out / name));
  }

  // --episodes 0: the summary only, nothing written.
  const fs::path none = dir.path() / "none";
  const Run summary_only = RunParafab("inspect " + ds.string() + " --episodes 0 --out " + none.string());
  CHECK(summary_only.exit_code == 0);
  CHECK_THAT(summary_only.output, Catch::Contains("images          none written"));
  CHECK(!fs::exists(none));

  // Never inside the dataset.
  const Run inside = RunParafab("inspect " + ds.string() + " --out " + (ds / "pictures").string());
  CHECK(inside.exit_code == 1);
  CHECK_THAT(inside.output, Catch::Contains((ds / "pictures").string()));
  CHECK(RunParafab("inspect " + ds.string() + " --out " + ds.string() + "/.").exit_code == 1);
  CHECK(RunParafab("inspect " + ds.string() + "/ --out " + ds.string()).exit_code == 1);

  // An --out that cannot be made.
  const auto file = dir.Write("a_file", "x");
  const Run unwritable = RunParafab("inspect " + ds.string() + " --out " + (file / "sub").string());
  CHECK(unwritable.exit_code == 1);
  CHECK_THAT(unwritable.output, Catch::Contains((file / "sub").string()));

  // The dataset is exactly as written.
  const auto after = Files(ds);
  CHECK(after.size() == before.size());
  CHECK((after == before));
}

TEST_CASE("parafab inspect: missing, foreign and damaged datasets exit 1 naming the file, usage errors 2",
          "[apps][inspect]") {
  pf::testing::TempDir dir;
  const fs::path missing = dir.path() / "missing";
  const Run no_dir = RunParafab("inspect " + missing.string());
  CHECK(no_dir.exit_code == 1);
  CHECK_THAT(no_dir.output, Catch::Contains("parafab inspect: error: " + missing.string()));

  fs::create_directories(dir.path() / "empty");
  const Run empty = RunParafab("inspect " + (dir.path() / "empty").string());
  CHECK(empty.exit_code == 1);
  CHECK_THAT(empty.output, Catch::Contains((dir.path() / "empty" / "manifest.json").string()));

  const auto foreign = dir.Write("foreign/manifest.json", R"({"format": "something-else"})");
  const Run other = RunParafab("inspect " + foreign.parent_path().string());
  CHECK(other.exit_code == 1);
  CHECK_THAT(other.output, Catch::Contains(foreign.string() + ": format:"));

  const auto broken = dir.Write("broken/manifest.json", "{ not json");
  CHECK(RunParafab("inspect " + broken.parent_path().string()).exit_code == 1);

  // A manifest that lists a shard whose HDF5 file is not HDF5.
  const std::string manifest = R"({
    "format": "parafab-dataset", "scenario": {"name": "default", "hash": "0123456789abcdef"}, "seed": 0,
    "episodes_per_shard": 1, "rates": {"physics_hz": 960.0, "control_hz": 60.0, "brain_hz": 10.0},
    "cameras": [{"name": "front", "width": 8, "height": 8}],
    "counts": {"episodes_attempted": 1, "episodes_kept": 1, "successes": 1, "frames": 5, "shards": 1},
    "shards": [{"shard": 0, "episodes": [0, 1], "kept": 1, "successes": 1, "frames": 5,
                "files": [{"path": "shards/00000/episodes.hdf5", "bytes": 9, "sha256": ""}]}]})";
  dir.Write("damaged/manifest.json", manifest);
  const auto hdf5 = dir.Write("damaged/shards/00000/episodes.hdf5", "not hdf5\n");
  const Run damaged = RunParafab("inspect " + (dir.path() / "damaged").string() + " --out " + (dir.path() / "d-out").string());
  CHECK(damaged.exit_code == 1);
  CHECK_THAT(damaged.output, Catch::Contains(hdf5.string()));

  // Usage errors.
  CHECK(RunParafab("inspect").exit_code == 2);
  CHECK(RunParafab("inspect " + missing.string() + " --frames 0").exit_code == 2);
  CHECK(RunParafab("inspect " + missing.string() + " --episodes -1").exit_code == 2);
  CHECK(RunParafab("inspect " + missing.string() + " --no-such-flag").exit_code == 2);
  const Run help = RunParafab("inspect --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.output, Catch::Contains("Exit codes"));
}

}  // namespace
