#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "pf/core/log.h"

namespace pf::core {
namespace {

TEST_CASE("log lines go to the installed sink and respect the level", "[core][log]") {
  std::vector<std::pair<LogLevel, std::string>> lines;
  const LogSink previous = SetLogSink([&](LogLevel level, std::string_view m) { lines.emplace_back(level, m); });
  const LogLevel old_level = GetLogLevel();
  SetLogLevel(LogLevel::kWarning);
  LogInfo("hidden ", 1);
  LogWarning("shown ", 2, " of ", 3.5);
  LogError("error");
  SetLogLevel(old_level);
  SetLogSink(previous);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].first == LogLevel::kWarning);
  CHECK(lines[0].second == "shown 2 of 3.5");
  CHECK(lines[1].first == LogLevel::kError);
}

}  // namespace
}  // namespace pf::core
