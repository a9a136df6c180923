// Robots and parts the project describes itself, compiled into the binary so the default
// scenario runs with no external files. Referenced as `builtin://NAME`.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace pf::assets {

inline constexpr std::string_view kBuiltinScheme = "builtin://";

// URDF text of a built-in robot, or nullopt for an unknown name.
std::optional<std::string_view> BuiltinUrdf(std::string_view name);
std::vector<std::string_view> BuiltinNames();

}  // namespace pf::assets
