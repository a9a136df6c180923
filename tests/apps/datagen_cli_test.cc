// parafab datagen as a user (or a Slurm array) runs it: byte-identical datasets whatever
// the batch size, thread count or shard split; SIGKILL at random points then --resume
// gives the uninterrupted dataset; bad input fails before touching anything.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "pf/core/rng.h"
#include "support/test_support.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

using Run = pf::testing::CommandResult;

// parafab with `args`: exit code and everything it printed (stdout and stderr).
Run RunParafab(const std::string& args) {
  return pf::testing::RunCommand(std::string(PF_PARAFAB_BIN) + " " + args + " 2>&1");
}

// Every regular file under `root`, by relative path, with its bytes.
std::map<std::string, std::string> Files(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file()) files[fs::relative(entry.path(), root).string()] = pf::testing::ReadFile(entry.path());
  return files;
}

void RequireSameFiles(const fs::path& a, const fs::path& b) {
  const auto fa = Files(a), fb = Files(b);
  std::vector<std::string> na, nb;
  for (const auto& [name, bytes] : fa) na.push_back(name);
  for (const auto& [name, bytes] : fb) nb.push_back(name);
  REQUIRE(na == nb);
  for (const auto& [name, bytes] : fa) {
    INFO(name);
    CHECK(bytes == fb.at(name));
  }
}

const std::string kSmall = "datagen builtin://default --episodes 3 --episodes-per-shard 1 --seed 11";

TEST_CASE("parafab datagen: the same dataset whatever the envs, threads or shard split", "[apps][datagen][determinism]") {
  pf::testing::TempDir dir;
  const fs::path reference = dir.path() / "reference", serial = dir.path() / "serial", split = dir.path() / "split";
  const Run r = RunParafab(kSmall + " --envs 3 --threads 2 --out " + reference.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("manifest        " + reference.string() + "/manifest.json"));
  REQUIRE(fs::exists(reference / "manifest.json"));
  REQUIRE(fs::exists(reference / "shards/00002/episodes.hdf5"));
  REQUIRE(RunParafab(kSmall + " --envs 1 --threads 1 --out " + serial.string()).exit_code == 0);
  RequireSameFiles(reference, serial);
  // Three processes of a sharded run (as a Slurm array's tasks), one after the other: only
  // the last one writes the manifest.
  for (int shard = 0; shard < 3; ++shard) {
    const Run part = RunParafab(kSmall + " --envs 2 --num-shards 3 --shard " + std::to_string(shard) + " --out " + split.string());
    INFO(part.output);
    REQUIRE(part.exit_code == 0);
    CHECK(fs::exists(split / "manifest.json") == (shard == 2));
  }
  RequireSameFiles(reference, split);
}

// The number after "key": in parafab's --json line.
std::uint64_t JsonCount(const std::string& output, const std::string& key) {
  std::smatch match;
  const std::regex pattern("\"" + key + "\":([0-9]+)");
  if (!std::regex_search(output, match, pattern)) FAIL("no " << key << " in: " << output);
  return std::stoull(match[1].str());
}

