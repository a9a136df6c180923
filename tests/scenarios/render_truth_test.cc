// Labels against independent truth: the renderer's depth and instance ids for the default
// scenario compared with Bullet ray casts through the same pixels (sim/ and render/ meet
// only here, above both).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

#include "pf/core/log.h"
#include "pf/core/rng.h"
#include "pf/render/batch_renderer.h"
#include "pf/render/camera.h"
#include "pf/scenarios/scenario.h"
#include "pf/scenarios/task.h"
#include "pf/sim/batch_sim.h"
#include "support/test_support.h"

namespace pf::scenarios {
namespace {

// Counts the validation layer's messages while it lives; exits 77 (skipped) when the
// machine has no Vulkan device.
class ValidationWatch {
 public:
  ValidationWatch() {
    setenv("PARAFAB_VK_VALIDATION", "1", 1);
    previous_ = core::SetLogSink([this](core::LogLevel level, std::string_view line) {
      if (level >= core::LogLevel::kWarning && line.find("vulkan validation") != std::string_view::npos) ++messages_;
    });
    const auto devices = render::ListDevices();
    if (!devices || devices->empty()) {
      core::SetLogSink(previous_);
      std::printf("SKIPPED: no Vulkan device\n");
      std::exit(pf::testing::kSkipReturnCode);
    }
  }
  ~ValidationWatch() { core::SetLogSink(previous_); }
  ValidationWatch(const ValidationWatch&) = delete;
  ValidationWatch& operator=(const ValidationWatch&) = delete;
  int messages() const { return messages_.load(); }

