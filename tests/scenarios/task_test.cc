#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <array>
#include <map>

#include "pf/assets/library.h"
#include "pf/scenarios/expert.h"
#include "pf/scenarios/scenario.h"
#include "pf/sim/batch_sim.h"
#include "support/test_support.h"

namespace pf::scenarios {
namespace {

// Success of the built-in scenarios' experts over episodes with randomization on; the
// thresholds are the (reach, pick-and-place 95 %, stacking 85 %).
void CheckExpert(const std::string& name, int episodes, double rate) {
  assets::AssetLibrary library{assets::AssetResolver()};
  auto scenario = LoadScenario("builtin://" + name, library);
  REQUIRE(scenario);
  REQUIRE(scenario->task);
  auto outcome = EvaluateExpert(*scenario, episodes, 8, 7);
  REQUIRE(outcome);
  std::fprintf(stderr, "%s: %d / %d, mean steps %.0f\n", name.c_str(), outcome->successes, outcome->episodes, outcome->mean_steps);
  for (std::size_t i = 0; i < outcome->failed.size(); ++i)
    std::fprintf(stderr, "  episode %llu failed in phase %s\n", static_cast<unsigned long long>(outcome->failed[i]),
                 outcome->failed_phases[i].c_str());
  CHECK(outcome->episodes == episodes);
  CHECK(outcome->successes >= static_cast<int>(std::ceil(rate * episodes)));
}

TEST_CASE("the reach expert reaches", "[scenarios][task][expert]") { CheckExpert("reach", 50, 0.95); }
TEST_CASE("the stack expert stacks", "[scenarios][task][expert]") { CheckExpert("stack", 50, 0.85); }

TEST_CASE("the default scenario's expert picks and places", "[scenarios][task][expert]") { CheckExpert("default", 50, 0.95); }
TEST_CASE("the bin picking expert picks out of clutter", "[scenarios][task][expert][bin_pick]") { CheckExpert("bin_pick", 50, 0.75); }

// The Panda variants (scenarios/library/panda/): the same tasks with the shared assets' Franka
// Panda, loaded from files with the shared assets as the asset root.
void CheckPandaExpert(const std::string& name, int episodes, double rate) {
  const auto shared = pf::testing::RequireSharedAssets();
  assets::AssetLibrary library{assets::AssetResolver({shared})};
  auto scenario = LoadScenario((pf::testing::SourceDir() / "scenarios/library/panda" / (name + ".pbtxt")).string(), library);
  if (!scenario) FAIL(scenario.error().ToString());
  REQUIRE(scenario->task);
  auto outcome = EvaluateExpert(*scenario, episodes, 8, 7);
  REQUIRE(outcome);
  std::fprintf(stderr, "panda %s: %d / %d, mean steps %.0f\n", name.c_str(), outcome->successes, outcome->episodes,
               outcome->mean_steps);
  CHECK(outcome->episodes == episodes);
  CHECK(outcome->successes >= static_cast<int>(std::ceil(rate * episodes)));
}

TEST_CASE("the Panda reaches", "[scenarios][task][expert][panda]") { CheckPandaExpert("reach", 50, 0.95); }
TEST_CASE("the Panda picks and places", "[scenarios][task][expert][panda]") { CheckPandaExpert("pick_place", 50, 0.95); }
TEST_CASE("the Panda stacks", "[scenarios][task][expert][panda]") { CheckPandaExpert("stack", 50, 0.85); }
TEST_CASE("the Panda picks out of clutter", "[scenarios][task][expert][panda][bin_pick]") { CheckPandaExpert("bin_pick", 50, 0.75); }

// Collision-aware grasps: a block whose narrower axis has a can right beside it is gripped
// across its wider axis instead, and the same block alone across its narrower one. The
// closing direction is read from the simulated fingers once the hand is above the block.
TEST_CASE("the expert closes the fingers where they clear the neighbours", "[scenarios][task][expert][bin_pick]") {
  assets::AssetLibrary library{assets::AssetResolver()};
  std::string text(*BuiltinScenarioText("bin_pick"));
  // Fixed poses: no placement draws, the green block (0.035 x 0.05, narrower along x) to pick.
  const std::size_t at = text.find("  placements {");
  REQUIRE(at != std::string::npos);
  text.erase(at, text.find("  object_physics {") - at);
  auto set_position = [&](const std::string& name, double x, double y) {
    const std::size_t block = text.find("name: \"" + name + "\"");
    REQUIRE(block != std::string::npos);
    const std::size_t pose = text.find("pose { position {", block);
    const std::size_t end = text.find("}", pose + 17);
    text.replace(pose, end - pose + 1, "pose { position { x: " + std::to_string(x) + " y: " + std::to_string(y) + " z: 0.44 }");
  };
  const std::size_t objects = text.find("objects: [", text.find("bin_pick {"));
  text.replace(objects, text.find("]", objects) - objects + 1, "objects: [\"green_block\"]");
  set_position("orange_brick", 0.42, -0.03);
  set_position("red_block", 0.62, -0.29);
  for (const bool crowded : {false, true}) {
    INFO((crowded ? "a can beside the block's narrow sides" : "the block alone"));
    set_position("white_can", crowded ? 0.52 + 0.0175 + 0.02 + 0.008 : 0.44, crowded ? -0.22 : -0.30);
    auto scenario = ParseScenario(text, "bin_pick_fixed.pbtxt", library);
    if (!scenario) FAIL(scenario.error().ToString());
    auto model = sim::Model::Compile(scenario->model);
    REQUIRE(model);
    auto context = TaskContext::Create(*scenario, *model);
    REQUIRE(context);
    auto setup = context->DrawEpisode(1, 0);
    REQUIRE(setup);
    REQUIRE(scenario->model.objects[static_cast<std::size_t>(setup->object)].name == "green_block");
    auto sim = sim::BatchSim::Create(*model, {1, 1, 64});
    REQUIRE(sim);
    context->ApplyEpisode(**sim, 0, *setup);
    Expert expert(*context, 1);
    expert.Reset(**sim, 0, *setup);
    int steps = 0;
    while (expert.phase(0) != ExpertPhase::kDescend && steps++ < 600) {
      expert.Act(**sim, 0);
      (*sim)->Step();
    }
    REQUIRE(expert.phase(0) == ExpertPhase::kDescend);
    const sim::Model& m = **model;
    const auto& desc = m.spec().robots[0].robot->desc;
    auto position = [&](int body) {
      const double* p = (*sim)->body_poses().data() + static_cast<std::size_t>(body) * 7;
      return core::Vec3(p[0], p[1], p[2]);
    };
    const core::Vec3 closing = position(m.robot_first_body(0) + desc.FindLink("finger_left")) -
                               position(m.robot_first_body(0) + desc.FindLink("finger_right"));
    const double* q = (*sim)->body_poses().data() + static_cast<std::size_t>(m.object_body(setup->object)) * 7;
    const core::Vec3 block_x = core::PoseFromArray(q).rotation().col(0);
    const double along_x = std::abs(closing.head<2>().normalized().dot(block_x.head<2>().normalized()));
    INFO("closing direction " << closing.transpose() << ", block x axis " << block_x.transpose());
    if (crowded) CHECK(along_x < 0.2);  // across the wider axis (block y)
    else CHECK(along_x > 0.98);         // across the narrower axis (block x)
  }
}

// The expert's per-episode plan (transport height, home orientation, closing axis) belongs
// to each env: an episode driven next to another one, with the expert's calls made
// concurrently as BatchSim::Step hooks, moves bit for bit as it does alone.
TEST_CASE("the expert drives each env on its own episode's plan, also concurrently", "[scenarios][task][expert]") {
  assets::AssetLibrary library{assets::AssetResolver()};
  auto scenario = LoadScenario("builtin://default", library);
  REQUIRE(scenario);
  auto model = sim::Model::Compile(scenario->model);
  REQUIRE(model);
  auto context = TaskContext::Create(*scenario, *model);
  REQUIRE(context);
  auto setup = context->DrawEpisode(3, 0);
  auto other = context->DrawEpisode(3, 1);
  REQUIRE(setup);
  REQUIRE(other);
  // The neighbour's parts as the expert sees them stand much higher, so its transport
  // height differs from this episode's.
  for (core::Pose& X_WO : other->object_poses) X_WO.translation().z() += 0.2;
  auto alone = sim::BatchSim::Create(*model, {1, 1, 64});
  auto batch = sim::BatchSim::Create(*model, {2, 2, 64});
  REQUIRE(alone);
  REQUIRE(batch);
  Expert solo(*context, 1), pair(*context, 2);
  context->ApplyEpisode(**alone, 0, *setup);
  solo.Reset(**alone, 0, *setup);
  context->ApplyEpisode(**batch, 0, *setup);
  pair.Reset(**batch, 0, *setup);
  context->ApplyEpisode(**batch, 1, *other);
  pair.Reset(**batch, 1, *other);  // after env 0's: nothing of it may leak into env 0
  const std::size_t D = static_cast<std::size_t>((*model)->num_dofs());
  bool carried = false;
  int steps = 0;
  for (; steps < context->task().max_steps && !solo.done(0); ++steps) {
    solo.Act(**alone, 0);
    (*alone)->Step();
    (*batch)->Step([&](int e) { pair.Act(**batch, e); }, {});
    carried = carried || solo.phase(0) == ExpertPhase::kTransport;
    INFO("control step " << steps);
    REQUIRE(pair.phase(0) == solo.phase(0));
    for (std::size_t d = 0; d < D; ++d) REQUIRE((*batch)->joint_positions()[d] == (*alone)->joint_positions()[d]);
  }
  CHECK(carried);  // the plan got as far as carrying the part at the transport height
  CHECK(solo.done(0));
}

}  // namespace
}  // namespace pf::scenarios

