// URDF import into RobotDesc (ROS URDF plus Bullet's <contact> extension).
//
// Errors carry the URDF path, the line and the element/attribute path; every numeric
// value is checked (non-numeric, NaN, inf), link and joint graphs are checked (undefined
// parents or children, cycles, several roots, duplicates), masses and inertias are checked
// (negative mass, inertia not positive definite), mesh references must resolve inside the
// asset roots and exist. Unknown elements (gazebo, transmission, ...) are ignored.
#pragma once

#include <filesystem>
#include <string_view>

#include "pf/assets/asset_roots.h"
#include "pf/assets/mesh.h"
#include "pf/assets/robot_desc.h"
#include "pf/core/result.h"

namespace pf::assets {

struct UrdfConfig {
  // Check that every mesh file exists (resolution always happens).
  bool require_meshes = true;
};

// Parses a URDF file.
core::Result<RobotDesc> LoadUrdf(const std::filesystem::path& path, const AssetResolver& resolver,
                                 Warnings* warnings = nullptr, const UrdfConfig& config = {});

// Parses URDF text; `source_path` names it in errors and anchors relative mesh paths.
core::Result<RobotDesc> ParseUrdf(std::string_view text, const std::filesystem::path& source_path,
                                  const AssetResolver& resolver, Warnings* warnings = nullptr,
                                  const UrdfConfig& config = {});

}  // namespace pf::assets
