#include "pf/assets/asset_roots.h"

#include <cctype>
#include <cstdlib>
#include <system_error>

#include "pf/core/str.h"

namespace pf::assets {
namespace {

fs::path Normal(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  if (ec) abs = p;
  return abs.lexically_normal();
}

// Follows symlinks of the part of `p` that exists.
fs::path Canonical(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? Normal(p) : c;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool IsInsideDirectory(const fs::path& path, const fs::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++p) {
    if (d->empty()) continue;  // trailing separator
    if (p == path.end() || *p != *d) return false;
  }
  return true;
}

AssetResolver::AssetResolver(std::vector<fs::path> roots) {
  for (const auto& r : roots) AddRoot(r);
}

AssetResolver AssetResolver::FromEnvironment() {
  AssetResolver resolver;
  if (const char* env = std::getenv("PARAFAB_ASSET_PATH")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::string_view item = rest.substr(0, colon);
      if (!item.empty()) resolver.AddRoot(fs::path(item));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  return resolver;
}

void AssetResolver::AddRoot(const fs::path& root) { roots_.push_back(Canonical(root)); }

bool AssetResolver::IsAllowed(const fs::path& path, const fs::path& referrer_dir) const {
  const fs::path real = Canonical(path);
  if (!referrer_dir.empty() && IsInsideDirectory(real, Canonical(referrer_dir))) return true;
  for (const auto& root : roots_)
    if (IsInsideDirectory(real, root)) return true;
  return false;
}

core::Result<fs::path> AssetResolver::Resolve(std::string_view reference, const fs::path& referrer,
                                              const core::Location& where) const {
  std::string ref(reference);
  // Trim surrounding blanks that XML attributes sometimes carry.
  while (!ref.empty() && (ref.back() == ' ' || ref.back() == '\t' || ref.back() == '\r' ||
                          ref.back() == '\n'))
    ref.pop_back();
  std::size_t first = 0;
  while (first < ref.size() && (ref[first] == ' ' || ref[first] == '\t')) ++first;
  ref.erase(0, first);
  if (ref.empty()) return core::Fail("empty file reference", where);
  if (ref.find('\0') != std::string::npos) return core::Fail("file reference contains a NUL byte", where);

  bool is_package = false;
  if (StartsWith(ref, "package://")) {
    ref.erase(0, 10);
    is_package = true;
  } else if (StartsWith(ref, "file://")) {
    ref.erase(0, 7);
  } else if (const auto scheme = ref.find("://"); scheme != std::string::npos) {
    return core::Fail(core::StrCat("refused reference '", reference,
                                   "': only relative paths, package:// and file:// are allowed"),
                      where);
  }
  // Windows-style separators and drive letters never name a file here.
  if (ref.size() >= 2 && ref[1] == ':' && std::isalpha(static_cast<unsigned char>(ref[0])))
    return core::Fail(core::StrCat("refused reference '", reference, "': a Windows drive path"),
                      where);

  const fs::path referrer_dir = Normal(referrer).parent_path();
  const fs::path rel(ref);
  std::vector<fs::path> candidates;
  if (rel.is_absolute()) {
    candidates.push_back(rel.lexically_normal());
  } else {
    std::vector<fs::path> forms{rel};
    if (is_package) {
      auto it = rel.begin();
      if (it != rel.end() && ++it != rel.end()) {
        fs::path tail;
        for (; it != rel.end(); ++it) tail /= *it;
        forms.push_back(tail);
      }
    }
    for (const auto& form : forms) {
      candidates.push_back((referrer_dir / form).lexically_normal());
      for (const auto& root : roots_) candidates.push_back((root / form).lexically_normal());
    }
  }

  // Lexical confinement first: a path that leaves every root is refused outright.
  std::vector<fs::path> allowed;
  for (const auto& c : candidates) {
    bool inside = IsInsideDirectory(c, referrer_dir);
    for (const auto& root : roots_) inside = inside || IsInsideDirectory(c, root);
    if (inside) allowed.push_back(c);
  }
  if (allowed.empty()) {
    return core::Fail(core::StrCat("refused reference '", reference, "': resolves to ",
                                   candidates.front().string(),
                                   ", outside the asset roots (the referring file's folder",
                                   roots_.empty() ? "" : " and the configured roots",
                                   "); add a root with --asset-root or PARAFAB_ASSET_PATH"),
                      where);
  }
  for (const auto& c : allowed) {
    std::error_code ec;
    if (!fs::exists(c, ec)) continue;
    if (!IsAllowed(c, referrer_dir)) {
      return core::Fail(core::StrCat("refused reference '", reference, "': ", c.string(),
                                     " is a symbolic link to ", Canonical(c).string(),
                                     ", outside the asset roots"),
                        where);
    }
    if (!fs::is_regular_file(Canonical(c), ec)) {
      return core::Fail(core::StrCat("reference '", reference, "' resolves to ", c.string(),
                                     ", which is not a regular file"),
                        where);
    }
    return c;
  }
  return core::Fail(core::StrCat("file not found: '", reference, "' resolved to ",
                                 allowed.front().string()),
                    where);
}

}  // namespace pf::assets
