// parafab validate FILE: checks a URDF (or builtin://NAME) and prints a summary.
#include <cstdio>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "pf/assets/library.h"
#include "pf/core/log.h"

namespace pf::apps {
namespace {

struct ValidateOptions {
  std::string file;
  std::vector<std::string> asset_roots;
  bool json = false;
};

int RunValidate(const ValidateOptions& options) {
  assets::AssetResolver resolver = assets::AssetResolver::FromEnvironment();
  for (const auto& root : options.asset_roots) resolver.AddRoot(root);
  assets::AssetLibrary library(resolver);
  auto imported = assets::ImportRobot(options.file, library);
  if (!imported) {
    std::fprintf(stderr, "parafab validate: error: %s\n", imported.error().ToString().c_str());
    return kExitInvalid;
  }
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
  CLI::App* cmd = app.add_subcommand("validate", "Check a robot description (URDF or builtin://NAME) and print a summary");
  cmd->add_option("file", options->file, "URDF file or builtin://NAME")->required();
  cmd->add_option("--asset-root", options->asset_roots,
                  "Extra folder that file references may resolve into (repeatable; also PARAFAB_ASSET_PATH)");
  cmd->add_flag("--json", options->json, "Print the summary as one JSON object");
  cmd->footer("Exit codes: 0 valid, 1 invalid input, 2 usage error.");
  cmd->callback([options, exit_code] { *exit_code = RunValidate(*options); });
}

}  // namespace pf::apps
