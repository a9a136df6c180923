// Small string helpers shared by every module.
#pragma once

#include <sstream>
#include <string>

namespace pf::core {

// Concatenates anything that can be streamed: StrCat("joint ", i, " of ", n).
template <class... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream os;
  os.precision(17);
  (os << ... << args);
  return os.str();
}

}  // namespace pf::core
