// The parafab binary as a user runs it: exit codes and messages.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "support/test_support.h"

namespace {

struct Run {
  int exit_code;
  std::string output;  // stdout and stderr
};

Run RunParafab(const std::string& args) {
  const std::string command = std::string(PF_PARAFAB_BIN) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
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

TEST_CASE("parafab validate and run read scenarios; bad input exits 1, bad flags 2", "[apps][cli]") {
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
