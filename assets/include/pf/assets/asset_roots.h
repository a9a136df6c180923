// Asset roots and path resolution for references found inside untrusted files
// (URDF mesh filenames, OBJ mtllib lines, MTL texture maps, scenario asset paths).
//
// A reference resolves only to a file inside an allowed root: the folder of the file
// that makes the reference, or one of the configured asset roots. Anything else
// (`../../etc/passwd`, absolute paths elsewhere, symlinks leading out, URLs) is refused.
//
// Resolution order for a reference R made by file F:
//   1. `package://` is stripped (ROS style); `file://` is stripped; other schemes refused.
//   2. R is tried beside F, then in each configured root, in order. For package://
//      references the path without its first component (the ROS package name) is tried too.
//   3. The first candidate that exists wins; it must still lie inside an allowed root after
//      following symlinks.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "pf/core/result.h"

namespace pf::assets {

namespace fs = std::filesystem;

class AssetResolver {
 public:
  AssetResolver() = default;
  explicit AssetResolver(std::vector<fs::path> roots);

  // Roots from the environment variable PARAFAB_ASSET_PATH (colon-separated folders).
  static AssetResolver FromEnvironment();

  // Adds a root (made absolute and canonical when it exists).
  void AddRoot(const fs::path& root);
  const std::vector<fs::path>& roots() const { return roots_; }

  // Resolves `reference` as written in `referrer` (a file path) at `where`.
  // Errors name the referrer, its line, the field and the resolved path.
  core::Result<fs::path> Resolve(std::string_view reference, const fs::path& referrer,
                                 const core::Location& where) const;

  // True when `path` (absolute) lies inside `dir` or a configured root, symlinks followed.
  bool IsAllowed(const fs::path& path, const fs::path& referrer_dir) const;

 private:
  std::vector<fs::path> roots_;  // absolute, lexically normal
};

// True when `path` lies inside `dir` (both absolute and lexically normal).
bool IsInsideDirectory(const fs::path& path, const fs::path& dir);

}  // namespace pf::assets
