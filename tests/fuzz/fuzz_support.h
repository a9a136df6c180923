// Shared pieces of the libFuzzer targets in tests/fuzz/ (see tests/fuzz/CMakeLists.txt).
//
// Every target defines LLVMFuzzerTestOneInput. It is built twice: linked with libFuzzer
// (clang, -DPF_FUZZ=ON, tools/fuzz) to search for crashing inputs, and in the normal
// build linked with replay_main.cc, which feeds the seed corpus and the saved regression
// inputs through the same function as a CTest test.
//
// A target checks more than "did not crash": a parser must either succeed with a result
// that keeps its documented invariants or fail with an error that names the input file;
// anything else calls Violation, which aborts so both libFuzzer and the replay test
// report the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "pf/core/result.h"
#include "pf/core/str.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace pf::fuzz {

// A private directory (mkdtemp under $TMPDIR or /tmp) created on first use and removed
// with its contents when the process exits. Targets write inputs that must be files there.
const std::filesystem::path& PrivateDir();

// Writes `contents` to PrivateDir()/name, replacing it, and returns the full path.
std::filesystem::path WriteFile(std::string_view name, std::string_view contents);

// Raises the log level to errors only (once): parsers log a warning per odd input, which
// would drown the fuzzer's output and slow it down.
void QuietLogs();

// Prints "fuzz invariant violated: <what>" to stderr and aborts.
[[noreturn]] void Violation(std::string_view what);

template <class... Args>
void Expect(bool condition, const Args&... what) {
  if (!condition) Violation(core::StrCat(what...));
}

// An error from a parser fed `file` must say what is wrong and name the file.
void ExpectErrorNames(const core::Error& error, std::string_view file);

}  // namespace pf::fuzz