// Every format streams: an episode is written out when it reaches the writer, so the
// finished episodes held in memory are bounded by the env slots (at most 3 × envs + 1),
// however many episodes a shard has; and the BOP/COCO/RLDS bytes, like the HDF5 ones, do
// not depend on the envs or threads.
TEST_CASE("parafab datagen: every format streams, and BOP, COCO and RLDS are the same whatever the envs or threads",
          "[apps][datagen][determinism][memory]") {
  pf::testing::TempDir dir;
  const fs::path one = dir.path() / "one", three = dir.path() / "three";
  const std::string args =
      "datagen builtin://default --episodes 5 --episodes-per-shard 5 --seed 4 --keep-failed --brain-hz 5 "
      "--formats hdf5,bop,coco,rlds --json";
  const Run serial = RunParafab(args + " --envs 1 --threads 1 --out " + one.string());
  INFO(serial.output);
  REQUIRE(serial.exit_code == 0);
  REQUIRE(JsonCount(serial.output, "episodes_kept") == 5);
  // One env slot: at most 4 finished episodes in memory at once, fewer than the shard's 5.
  const std::uint64_t held = JsonCount(serial.output, "peak_episodes_held");
  CHECK(held >= 1);
  CHECK(held <= 4);
  const Run parallel = RunParafab(args + " --envs 3 --threads 2 --out " + three.string());
  INFO(parallel.output);
  REQUIRE(parallel.exit_code == 0);
  CHECK(JsonCount(parallel.output, "peak_episodes_held") <= 10);
  REQUIRE(fs::exists(one / "shards/00000/bop/objects.json"));
  REQUIRE(fs::exists(one / "shards/00000/rlds"));
  REQUIRE(fs::exists(one / "shards/00000/coco"));
  RequireSameFiles(one, three);
}

TEST_CASE("parafab datagen: killed at random points and resumed, the dataset equals an uninterrupted run",
          "[apps][datagen][faults]") {
  pf::testing::TempDir dir;
  const fs::path reference = dir.path() / "reference", killed = dir.path() / "killed";
  const std::string args = "datagen builtin://default --episodes 4 --episodes-per-shard 1 --envs 2 --seed 5";
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(RunParafab(args + " --out " + reference.string()).exit_code == 0);
  const double full_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Kill points spread over a run's length (seeded, so the test is repeatable).
  pf::core::CounterRng rng({0, 1, 0, pf::core::RngStream::kTest, 0});
  int kills = 0;
  int completed = 0;
  for (int attempt = 0; attempt < 20 && kills < 6; ++attempt) {
    // A run that got to the end: it must be the reference; then start over.
    if (fs::exists(killed / "manifest.json")) {
      RequireSameFiles(reference, killed);
      fs::remove_all(killed);
      ++completed;
    }
    const double at_s = rng.Uniform(0.05, 0.7) * full_s;
    std::vector<std::string> argv_s = {PF_PARAFAB_BIN};
    for (std::size_t at = 0; at < args.size();) {
      const std::size_t space = std::min(args.find(' ', at), args.size());
      argv_s.push_back(args.substr(at, space - at));
      at = space + 1;
    }
    argv_s.insert(argv_s.end(), {"--out", killed.string(), "--resume"});
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    std::this_thread::sleep_for(std::chrono::duration<double>(at_s));
    const bool killed_it = ::kill(pid, SIGKILL) == 0;
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (killed_it && WIFSIGNALED(status)) ++kills;
    // Whatever is there is either complete (in the manifest's shards) or temporary.
    if (fs::exists(killed / "shards")) {
      for (const auto& entry : fs::directory_iterator(killed / "shards")) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with(".tmp-")) CHECK(fs::exists(entry.path() / "shard.json"));
      }
    }
    CHECK_FALSE(fs::exists(killed / "manifest.json.tmp"));
  }
  CHECK(kills >= 5);
  INFO("runs that completed between kills: " << completed);
  const Run finish = RunParafab(args + " --out " + killed.string() + " --resume");
  INFO(finish.output);
  REQUIRE(finish.exit_code == 0);
  RequireSameFiles(reference, killed);
}