namespace pf::scenarios {
namespace {

// Every value inside [lo, hi], and 10 equal bins over the range all used.
void CheckCovers(const std::vector<double>& values, double lo, double hi, const std::string& what) {
  INFO(what);
  std::array<int, 10> bins{};
  for (double v : values) {
    REQUIRE(v >= lo);
    REQUIRE(v <= hi);
    ++bins[static_cast<std::size_t>(std::min(9.0, (v - lo) / (hi - lo) * 10.0))];
  }
  for (int count : bins) CHECK(count > 0);
}

TEST_CASE("randomized values stay in their ranges and cover them, placements never overlap", "[scenarios][randomization]") {
  assets::AssetLibrary library{assets::AssetResolver()};
  auto scenario = LoadScenario("builtin://default", library);
  REQUIRE(scenario);
  auto model = sim::Model::Compile(scenario->model);
  REQUIRE(model);
  auto context = TaskContext::Create(*scenario, *model);
  REQUIRE(context);
  const RandomizationSpec& r = scenario->randomization;
  std::map<std::string, std::vector<double>> values;
  const int episodes = 400;
  std::vector<int> picked(static_cast<std::size_t>((*model)->num_objects()), 0);
  for (int e = 0; e < episodes; ++e) {
    auto setup = context->DrawEpisode(3, static_cast<std::uint64_t>(e));
    REQUIRE(setup);
    for (const auto& [key, value] : setup->draws) values[key].push_back(value);
    ++picked[static_cast<std::size_t>(setup->object)];
    // Placements: footprints (bounding circles) apart by at least the clearance, inside the region.
    const PlacementSpec& p = r.placements[0];
    for (std::size_t i = 0; i < p.objects.size(); ++i) {
      const core::Vec3 a = setup->object_poses[static_cast<std::size_t>(p.objects[i])].translation();
      CHECK(p.region.Contains(core::Vec3(a.x(), a.y(), p.region.min.z())));
      for (std::size_t j = i + 1; j < p.objects.size(); ++j) {
        const core::Vec3 b = setup->object_poses[static_cast<std::size_t>(p.objects[j])].translation();
        const double ra = context->ObjectHalfExtents(p.objects[i]).head<2>().norm();
        const double rb = context->ObjectHalfExtents(p.objects[j]).head<2>().norm();
        CHECK((a - b).head<2>().norm() >= ra + rb + p.clearance - 1e-12);
      }
    }
  }
  const PlacementSpec& p = r.placements[0];
  CheckCovers(values["red_cube.x"], p.region.min.x(), p.region.max.x(), "red_cube.x");
  CheckCovers(values["blue_cylinder.y"], p.region.min.y(), p.region.max.y(), "blue_cylinder.y");
  CheckCovers(values["green_cube.yaw"], p.yaw.min, p.yaw.max, "green_cube.yaw");
  CheckCovers(values["red_cube.friction"], r.object_physics[0].friction->min, r.object_physics[0].friction->max, "friction");
  const double red_mass = scenario->model.objects[2].mass;
  CheckCovers(values["red_cube.mass"], red_mass * r.object_physics[0].mass_scale->min,
              red_mass * r.object_physics[0].mass_scale->max, "mass");
  CheckCovers(values["gain_scale"], r.gain_scale->min, r.gain_scale->max, "gain_scale");
  CheckCovers(values["front.focal_scale"], r.fov_scale->min, r.fov_scale->max, "fov");
  CheckCovers(values["front.dx"], -r.camera_position, r.camera_position, "camera dx");
  CheckCovers(values["light.intensity"], r.light_intensity->min, r.light_intensity->max, "light");
  // Goals keep the part inside the region: the smallest candidate's half width (2 cm) from its edges.
  CheckCovers(values["goal.x"], scenario->task->target.min.x() + 0.02, scenario->task->target.max.x() - 0.02, "goal");
  // Every candidate object gets picked.
  for (int o : scenario->task->objects) CHECK(picked[static_cast<std::size_t>(o)] > 40);
}

TEST_CASE("an episode's draws depend only on (seed, episode), wherever it runs", "[scenarios][randomization][determinism]") {
  // The default scenario, and the bin picking one (crowded placements that start over).
  for (const char* name : {"default", "bin_pick"}) {
    INFO(name);
    assets::AssetLibrary library{assets::AssetResolver()};
    auto scenario = LoadScenario(std::string("builtin://") + name, library);
    REQUIRE(scenario);
    auto model = sim::Model::Compile(scenario->model);
    REQUIRE(model);
    auto context = TaskContext::Create(*scenario, *model);
    REQUIRE(context);
    auto a = context->DrawEpisode(9, 17);
    auto b = context->DrawEpisode(9, 17);
    auto c = context->DrawEpisode(9, 18);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(c);
    CHECK(a->draws == b->draws);
    CHECK(a->initial_state == b->initial_state);
    CHECK(a->instruction == b->instruction);
    CHECK(a->draws != c->draws);
    // The same episode in slot 0 of a 1-env batch and slot 3 of a 5-env batch: same state.
    auto one = sim::BatchSim::Create(*model, {1, 1, 64});
    auto five = sim::BatchSim::Create(*model, {5, 2, 64});
    REQUIRE(one);
    REQUIRE(five);
    context->ApplyEpisode(**one, 0, *a);
    context->ApplyEpisode(**five, 3, *a);
    for (int t = 0; t < 30; ++t) {
      (*one)->Step();
      (*five)->Step();
    }
    CHECK((*one)->EnvStateHash(0) == (*five)->EnvStateHash(3));
  }
}

// Bin picking: the clutter lies inside the source bin, clear of its walls and of each other,
// the part to pick is one of the candidates (each drawn), and the instruction names it and
// both bins.
TEST_CASE("bin picking episodes: clutter inside the source bin, a candidate to pick, both bins named",
          "[scenarios][randomization][bin_pick]") {
  assets::AssetLibrary library{assets::AssetResolver()};
  auto scenario = LoadScenario("builtin://bin_pick", library);
  REQUIRE(scenario);
  REQUIRE(scenario->task);
  const TaskSpec& task = *scenario->task;
  REQUIRE(task.kind == TaskKind::kBinPick);
  auto model = sim::Model::Compile(scenario->model);
  REQUIRE(model);
  auto context = TaskContext::Create(*scenario, *model);
  REQUIRE(context);
  const sim::ObjectSpec& source = scenario->model.objects[static_cast<std::size_t>(task.source)];
  const core::Vec3 floor_min = source.X_WO.translation() - source.size / 2, floor_max = source.X_WO.translation() + source.size / 2;
  std::map<int, int> picked;
  for (int e = 0; e < 200; ++e) {
    auto setup = context->DrawEpisode(11, static_cast<std::uint64_t>(e));
    REQUIRE(setup);
    INFO("episode " << e << ": " << setup->instruction);
    for (std::size_t i = 0; i < task.objects.size(); ++i) {
      const int o = task.objects[i];
      const core::Pose& X = setup->object_poses[static_cast<std::size_t>(o)];
      const core::Vec3 h = context->ObjectHalfExtents(o);
      const double r = std::hypot(h.x(), h.y());
      // Footprint inside the floor, resting on it.
      CHECK(X.translation().x() - r >= floor_min.x());
      CHECK(X.translation().x() + r <= floor_max.x());
      CHECK(X.translation().y() - r >= floor_min.y());
      CHECK(X.translation().y() + r <= floor_max.y());
      CHECK(std::abs(X.translation().z() - h.z() - floor_max.z()) < 1e-9);
      for (std::size_t j = 0; j < i; ++j) {
        const int q = task.objects[j];
        const core::Vec3 hq = context->ObjectHalfExtents(q);
        const double d = (X.translation() - setup->object_poses[static_cast<std::size_t>(q)].translation()).head<2>().norm();
        CHECK(d >= r + std::hypot(hq.x(), hq.y()));
      }
    }
    REQUIRE(std::find(task.objects.begin(), task.objects.end(), setup->object) != task.objects.end());
    ++picked[setup->object];
    const std::string phrase = context->ObjectPhrase(setup->object, setup->object_colours[static_cast<std::size_t>(setup->object)]);
    CHECK_THAT(setup->instruction, Catch::Contains(phrase));
    CHECK_THAT(setup->instruction, Catch::Contains("bin"));
    CHECK(setup->instruction.find('{') == std::string::npos);
  }
  CHECK(picked.size() == task.objects.size());
}

TEST_CASE("bad tasks and randomization fail at load with file, line and column", "[scenarios][randomization][errors]") {
  assets::AssetLibrary library{assets::AssetResolver()};
  const std::string robot = "name: \"t\"\nrobots { name: \"arm\" urdf: \"builtin://parafab_arm\" }\n"
                            "objects { name: \"table\" box { size { x: 0.8 y: 1.2 z: 0.4 } } pose { position { x: 0.55 z: 0.2 } } mass: 0 }\n"
                            "objects { name: \"cube\" box { size { x: 0.05 y: 0.05 z: 0.05 } } pose { position { x: 0.5 z: 0.425 } } }\n"
                            "objects { name: \"big\" box { size { x: 0.3 y: 0.3 z: 0.05 } } pose { position { x: 0.5 y: 0.3 z: 0.425 } } }\n";
  struct Case {
    std::string text;
    int line, column;
    std::string message;
  };
  const std::vector<Case> cases = {
      {robot + "task { pick_place { objects: [\"ghost\"] target { } } }\n", 6, 21, "unknown object 'ghost'"},
      {robot + "task { pick_place { objects: [\"table\"] target { } } }\n", 6, 21, "static"},
      {robot + "randomization {\n  placements { objects: [\"cube\", \"big\"]\n    region { min { x: 0.4 y: -0.05 z: 0.4 } max { x: 0.45 y: 0.05 z: 0.4 } } }\n}\n",
       8, 5, "impossible placement"},
      {robot + "randomization {\n  object_physics { friction { min: 0.9 max: 0.5 } }\n}\n", 7, 31, "contradictory range"},
      {robot + "randomization {\n  gain_scale { min: 0.5 max: 3 }\n}\n", 7, 25, "gain_scale must lie in (0, 2]"},
      {robot + "task { stack { objects: [\"cube\"] } }\n", 6, 8, "a stack of 2 needs at least 2 objects"},
      {robot + "task { reach { target { min { x: 1 } max { x: 0 } } } }\n", 6, 38, "contradictory region"},
      {robot + "cameras { name: \"c\" width: 64 height: 64 fov_y: 4 look_at { eye { x: 1 } } }\n", 6, 42, "fov_y"},
      {robot + "cameras { name: \"c\" width: 64 height: 64 fov_y: 1 look_at { eye { x: 1 } } attach_to: \"arm/nolink\" }\n",
       6, 76, "no link 'nolink'"},
      {robot + "task { pick_place { objects: [\"cube\"] target { } } instructions: \"put the {thing} away\" }\n", 6, 52,
       "unknown placeholder {thing}"},
      {robot + "task { bin_pick { objects: [\"cube\"] source: \"cube\" goal: \"table\" } }\n", 6, 37, "source bin 'cube' must be a static box"},
      {robot + "task { bin_pick { objects: [\"cube\"] source: \"table\" goal: \"table\" } }\n", 6, 53, "the goal bin must differ from the source bin"},
      {robot + "task { bin_pick { objects: [\"cube\"] source: \"table\" } }\n", 6, 8, "bin_pick needs a goal bin"},
      {robot + "task { pick_place { objects: [\"cube\"] target { } } instructions: \"take it out of the {source}\" }\n", 6, 52, "unknown placeholder {source} for a pick_place task"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto s = ParseScenario(c.text, "bad.pbtxt", library);
    REQUIRE_FALSE(s);
    CHECK(s.error().where.file == "bad.pbtxt");
    CHECK(s.error().where.line == c.line);
    CHECK(s.error().where.column == c.column);
    CHECK_THAT(s.error().message, Catch::Contains(c.message));
  }
}

}  // namespace
}  // namespace pf::scenarios
