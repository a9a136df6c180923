// The parafab binary as a user runs it: exit codes and messages.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace {

using Run = pf::testing::CommandResult;

// parafab with `args`: exit code and everything it printed (stdout and stderr).
Run RunParafab(const std::string& args) {
  return pf::testing::RunCommand(std::string(PF_PARAFAB_BIN) + " " + args + " 2>&1");
}

TEST_CASE("parafab validate prints a summary of the built-in robot", "[apps][cli]") {
  const Run r = RunParafab("validate builtin://parafab_arm");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("links      12"));
  CHECK_THAT(r.output, Catch::Contains("dof        9 (8 independent)"));
  CHECK_THAT(r.output, Catch::Contains("mass       18.5 kg"));
  const Run json = RunParafab("validate --json builtin://parafab_arm");
  CHECK(json.exit_code == 0);
  CHECK_THAT(json.output, Catch::Contains("\"links\":12"));
}

TEST_CASE("parafab validate: invalid input exits 1 naming file and line, usage errors exit 2", "[apps][cli]") {
  pf::testing::TempDir dir;
  const auto bad = dir.Write("bad.urdf", "<robot name='r'>\n<link name='a'/>\n<link name='b'/>\n"
                                         "<joint name='j' type='ball'><parent link='a'/><child link='b'/></joint>\n</robot>\n");
  const Run invalid = RunParafab("validate " + bad.string());
  CHECK(invalid.exit_code == 1);
  CHECK_THAT(invalid.output, Catch::Contains(bad.string() + ":4: joint[j].type: unknown joint type 'ball'"));
  CHECK(RunParafab("validate " + (dir.path() / "missing.urdf").string()).exit_code == 1);
  CHECK(RunParafab("validate").exit_code == 2);
  CHECK(RunParafab("validate a.urdf --no-such-flag").exit_code == 2);
  CHECK(RunParafab("no-such-command").exit_code == 2);
  CHECK(RunParafab("").exit_code == 2);
  const Run help = RunParafab("validate --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.output, Catch::Contains("Exit codes"));
}

TEST_CASE("parafab validate reads the shared Panda", "[apps][cli]") {
  const auto root = pf::testing::RequireSharedAssets();
  const Run r = RunParafab("validate " + (root / "franka_panda/panda.urdf").string());
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("links      13"));
  CHECK_THAT(r.output, Catch::Contains("dof        9 (8 independent)"));
}

}  // namespace

namespace {

std::string Field(const std::string& output, const std::string& name) {
  const auto at = output.find(name);
  if (at == std::string::npos) return "";
  auto begin = output.find_first_not_of(' ', at + name.size());
  return output.substr(begin, output.find('\n', begin) - begin);
}

TEST_CASE("parafab run: the state hash is the same across processes, thread counts and batch positions", "[apps][cli][determinism]") {
  const Run a = RunParafab("run --envs 6 --steps 40 --threads 1 --seed 7");
  const Run b = RunParafab("run --envs 6 --steps 40 --threads 2 --seed 7");
  INFO(a.output << b.output);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  const std::string hash = Field(a.output, "state_hash");
  CHECK(hash.size() == 16);
  CHECK(hash == Field(b.output, "state_hash"));
  CHECK(Field(RunParafab("run --envs 6 --steps 40 --threads 1 --seed 8").output, "state_hash") != hash);
  CHECK_THAT(a.output, Catch::Contains("faults          0"));
}

TEST_CASE("parafab validate and run read scenarios, bad input exits 1, bad flags 2", "[apps][cli]") {
  const Run ok = RunParafab("validate builtin://default");
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.output, Catch::Contains("actions    8 actuated joints"));
  pf::testing::TempDir dir;
  const auto bad = dir.Write("bad.pbtxt", "name: \"x\"\nphysics { timestep: -1 }\n");
  const Run invalid = RunParafab("run " + bad.string());
  CHECK(invalid.exit_code == 1);
  CHECK_THAT(invalid.output, Catch::Contains(bad.string() + ":2:"));
  CHECK(RunParafab("validate " + bad.string()).exit_code == 1);
  CHECK(RunParafab("run --envs 0").exit_code == 2);
  CHECK(RunParafab("run --steps abc").exit_code == 2);
  CHECK(RunParafab("run --threads -1").exit_code == 2);
  CHECK(RunParafab("run " + (dir.path() / "missing.pbtxt").string()).exit_code == 1);
}

}  // namespace