TEST_CASE("parafab datagen: bad input fails before touching anything", "[apps][datagen][errors]") {
  pf::testing::TempDir dir;
  // An existing, non-empty directory that is not ours: refused, untouched, even with --overwrite.
  const auto keep = dir.Write("mine/notes.txt", "keep me");
  for (const char* extra : {"", " --overwrite", " --resume"}) {
    const Run r = RunParafab(kSmall + " --out " + (dir.path() / "mine").string() + extra);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(pf::testing::ReadFile(keep) == "keep me");
    CHECK(Files(dir.path() / "mine").size() == 1);
  }
  // An invalid scenario: an error naming file and line, and no output at all.
  const auto bad = dir.Write("bad.pbtxt", "name: \"bad\"\nrobots { name: \"arm\" urdf: \"builtin://parafab_arm\" }\n"
                                          "task { pick_place { objects: [\"ghost\"] target { } } }\n");
  const Run invalid = RunParafab("datagen " + bad.string() + " --out " + (dir.path() / "out1").string());
  CHECK(invalid.exit_code == 1);
  CHECK_THAT(invalid.output, Catch::Contains(bad.string() + ":3:"));
  CHECK_THAT(invalid.output, Catch::Contains("unknown object 'ghost'"));
  CHECK_FALSE(fs::exists(dir.path() / "out1"));
  // Settings that cannot work: named, and nothing written.
  const Run hz = RunParafab(kSmall + " --brain-hz 7 --out " + (dir.path() / "out2").string());
  CHECK(hz.exit_code == 1);
  CHECK_THAT(hz.output, Catch::Contains("--brain-hz"));
  CHECK_FALSE(fs::exists(dir.path() / "out2"));
  const Run shard = RunParafab(kSmall + " --shard 3 --num-shards 2 --out " + (dir.path() / "out3").string());
  CHECK(shard.exit_code == 1);
  CHECK_THAT(shard.output, Catch::Contains("--shard"));
  CHECK_FALSE(fs::exists(dir.path() / "out3"));
  const Run format = RunParafab(kSmall + " --formats hdf5,mp4 --out " + (dir.path() / "out4").string());
  CHECK(format.exit_code == 1);
  CHECK_THAT(format.output, Catch::Contains("mp4"));
  CHECK_FALSE(fs::exists(dir.path() / "out4"));
  // A scenario without a task or cameras cannot make a dataset.
  const auto no_task = dir.Write("no_task.pbtxt", "name: \"sim only\"\nrobots { name: \"arm\" urdf: \"builtin://parafab_arm\" }\n");
  const Run task = RunParafab("datagen " + no_task.string() + " --out " + (dir.path() / "out5").string());
  CHECK(task.exit_code == 1);
  CHECK_THAT(task.output, Catch::Contains("no task"));
  CHECK_FALSE(fs::exists(dir.path() / "out5"));
}

TEST_CASE("parafab datagen: an unwritable output directory is an error naming it", "[apps][datagen][errors]") {
  // Root ignores permission bits, so the unwritable place is a path below a regular file.
  pf::testing::TempDir dir;
  const auto file = dir.Write("a_file", "x");
  const Run r = RunParafab(kSmall + " --out " + (file / "sub").string());
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains((file / "sub").string()));
}

}  // namespace

