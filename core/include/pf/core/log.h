// Logging: leveled lines to stderr (or a sink a test or the editor installs).
//
// The level comes from SetLogLevel or, at start-up, the environment variable
// PARAFAB_LOG = debug | info | warning | error (default: info).
#pragma once

#include <functional>
#include <string_view>

#include "pf/core/str.h"

namespace pf::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

// Replaces where log lines go; an empty function restores stderr. Returns the previous sink.
using LogSink = std::function<void(LogLevel, std::string_view)>;
LogSink SetLogSink(LogSink sink);

// Writes one line (thread-safe; lines are never interleaved).
void Log(LogLevel level, std::string_view message);

template <class... Args>
void LogDebug(const Args&... args) {
  if (GetLogLevel() <= LogLevel::kDebug) Log(LogLevel::kDebug, StrCat(args...));
}
template <class... Args>
void LogInfo(const Args&... args) {
  if (GetLogLevel() <= LogLevel::kInfo) Log(LogLevel::kInfo, StrCat(args...));
}
template <class... Args>
void LogWarning(const Args&... args) {
  if (GetLogLevel() <= LogLevel::kWarning) Log(LogLevel::kWarning, StrCat(args...));
}
template <class... Args>
void LogError(const Args&... args) {
  Log(LogLevel::kError, StrCat(args...));
}

std::string_view LogLevelName(LogLevel level);

}  // namespace pf::core
