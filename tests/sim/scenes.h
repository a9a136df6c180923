// Small scenes for the sim tests, built directly as ModelSpecs.
#pragma once

#include <memory>
#include <string>

#include "pf/assets/library.h"
#include "pf/sim/model.h"

namespace pf::testing {

// The built-in arm (fixed base on a 0.4 m pedestal) with `boxes` 5 cm cubes on a table.
inline sim::ModelSpec ArmWithBoxes(int boxes) {
  assets::AssetLibrary library{assets::AssetResolver()};
  auto robot = assets::ImportRobot("builtin://parafab_arm", library);
  sim::ModelSpec spec;
  spec.name = "arm_with_boxes";
  spec.scenario_hash = 0x5eed;
  sim::RobotSpec arm;
  arm.name = "arm";
  arm.robot = std::make_shared<const assets::ImportedRobot>(std::move(*robot));
  arm.X_WB = core::MakePose(core::Vec3(0, 0, 0.4));
  arm.initial_positions = {0, -0.3, 0, -2.2, 0, 2.0, 0.78, 0.04};
  arm.end_effector_link = "tcp";
  spec.robots.push_back(arm);
  sim::ObjectSpec pedestal;
  pedestal.name = "pedestal";
  pedestal.size = core::Vec3(0.3, 0.3, 0.4);
  pedestal.X_WO = core::MakePose(core::Vec3(0, 0, 0.2));
  pedestal.mass = 0.0;
  spec.objects.push_back(pedestal);
  sim::ObjectSpec table;
  table.name = "table";
  table.size = core::Vec3(0.6, 1.0, 0.4);
  table.X_WO = core::MakePose(core::Vec3(0.55, 0, 0.2));
  table.mass = 0.0;
  spec.objects.push_back(table);
  for (int i = 0; i < boxes; ++i) {
    sim::ObjectSpec box;
    box.name = "box" + std::to_string(i);
    box.size = core::Vec3::Constant(0.05);
    box.X_WO = core::MakePose(core::Vec3(0.4 + 0.07 * (i % 3), -0.15 + 0.1 * (i / 3), 0.4 + 0.025 + 0.001));
    box.mass = 0.1;
    box.semantic_class = 1;
    spec.objects.push_back(box);
  }
  return spec;
}

}  // namespace pf::testing
