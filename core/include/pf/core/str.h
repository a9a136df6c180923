// Small string helpers shared by every module.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace pf::core {

// Concatenates anything that can be streamed: StrCat("joint ", i, " of ", n).
template <class... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream os;
  os.precision(17);
  (os << ... << args);
  return os.str();
}

// Joins the items of a range of strings: Join({"a", "b"}, ", ") == "a, b".
template <class Range>
std::string Join(const Range& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace pf::core
