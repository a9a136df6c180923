// PF_CHECK: invariants on hot paths. A failed check prints where and why, then aborts.
// Hot paths (step, snapshot, record) use this instead of Result.
#pragma once

#include <string>

#include "pf/core/str.h"

namespace pf::core {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const std::string& message);
}  // namespace pf::core

// PF_CHECK(cond) or PF_CHECK(cond, "message ", value, ...).
#define PF_CHECK(cond, ...)                                                         \
  do {                                                                              \
    if (!(cond)) [[unlikely]] {                                                     \
      ::pf::core::CheckFailed(__FILE__, __LINE__, #cond,                            \
                              ::pf::core::StrCat("" __VA_OPT__(, ) __VA_ARGS__));   \
    }                                                                               \
  } while (0)