namespace {

TEST_CASE("parafab replay re-simulates episodes and matches the recorded trajectory", "[apps][datagen][replay]") {
  pf::testing::TempDir dir;
  const fs::path ds = dir.path() / "ds";
  const Run made = RunParafab("datagen builtin://default --episodes 2 --episodes-per-shard 1 --envs 2 --seed 21 --out " + ds.string());
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
  const Run replay = RunParafab("replay " + ds.string() + " --episode 0 --episode 1");
  INFO(replay.output);
  CHECK(replay.exit_code == 0);
  CHECK_THAT(replay.output, Catch::Contains("episode 0: MATCH"));
  CHECK_THAT(replay.output, Catch::Contains("episode 1: MATCH"));
  // A tampered record no longer matches: exit 1.
  const fs::path shard = ds / "shards/00001/shard.json";
  std::string text = pf::testing::ReadFile(shard);
  const std::size_t at = text.find("\"trajectory_hash\": \"");
  REQUIRE(at != std::string::npos);
  char& digit = text[at + 20];
  digit = digit == '0' ? '1' : '0';
  {
    std::FILE* f = std::fopen(shard.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  const Run mismatch = RunParafab("replay " + ds.string() + " --episode 1");
  CHECK(mismatch.exit_code == 1);
  CHECK_THAT(mismatch.output, Catch::Contains("MISMATCH"));
  // A damaged shard summary is an error naming the file and the field: for replay, and for
  // a resumed run, which rebuilds the manifest from every shard's summary.
  const std::size_t steps = text.find("\"control_steps\": ");
  REQUIRE(steps != std::string::npos);
  text.insert(steps + 17, "-");
  {
    std::FILE* f = std::fopen(shard.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  const std::string where = shard.string() + ": episode_list[0].control_steps: shard summary: expected a non-negative integer";
  const Run damaged = RunParafab("replay " + ds.string() + " --episode 1");
  CHECK(damaged.exit_code == 1);
  CHECK_THAT(damaged.output, Catch::Contains(where));
  const Run resumed = RunParafab("datagen builtin://default --episodes 2 --episodes-per-shard 1 --envs 2 --seed 21 --resume --out " +
                                 ds.string());
  CHECK(resumed.exit_code == 1);
  CHECK_THAT(resumed.output, Catch::Contains(where));
  // Bad input: an episode the dataset does not have, a directory that is not a dataset.
  CHECK(RunParafab("replay " + ds.string() + " --episode 9").exit_code == 1);
  CHECK(RunParafab("replay " + dir.path().string() + " --episode 0").exit_code == 1);
  CHECK(RunParafab("replay " + ds.string()).exit_code == 2);
}

}  // namespace

namespace {

// A small tmpfs, mounted for the test and unmounted whatever happens (needs root, as CI has).
struct TinyFilesystem {
  fs::path dir;
  bool mounted = false;
  explicit TinyFilesystem(const fs::path& where, const std::string& size) : dir(where) {
    fs::create_directories(dir);
    mounted = pf::testing::RunCommand("mount -t tmpfs -o size=" + size + " tmpfs " + dir.string() + " 2>&1").exit_code == 0;
  }
  ~TinyFilesystem() {
    if (mounted) pf::testing::RunCommand("umount " + dir.string() + " 2>&1");
  }
};

TEST_CASE("parafab datagen: a full disk is an error naming the file, and finished shards stay intact",
          "[apps][datagen][faults]") {
  pf::testing::TempDir dir;
  TinyFilesystem tiny(dir.path() / "tiny", "3m");
  INFO("mounting a 3 MB tmpfs needs root (tools/test runs as root in CI)");
  REQUIRE(tiny.mounted);
  const fs::path ds = tiny.dir / "ds";
  const Run r = RunParafab("datagen builtin://default --episodes 4 --episodes-per-shard 1 --envs 2 --seed 2 --out " + ds.string());
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("No space left on device"));
  CHECK_THAT(r.output, Catch::Contains(ds.string() + "/shards/.tmp-"));
  CHECK_FALSE(fs::exists(ds / "manifest.json"));
  // Whatever shard got finished is complete: every file it lists has the listed sha256.
  int complete = 0;
  for (const auto& entry : fs::directory_iterator(ds / "shards")) {
    if (entry.path().filename().string().starts_with(".tmp-")) continue;
    REQUIRE(fs::exists(entry.path() / "shard.json"));
    const std::string summary = pf::testing::ReadFile(entry.path() / "shard.json");
    for (std::size_t at = summary.find("\"path\": \""); at != std::string::npos; at = summary.find("\"path\": \"", at + 1)) {
      const std::size_t start = at + 9, end = summary.find('"', start);
      const std::string name = summary.substr(start, end - start);
      const std::size_t sha_at = summary.find("\"sha256\": \"", end) + 11;
      const std::string sha = summary.substr(sha_at, 64);
      const auto sum = pf::testing::RunCommand("sha256sum " + (entry.path() / name).string());
      CHECK(sum.output.substr(0, 64) == sha);
    }
    ++complete;
  }
  CHECK(complete >= 1);
}

}  // namespace