 private:
  std::atomic<int> messages_{0};
  core::LogSink previous_;
};

// The default scenario in two envs after 20 steps (the parts settled), and its snapshot
// with one camera per env (cameras still to be set).
struct DefaultScene {
  std::optional<Scenario> scenario;
  std::shared_ptr<const sim::Model> model;
  std::unique_ptr<sim::BatchSim> sim;
  core::RenderSnapshot snapshot;
};

DefaultScene MakeDefaultScene() {
  DefaultScene scene;
  assets::AssetLibrary library{assets::AssetResolver()};
  auto scenario = LoadScenario("builtin://default", library);
  REQUIRE(scenario);
  scene.scenario = std::move(*scenario);
  auto model = sim::Model::Compile(scene.scenario->model);
  REQUIRE(model);
  scene.model = *model;
  auto created = sim::BatchSim::Create(scene.model, {2, 1, 64});
  REQUIRE(created);
  scene.sim = std::move(*created);
  for (int t = 0; t < 20; ++t) scene.sim->Step();
  scene.snapshot.num_cameras = 1;
  scene.sim->WriteSnapshot(&scene.snapshot);
  return scene;
}


TEST_CASE("rendered depth and instance ids agree with Bullet ray casts", "[scenarios][render][labels]") {
  ValidationWatch validation;
  DefaultScene scene = MakeDefaultScene();
  const sim::Model& m = *scene.model;
  sim::BatchSim& sim = *scene.sim;
  core::RenderSnapshot& snapshot = scene.snapshot;
  core::CameraIntrinsics K;
  K.width = 160;
  K.height = 120;
  K.fx = K.fy = 150.0;
  K.cx = 80.0;
  K.cy = 60.0;
  K.near = 0.05;
  K.far = 5.0;
  const core::Pose eyes[2] = {render::LookAt({0.55, -0.6, 0.9}, {0.52, 0.0, 0.42}), render::LookAt({0.95, 0.35, 0.75}, {0.5, 0.0, 0.42})};
  for (int e = 0; e < 2; ++e) {
    snapshot.camera_intrinsics[static_cast<std::size_t>(e)] = K;
    core::PoseToArray(eyes[e], snapshot.camera_poses.data() + 7 * e);
  }
  std::vector<render::RenderMeshInput> meshes;
  for (const auto& mesh : m.render_meshes()) meshes.emplace_back(*mesh.mesh, mesh.colour, mesh.texture, mesh.specular);
  // Full meshes, then automatic level of detail at its default pixel error: the labels must
  // hold either way.
  std::uint64_t full_triangles = 0;
  for (const bool lod : {false, true}) {
    INFO("level of detail " << (lod ? "on" : "off"));
    render::RenderConfig config;
    config.validation = true;
    config.lod.enabled = lod;
    auto renderer = render::BatchRenderer::Create(config, meshes);
    REQUIRE(renderer);
    REQUIRE((*renderer)->context().validation_enabled());
    REQUIRE((*renderer)->Render(snapshot));
    const std::uint64_t triangles = (*renderer)->last_stats().triangles;
    if (!lod) full_triangles = triangles;
    if (lod) CHECK(triangles < full_triangles);

    int compared = 0, id_agree = 0, within_2mm = 0;
    std::vector<double> errors;
    for (int e = 0; e < 2; ++e) {
      const auto depth = (*renderer)->depth(static_cast<std::uint32_t>(e));
      const auto ids = (*renderer)->instance_ids(static_cast<std::uint32_t>(e));
      core::CounterRng rng({0, 0, static_cast<std::uint64_t>(e), core::RngStream::kTest, 0});
      for (int sample = 0; sample < 1500; ++sample) {
        const int u = 1 + static_cast<int>(rng.UniformInt(K.width - 2));
        const int v = 1 + static_cast<int>(rng.UniformInt(K.height - 2));
        // Off silhouette edges: the 3x3 neighbourhood shows one id.
        const std::uint32_t id = ids[static_cast<std::size_t>(v) * K.width + static_cast<std::size_t>(u)];
        bool edge = false;
        for (int dv = -1; dv <= 1; ++dv)
          for (int du = -1; du <= 1; ++du)
            edge = edge || ids[static_cast<std::size_t>(v + dv) * K.width + static_cast<std::size_t>(u + du)] != id;
        if (edge) continue;
        const core::Vec3 d_C((u + 0.5 - K.cx) / K.fx, (v + 0.5 - K.cy) / K.fy, 1.0);
        const core::Vec3 p_W = eyes[e].translation();
        const core::Vec3 q_W = eyes[e] * (d_C * K.far);
        const auto hit = sim.RayCast(e, p_W, q_W);
        // Compare where both see one of the scenario's objects (the robot's collision shapes
        // approximate its visuals; the ground plane has no visual).
        const bool ray_object = hit.hit && hit.body >= m.object_body(0);
        const bool render_object = id > static_cast<std::uint32_t>(m.object_body(0));
        if (!ray_object && !render_object) continue;
        ++compared;
        if (ray_object && id == static_cast<std::uint32_t>(hit.body + 1)) ++id_agree;
        if (!ray_object || !render_object) continue;
        const double z_true = (eyes[e].inverse() * hit.p_W).z();
        const double error = std::abs(depth[static_cast<std::size_t>(v) * K.width + static_cast<std::size_t>(u)] - z_true);
        errors.push_back(error);
        within_2mm += error < 2e-3 ? 1 : 0;
      }
    }
    INFO("compared " << compared << " pixels, " << errors.size() << " with depth");
    REQUIRE(compared > 300);
    REQUIRE(errors.size() > 300);
    std::nth_element(errors.begin(), errors.begin() + static_cast<std::ptrdiff_t>(errors.size() / 2), errors.end());
    if (std::getenv("PF_PRINT_LABEL_STATS") != nullptr)
      std::printf("lod %s: %llu triangles, compared %d, id agreement %.4f, depth median %.2e m, within 2 mm %.4f\n",
                  lod ? "on" : "off", static_cast<unsigned long long>(triangles), compared,
                  double(id_agree) / compared, errors[errors.size() / 2], double(within_2mm) / double(errors.size()));
    CHECK(errors[errors.size() / 2] < 5e-4);
    CHECK(within_2mm >= 0.99 * static_cast<double>(errors.size()));
    CHECK(id_agree >= 0.995 * compared);
  }
  CHECK(validation.messages() == 0);
}

// Shadows against independent truth: a table-top pixel is in shadow (its colour with shadow
// maps well below its colour without) exactly when a Bullet ray cast from its surface
// point towards the light is blocked. Points within 6 mm of a shadow's edge (where rays
// from the point's neighbours disagree) are not judged.
TEST_CASE("shadows fall where Bullet ray casts towards the light are blocked", "[scenarios][render][labels]") {
  ValidationWatch validation;
  DefaultScene scene = MakeDefaultScene();
  const sim::Model& m = *scene.model;
  sim::BatchSim& sim = *scene.sim;
  core::RenderSnapshot& snapshot = scene.snapshot;
  const std::optional<Scenario>& scenario = scene.scenario;
  core::CameraIntrinsics K;
  K.width = 200;
  K.height = 150;
  K.fx = K.fy = 170.0;
  K.cx = 100.0;
  K.cy = 75.0;
  const core::Pose eyes[2] = {render::LookAt({0.55, -0.7, 1.0}, {0.5, 0.0, 0.4}),
                              render::LookAt({1.1, 0.3, 0.9}, {0.5, 0.0, 0.4})};
  // Two light directions: the shadows fall on different parts of the table.
  const core::Vec3 directions[2] = {core::Vec3(-0.3, -0.2, -1.0).normalized(), core::Vec3(0.5, 0.4, -0.8).normalized()};
  for (int e = 0; e < 2; ++e) {
    snapshot.camera_intrinsics[static_cast<std::size_t>(e)] = K;
    core::PoseToArray(eyes[e], snapshot.camera_poses.data() + 7 * e);
    snapshot.lights[static_cast<std::size_t>(e)].direction_W = directions[e];
  }
  std::vector<render::RenderMeshInput> meshes;
  for (const auto& mesh : m.render_meshes()) meshes.emplace_back(*mesh.mesh, mesh.colour, mesh.texture, mesh.specular);
  std::vector<std::vector<std::uint8_t>> colour(2);
  std::vector<float> depth;
  std::vector<std::uint32_t> ids;
  for (const std::uint32_t size : {1024u, 0u}) {
    render::RenderConfig config;
    config.validation = true;
    config.shadows = size != 0;
    config.shadow_map_size = size;
    auto renderer = render::BatchRenderer::Create(config, meshes);
    REQUIRE(renderer);
    REQUIRE((*renderer)->Render(snapshot));
    colour[size == 0].assign((*renderer)->colour().begin(), (*renderer)->colour().end());
    if (size == 0) {
      CHECK((*renderer)->last_stats().shadow_triangles == 0);
    } else {
      CHECK((*renderer)->last_stats().shadow_triangles > 0);
      depth.assign((*renderer)->depth().begin(), (*renderer)->depth().end());
      ids.assign((*renderer)->instance_ids().begin(), (*renderer)->instance_ids().end());
    }
  }
  int table = -1;
  for (std::size_t o = 0; o < scenario->model.objects.size(); ++o)
    if (scenario->model.objects[o].name == "table") table = static_cast<int>(o);
  REQUIRE(table >= 0);
  const auto table_id = static_cast<std::uint32_t>(m.object_body(table) + 1);
  const double top_z = 0.4;
  int judged = 0, agree = 0, shadowed = 0;
  const std::size_t px = static_cast<std::size_t>(K.width) * K.height;
  for (int e = 0; e < 2; ++e) {
    const core::Vec3 to_light = -directions[e];
    auto blocked = [&](const core::Vec3& p) {
      return sim.RayCast(e, p + 0.002 * to_light, p + 3.0 * to_light).hit;
    };
    for (std::uint32_t v = 1; v + 1 < K.height; ++v)
      for (std::uint32_t u = 1; u + 1 < K.width; ++u) {
        const std::size_t i = static_cast<std::size_t>(e) * px + static_cast<std::size_t>(v) * K.width + u;
        bool edge = false;
        for (int dv = -1; dv <= 1; ++dv)
          for (int du = -1; du <= 1; ++du) edge = edge || ids[i + static_cast<std::size_t>(dv * static_cast<int>(K.width) + du)] != table_id;
        if (edge) continue;
        const core::Vec3 d_C((u + 0.5 - K.cx) / K.fx, (v + 0.5 - K.cy) / K.fy, 1.0);
        const core::Vec3 p_W = eyes[e] * (d_C * static_cast<double>(depth[i]));
        if (std::abs(p_W.z() - top_z) > 2e-3) continue;  // the top face only
        const bool truth = blocked(p_W);
        bool near_edge = false;
        for (const core::Vec3& step : {core::Vec3(0.006, 0, 0), core::Vec3(-0.006, 0, 0), core::Vec3(0, 0.006, 0),
                                       core::Vec3(0, -0.006, 0)})
          near_edge = near_edge || blocked(p_W + step) != truth;
        if (near_edge) continue;
        double with = 0, without = 0;
        for (int c = 0; c < 3; ++c) {
          with += colour[0][4 * i + static_cast<std::size_t>(c)];
          without += colour[1][4 * i + static_cast<std::size_t>(c)];
        }
        const bool rendered = with < 0.7 * without;
        ++judged;
        agree += rendered == truth;
        shadowed += truth;
      }
  }
  INFO("judged " << judged << " table-top pixels, " << shadowed << " in shadow, " << agree << " agree");
  CHECK(judged > 2000);
  CHECK(shadowed > 100);
  CHECK(agree >= 0.99 * judged);
  CHECK(validation.messages() == 0);
}

// Colour randomization is drawn, not only recorded: each env's randomized objects show the
// colour its episode drew (the chromaticity of their lit pixels is that of drawn colour ×
// light colour), the others keep their own.
TEST_CASE("randomized object colours are the colours rendered", "[scenarios][render][labels][randomization]") {
  ValidationWatch validation;
  assets::AssetLibrary library{assets::AssetResolver()};
  std::string text(*BuiltinScenarioText("default"));
  const std::size_t at = text.rfind("}");  // the end of the randomization block, the file's last
  REQUIRE(at != std::string::npos);
  text.insert(at, "  colors { objects: [\"red_cube\", \"green_cube\"] hue: 0.5 saturation { min: 0.6 max: 1.0 } "
                  "value { min: 0.7 max: 1.0 } }\n");
  const auto scenario = ParseScenario(text, "colours.pbtxt", library);
  if (!scenario) FAIL(scenario.error().ToString());
  auto model = CompileModel(*scenario);
  REQUIRE(model);
  const sim::Model& m = **model;
  auto context = TaskContext::Create(*scenario, *model);
  REQUIRE(context);
  auto created = sim::BatchSim::Create(*model, {2, 1, 64});
  REQUIRE(created);
  sim::BatchSim& sim = **created;
  std::vector<EpisodeSetup> setups;
  for (int e = 0; e < 2; ++e) {
    auto setup = context->DrawEpisode(3, static_cast<std::uint64_t>(e));
    REQUIRE(setup);
    setups.push_back(*setup);
  }
  for (int e = 0; e < 2; ++e) context->ApplyEpisode(sim, e, setups[static_cast<std::size_t>(e)]);
  core::RenderSnapshot snapshot;
  snapshot.num_cameras = static_cast<std::uint32_t>(scenario->cameras.size());
  sim.WriteSnapshot(&snapshot);
  context->WriteCameras(sim, {&setups[0], &setups[1]}, &snapshot);
  REQUIRE(snapshot.instance_colours.size() == 2 * snapshot.instances.size());
  std::vector<render::RenderMeshInput> meshes;
  for (const auto& mesh : m.render_meshes()) meshes.emplace_back(*mesh.mesh, mesh.colour, mesh.texture, mesh.specular);
  render::RenderConfig config;
  auto renderer = render::BatchRenderer::Create(config, meshes);
  if (!renderer) FAIL(renderer.error().ToString());
  REQUIRE((*renderer)->Render(snapshot));
  const render::BatchRenderer& r = **renderer;
  const std::size_t n = snapshot.instances.size();
  int index[3] = {-1, -1, -1};  // red_cube, green_cube, table
  for (std::size_t o = 0; o < scenario->model.objects.size(); ++o) {
    const std::string& name = scenario->model.objects[o].name;
    if (name == "red_cube") index[0] = static_cast<int>(o);
    if (name == "green_cube") index[1] = static_cast<int>(o);
    if (name == "table") index[2] = static_cast<int>(o);
  }
  core::Vec3 seen[2][3];
  for (std::uint32_t e = 0; e < 2; ++e) {
    const std::uint32_t view = e * snapshot.num_cameras;
    const core::Vec3 light = snapshot.lights[e].colour;
    for (int j = 0; j < 3; ++j) {
      INFO("env " << e << ", object " << scenario->model.objects[static_cast<std::size_t>(index[j])].name);
      std::uint32_t id = 0;
      for (std::size_t k = 0; k < n; ++k)
        if (static_cast<int>(snapshot.instances[k].body) == m.object_body(index[j])) id = snapshot.segmentation_ids[e * n + k];
      REQUIRE(id != 0);
      // Sum of the object's well-lit pixels.
      core::Vec3 sum = core::Vec3::Zero();
      int pixels = 0;
      const auto ids = r.instance_ids(view);
      const auto rgba = r.colour(view);
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] != id) continue;
        const core::Vec3 c(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]);
        if (c.maxCoeff() < 60 || c.maxCoeff() > 250) continue;  // too dark to read, or clipped
        sum += c;
        ++pixels;
      }
      REQUIRE(pixels >= 10);
      const core::Vec4 drawn = j < 2 ? setups[e].object_colours[static_cast<std::size_t>(index[j])]
                                     : m.render_meshes()[snapshot.instances[0].mesh.value].colour;
      core::Vec3 expected(drawn[0] * light[0], drawn[1] * light[1], drawn[2] * light[2]);
      if (j == 2) {  // the table keeps the colour of its own mesh
        for (std::size_t k = 0; k < n; ++k)
          if (static_cast<int>(snapshot.instances[k].body) == m.object_body(index[j])) {
            const core::Vec4 own = m.render_meshes()[snapshot.instances[k].mesh.value].colour;
            expected = core::Vec3(own[0] * light[0], own[1] * light[1], own[2] * light[2]);
          }
      }
      const core::Vec3 got = sum / pixels;
      seen[e][j] = got.normalized();
      INFO("rendered " << got.transpose() << ", expected direction " << expected.normalized().transpose());
      CHECK(got.normalized().dot(expected.normalized()) > 0.995);
    }
  }
  // The two episodes drew different colours for the randomized objects.
  CHECK(seen[0][0].dot(seen[1][0]) < 0.999);
  CHECK(validation.messages() == 0);
}

}  // namespace
}  // namespace pf::scenarios
