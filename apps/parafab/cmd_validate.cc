// parafab validate FILE: checks a URDF (or builtin://NAME) and prints a summary.
#include <cstdio>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "pf/assets/library.h"
#include "pf/core/hash.h"
#include "pf/core/log.h"
#include "pf/scenarios/scenario.h"
#include "pf/sim/model.h"

namespace pf::apps {
namespace {

struct ValidateOptions {
  std::string file;
  std::vector<std::string> asset_roots;
  bool json = false;
};

bool IsScenario(const std::string& file) {
  if (file.starts_with(scenarios::kBuiltinScenarioScheme))
    return scenarios::BuiltinScenarioText(file.substr(scenarios::kBuiltinScenarioScheme.size())).has_value();
  return file.ends_with(".pbtxt");
}

// A scenario: parsed, URDFs imported, compiled into a sim::Model (which checks the gains).
int ValidateScenario(const ValidateOptions& options, assets::AssetLibrary& library) {
  auto compiled = Compile(scenarios::LoadScenario(options.file, library));
  if (!compiled) return ReportError("validate", compiled.error());
  const sim::Model& m = *compiled->model;
  int dynamic = 0;
  for (const auto& o : m.spec().objects) dynamic += o.mass > 0.0 ? 1 : 0;
  const double control_hz = 1.0 / (m.physics().timestep * m.physics().control_substeps);
  if (options.json) {
    nlohmann::json robots = nlohmann::json::array();
    for (int r = 0; r < m.num_robots(); ++r) {
      const auto& rs = m.spec().robots[static_cast<std::size_t>(r)];
      robots.push_back({{"name", rs.name}, {"links", rs.robot->desc.num_links()}, {"dofs", rs.robot->desc.NumDofs()}});
    }
    std::cout << nlohmann::json{{"file", options.file},
                                {"scenario", m.spec().name},
                                {"scenario_hash", core::HexU64(m.spec().scenario_hash)},
                                {"robots", robots},
                                {"objects", m.num_objects()},
                                {"dynamic_objects", dynamic},
                                {"actuated_dofs", m.num_actuated()},
                                {"timestep_s", m.physics().timestep},
                                {"control_hz", control_hz}}
                     .dump()
              << "\n";
    return kExitOk;
  }
  std::printf("%s: OK\n", options.file.c_str());
  std::printf("  scenario   %s (hash %s)\n", m.spec().name.c_str(), core::HexU64(m.spec().scenario_hash).c_str());
  for (int r = 0; r < m.num_robots(); ++r) {
    const auto& rs = m.spec().robots[static_cast<std::size_t>(r)];
    std::printf("  robot      %s: %d links, %d dof\n", rs.name.c_str(), rs.robot->desc.num_links(),
                rs.robot->desc.NumDofs());
  }
  std::printf("  objects    %d (%d dynamic, %d static)\n", m.num_objects(), dynamic, m.num_objects() - dynamic);
  std::printf("  actions    %d actuated joints\n", m.num_actuated());
  std::printf("  physics    dt %.6g s, %d substeps (control %.4g Hz), %d solver iterations\n", m.physics().timestep,
              m.physics().control_substeps, control_hz, m.physics().solver_iterations);
  return kExitOk;
}

int RunValidate(const ValidateOptions& options) {
  assets::AssetLibrary library(MakeResolver(options.asset_roots));
  if (IsScenario(options.file)) return ValidateScenario(options, library);
  auto imported = assets::ImportRobot(options.file, library);
  if (!imported) return ReportError("validate", imported.error());
  const assets::ImportedRobot& robot = *imported;
  const assets::RobotDesc& desc = robot.desc;
  std::map<std::string, int> joint_types;
  for (const auto& j : desc.joints) ++joint_types[assets::JointTypeName(j.type)];
  int mimic = 0;
  for (const auto& j : desc.joints) mimic += j.mimic ? 1 : 0;

  if (options.json) {
    nlohmann::json out = {{"file", options.file},
                          {"robot", desc.name},
                          {"links", desc.num_links()},
                          {"joints", desc.num_joints()},
                          {"joint_types", joint_types},
                          {"mimic_joints", mimic},
                          {"dofs", desc.NumDofs()},
                          {"independent_dofs", desc.NumIndependentDofs()},
                          {"fixed_base", robot.fixed_base},
                          {"mesh_files", robot.NumMeshFiles()},
                          {"visual_triangles", robot.NumVisualTriangles()},
                          {"collision_triangles", robot.NumCollisionTriangles()},
                          {"convex_hulls", robot.NumConvexHulls()},
                          {"primitive_shapes", robot.NumPrimitiveShapes()},
                          {"total_mass_kg", desc.TotalMass()},
                          {"warnings", robot.warnings.size()}};
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  std::string types;
  for (const auto& [name, count] : joint_types) types += (types.empty() ? "" : ", ") + name + " " + std::to_string(count);
  std::printf("%s: OK\n", options.file.c_str());
  std::printf("  robot      %s\n", desc.name.c_str());
  std::printf("  links      %d (root '%s'%s)\n", desc.num_links(), desc.links.front().name.c_str(),
              robot.fixed_base ? ", massless: static" : "");
  std::printf("  joints     %d (%s)%s\n", desc.num_joints(), types.empty() ? "none" : types.c_str(),
              mimic > 0 ? (", " + std::to_string(mimic) + " mimic").c_str() : "");
  std::printf("  dof        %d (%d independent)\n", desc.NumDofs(), desc.NumIndependentDofs());
  std::printf("  meshes     %zu files, %zu visual triangles, %zu collision triangles\n", robot.NumMeshFiles(),
              robot.NumVisualTriangles(), robot.NumCollisionTriangles());
  std::printf("  collision  %zu convex hulls, %zu primitives\n", robot.NumConvexHulls(), robot.NumPrimitiveShapes());
  std::printf("  mass       %.6g kg\n", desc.TotalMass());
  if (!robot.warnings.empty()) std::printf("  warnings   %zu (printed above)\n", robot.warnings.size());
  return kExitOk;
}

}  // namespace

void RegisterValidate(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand("validate", "Check a scenario (.pbtxt, builtin://default) or a robot (URDF, builtin://parafab_arm) and print a summary");
  cmd->add_option("file", options->file, "Scenario (.pbtxt), URDF file, or builtin://NAME")->required();
  cmd->add_option("--asset-root", options->asset_roots,
                  "Extra folder that file references may resolve into (repeatable; also PARAFAB_ASSET_PATH)");
  cmd->add_flag("--json", options->json, "Print the summary as one JSON object");
  cmd->footer("Exit codes: 0 valid, 1 invalid input, 2 usage error.");
  cmd->callback([options, exit_code] { *exit_code = RunValidate(*options); });
}

}  // namespace pf::apps
