// Scenario files: protobuf text (.pbtxt) against scenarios/proto/scenario.proto, compiled
// into a sim::ModelSpec (the physical part of a scenario: physics settings, robots,
// objects, environment).
//
// Every error carries the scenario file, the 1-based line and column of the offending
// field and its path (e.g. `robots[arm].initial_joint_positions[joint2]`): syntax errors,
// unknown fields, wrong types, out-of-range values, inconsistent names, and URDFs that do
// not resolve inside the asset roots or fail to import (with the URDF's own error text).
//
// Built-in scenarios (scenarios/library/*.pbtxt, compiled in) load as builtin://NAME.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pf/assets/library.h"
#include "pf/core/result.h"
#include "pf/scenarios/task.h"
#include "pf/sim/model.h"
#include "pf/sim/model_spec.h"

namespace pf::scenarios {

inline constexpr std::string_view kBuiltinScenarioScheme = "builtin://";

struct Scenario {
  // Robots and objects with their URDFs imported through the AssetLibrary;
  // model.scenario_hash hashes the parsed message (see LoadScenario), model.name = its name.
  sim::ModelSpec model;
  std::filesystem::path source;  // the file, or "builtin://NAME"
  // The parsed message printed back in protobuf text format: deterministic (fields in
  // schema order, map entries sorted by key, comments and layout dropped).
  std::string canonical_text;

  // The task, cameras, lights and randomization (task.h); no task = simulation only.
  std::optional<TaskSpec> task;
  std::vector<CameraSpec> cameras;
  std::vector<LightSpec> lights;  // at most one (the renderer draws one directional light)
  RandomizationSpec randomization;
};

// Loads a scenario file or a built-in scenario (builtin://NAME). URDF paths inside it
// resolve relative to the file's folder or a root of library.resolver().
//
// model.scenario_hash is core::Hasher over the deterministic binary serialization of the
// parsed message: the same content (whatever its layout and comments) gives the same hash,
// any change of a value gives a different one.
core::Result<Scenario> LoadScenario(const std::string& path_or_builtin, assets::AssetLibrary& library);

// Parses scenario text; `source` names it in errors and anchors relative URDF paths
// (a path starting with builtin:// marks a built-in scenario, which may reference
// built-in URDFs only).
core::Result<Scenario> ParseScenario(std::string_view text, const std::filesystem::path& source,
                                     assets::AssetLibrary& library);

// Compiles the scenario's physical part (sim::Model::Compile); an error that names no file
// is given the scenario's source, so it reads as an error in the scenario.
core::Result<std::shared_ptr<const sim::Model>> CompileModel(const Scenario& scenario);

// Names of the built-in scenarios, sorted ("default", ...).
std::vector<std::string_view> BuiltinScenarioNames();
// Text of a built-in scenario (the library/NAME.pbtxt compiled in), or nullopt.
std::optional<std::string_view> BuiltinScenarioText(std::string_view name);

}  // namespace pf::scenarios
