#include "fuzz/fuzz_support.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <system_error>

#include "pf/core/log.h"

namespace pf::fuzz {
namespace {

namespace fs = std::filesystem;

// Owns the private directory; removes it at exit.
class PrivateDirectory {
 public:
  PrivateDirectory() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = (tmp != nullptr && tmp[0] != '\0' ? std::string(tmp) : std::string("/tmp")) +
                          "/parafab-fuzz-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("parafab fuzz: mkdtemp");
      std::abort();
    }
    path_ = pattern;
  }
  ~PrivateDirectory() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  PrivateDirectory(const PrivateDirectory&) = delete;
  PrivateDirectory& operator=(const PrivateDirectory&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

const fs::path& PrivateDir() {
  static const PrivateDirectory dir;
  return dir.path();
}

fs::path WriteFile(std::string_view name, std::string_view contents) {
  const fs::path path = PrivateDir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) Violation(core::StrCat("cannot write ", path.string()));
  return path;
}

void QuietLogs() {
  static const bool done = [] {
    core::SetLogLevel(core::LogLevel::kError);
    return true;
  }();
  (void)done;
}

void Violation(std::string_view what) {
  std::fprintf(stderr, "fuzz invariant violated: %.*s\n", static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::abort();
}

void ExpectErrorNames(const core::Error& error, std::string_view file) {
  Expect(!error.message.empty(), "an error without a message (file ", file, ")");
  Expect(error.where.file == file, "the error '", error.ToString(), "' does not name the input file ", file);
  Expect(error.where.line >= 0 && error.where.column >= 0, "negative line or column in '", error.ToString(), "'");
}

}  // namespace pf::fuzz
