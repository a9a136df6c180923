// The built-in default scenario simulated: it settles and holds still.
#include <catch2/catch.hpp>

#include <cmath>

#include "pf/scenarios/scenario.h"
#include "pf/sim/batch_sim.h"

namespace pf::scenarios {
namespace {

TEST_CASE("the default scenario's parts rest on the table and the arm holds home", "[scenarios][sim]") {
  assets::AssetLibrary library{assets::AssetResolver()};
  const auto scenario = LoadScenario("builtin://default", library);
  REQUIRE(scenario);
  const auto model = sim::Model::Compile(scenario->model);
  REQUIRE(model);
  auto sim = sim::BatchSim::Create(*model, {1, 1, 64});
  REQUIRE(sim);
  const std::vector<double> start((*sim)->body_poses().begin(), (*sim)->body_poses().end());
  for (int t = 0; t < 600; ++t) (*sim)->Step();  // 10 s at 60 Hz
  CHECK((*sim)->fault_count() == 0);
  for (int o = 0; o < (*model)->num_objects(); ++o) {
    const int b = (*model)->object_body(o);
    INFO((*model)->bodies()[static_cast<std::size_t>(b)].name);
    const double* p = (*sim)->body_poses().data() + 7 * b;
    const double* p0 = start.data() + 7 * b;
    CHECK(std::hypot(p[0] - p0[0], p[1] - p0[1], p[2] - p0[2]) < 5e-4);
  }
  const int ee = (*model)->end_effector_body(0);
  const double* p = (*sim)->body_poses().data() + 7 * ee;
  const double* p0 = start.data() + 7 * ee;
  CHECK(std::hypot(p[0] - p0[0], p[1] - p0[1], p[2] - p0[2]) < 2e-3);
}

}  // namespace
}  // namespace pf::scenarios