namespace {

TEST_CASE("parafab render writes PNGs, raw depth and ids and camera.json, and keeps existing output", "[apps][cli][render]") {
  // The validation layer is on; parafab render fails on any validation message.
  setenv("PARAFAB_VK_VALIDATION", "1", 1);
  pf::testing::TempDir dir;
  const auto out = dir.path() / "views";
  const Run r = RunParafab("render --out " + out.string() + " --envs 2 --width 64 --height 48");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* name : {"view000_rgb.png", "view000_depth.png", "view000_instance.png", "view001_semantic.png"}) {
    INFO(name);
    const std::string png = pf::testing::ReadFile(out / name);
    REQUIRE(png.size() > 8);
    CHECK(png.substr(1, 3) == "PNG");
  }
  CHECK(std::filesystem::file_size(out / "view001_depth.f32") == 64u * 48u * 4u);
  CHECK(std::filesystem::file_size(out / "view000_instance.u32") == 64u * 48u * 4u);
  CHECK_THAT(pf::testing::ReadFile(out / "camera.json"), Catch::Contains("\"K\""));
  // The folder now holds files: a second run refuses unless told to overwrite.
  const auto before = std::filesystem::last_write_time(out / "view000_rgb.png");
  const Run again = RunParafab("render --out " + out.string() + " --width 64 --height 48");
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.output, Catch::Contains("--overwrite"));
  CHECK(std::filesystem::last_write_time(out / "view000_rgb.png") == before);
  CHECK(RunParafab("render --out " + out.string() + " --width 64 --height 48 --overwrite").exit_code == 0);
  CHECK(RunParafab("render --out " + out.string() + " --width 4").exit_code == 2);
  CHECK(RunParafab("render --out " + out.string() + " --lod sometimes --overwrite").exit_code == 2);
  const Run shadows = RunParafab("render --out " + out.string() + " --shadows maybe --overwrite");
  CHECK(shadows.exit_code == 2);
  CHECK_THAT(shadows.output, Catch::Contains("--shadows"));
  const Run map = RunParafab("render --out " + out.string() + " --shadow-map 9000 --overwrite");
  CHECK(map.exit_code == 2);
  CHECK_THAT(map.output, Catch::Contains("--shadow-map"));
  // The map size is recorded with the views.
  CHECK(RunParafab("render --out " + out.string() + " --width 64 --height 48 --shadow-map 256 --overwrite").exit_code == 0);
  CHECK_THAT(pf::testing::ReadFile(out / "camera.json"), Catch::Contains("\"shadow_map_size\": 256"));
}

// "... lod MODE: N triangles)" from parafab render's summary line, or -1.
long long RenderedTriangles(const std::string& output) {
  const std::size_t at = output.find(" triangles)");
  if (at == std::string::npos) return -1;
  const std::size_t start = output.rfind(' ', at - 1);
  return std::stoll(output.substr(start + 1, at - start - 1));
}

TEST_CASE("parafab render --lod: small views draw simplified meshes, --lod off the full ones", "[apps][cli][render]") {
  setenv("PARAFAB_VK_VALIDATION", "1", 1);
  pf::testing::TempDir dir;
  const Run off = RunParafab("render --out " + (dir.path() / "off").string() + " --width 64 --height 48 --lod off");
  const Run on = RunParafab("render --out " + (dir.path() / "on").string() + " --width 64 --height 48 --lod on");
  INFO(off.output << on.output);
  REQUIRE(off.exit_code == 0);
  REQUIRE(on.exit_code == 0);
  CHECK_THAT(off.output, Catch::Contains("lod off"));
  CHECK(RenderedTriangles(on.output) > 0);
  CHECK(RenderedTriangles(on.output) < RenderedTriangles(off.output));
  CHECK_THAT(pf::testing::ReadFile(dir.path() / "on/camera.json"), Catch::Contains("\"lod\": \"on\""));
}

}  // namespace

namespace {

// The integer after "key": in a JSON line, or -1.
long long JsonInt(const std::string& line, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  const std::size_t at = line.find(needle);
  return at == std::string::npos ? -1 : std::stoll(line.substr(at + needle.size()));
}

// Not a speed figure: whether the counts a leak would move stay put while the work repeats.
TEST_CASE("parafab bench soak: open files and live Vulkan objects repeat exactly from cycle to cycle", "[apps][cli][soak]") {
  const Run r = RunParafab(
      "bench soak --cycles 4 --interval-s 0.1 --warmup-minutes 0 --datagen-episodes 1 --datagen-envs 1 --envs 2 "
      "--steps 16 --max-episode-steps 5");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> samples;
  std::string summary;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"bench\":\"soak\"") == std::string::npos) continue;
    (line.find("\"summary\":true") != std::string::npos ? summary : samples.emplace_back()) = line;
  }
  // The start, then one sample after each cycle (each takes longer than 0.1 s).
  REQUIRE(samples.size() == 5);
  REQUIRE(!summary.empty());
  CHECK(JsonInt(samples.back(), "datagen_runs") == 4);
  CHECK(JsonInt(samples.back(), "vecenv_episodes") > 0);
  // From the first sample after a cycle on (the start one precedes the first frames).
  for (std::size_t i = 2; i < samples.size(); ++i) {
    INFO(samples[i]);
    CHECK(JsonInt(samples[i], "open_fds") == JsonInt(samples[1], "open_fds"));
    CHECK(JsonInt(samples[i], "vk_objects") == JsonInt(samples[1], "vk_objects"));
    CHECK(JsonInt(samples[i], "cycles") > JsonInt(samples[i - 1], "cycles"));
  }
  CHECK(JsonInt(samples[1], "vk_objects") > 0);
  CHECK(JsonInt(summary, "open_fds_min") == JsonInt(summary, "open_fds_max"));
  CHECK(JsonInt(summary, "vk_objects_min") == JsonInt(summary, "vk_objects_max"));
  CHECK(JsonInt(summary, "faults") == 0);
  CHECK(RunParafab("bench soak --minutes 0").exit_code == 2);
}

}  // namespace
