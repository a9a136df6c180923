// BatchRenderer on the machine's Vulkan device (lavapipe where there is no GPU), with
// VK_LAYER_KHRONOS_validation on: any validation warning or error fails the test.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "pf/assets/primitives.h"
#include "pf/core/log.h"
#include "pf/render/batch_renderer.h"
#include "pf/render/camera.h"
#include "pf/render/vulkan_context.h"
#include "support/test_support.h"

namespace pf::render {
namespace {

using core::Vec3;

std::atomic<int> g_validation_messages{0};
std::string g_runtime_dir;  // private XDG_RUNTIME_DIR made here, removed at exit

// Turns validation on, gives the loader a private runtime dir, and skips the whole binary
// (exit 77) when the machine has no Vulkan device at all.
void PrepareVulkanOnce() {
  static const bool ready = [] {
    setenv("PARAFAB_VK_VALIDATION", "1", 1);
    if (!std::getenv("XDG_RUNTIME_DIR")) {
      std::string dir = (std::filesystem::temp_directory_path() / "pf_render_test_XXXXXX").string();
      if (mkdtemp(dir.data())) {
        chmod(dir.c_str(), 0700);
        setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
        g_runtime_dir = dir;
        std::atexit([] {
          std::error_code ec;
          std::filesystem::remove_all(g_runtime_dir, ec);
        });
      }
    }
    auto devices = ListDevices();
    if (!devices || devices->empty()) {
      std::fprintf(stderr, "render_test: SKIPPED: no Vulkan device (%s)\n",
                   devices ? "none listed" : devices.error().ToString().c_str());
      std::exit(pf::testing::kSkipReturnCode);
    }
    core::SetLogSink([](core::LogLevel level, std::string_view line) {
      if (level >= core::LogLevel::kWarning && line.find("vulkan validation") != std::string_view::npos)
        ++g_validation_messages;
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    });
    return true;
  }();
  (void)ready;
}

std::shared_ptr<VulkanContext> MakeContext() {
  PrepareVulkanOnce();
  g_validation_messages = 0;
  RenderConfig config;  // validation from the environment, set above
  REQUIRE(config.validation);
  auto context = VulkanContext::Create(config);
  if (!context) FAIL(context.error().ToString());
  REQUIRE((*context)->validation_enabled());
  return *context;
}

// Counts every validation message, including those at device/instance destruction.
void CheckNoValidationMessages() { CHECK(g_validation_messages.load() == 0); }

// Two envs × one camera looking straight down from 1 m above the origin (yawed 0.3 rad).
//   instance 0: sphere A (body 0)   visible in env 0 only
//   instance 1: sphere B (body 1)   visible in env 1 only
//   instance 2: plate (body 2)      both envs; its top face is at the body origin
//   instance 3: cube (body 3)       env 1 only
struct Scene {
  std::vector<assets::MeshData> meshes;
  core::RenderSnapshot snapshot;
  double plate_top_z[2] = {0.0, 0.1};
  Vec3 sphere_centre[2] = {Vec3(0.08, 0.05, 0.3), Vec3(-0.1, -0.06, 0.35)};

  std::vector<RenderMeshInput> Inputs() const {
    return {{meshes[0], core::Vec4(0.9, 0.2, 0.2, 1.0)}, {meshes[1], core::Vec4(0.2, 0.6, 0.9, 1.0)}};
  }
};

core::Pose CameraPose() {
  return core::MakePose(Vec3(0, 0, 1), core::Quat(core::AngleAxis(M_PI, Vec3::UnitX())) *
                                           core::Quat(core::AngleAxis(0.3, Vec3::UnitZ())));
}

Scene MakeScene(const core::CameraIntrinsics& K, double sphere_radius) {
  Scene s;
  s.meshes.push_back(assets::MakeSphereMesh(1.0, 48));
  s.meshes.push_back(assets::MakeBoxMesh(Vec3(1, 1, 1)));
  core::RenderSnapshot& snap = s.snapshot;
  auto add = [&](std::uint32_t mesh, std::uint32_t body, Vec3 scale, core::Pose X_BG, std::uint32_t semantic) {
    core::InstanceDesc d;
    d.mesh.value = mesh;
    d.material.value = 0;
    d.body = body;
    d.scale = scale;
    d.X_BG = X_BG;
    d.semantic_class = semantic;
    snap.instances.push_back(d);
  };
  add(0, 0, Vec3::Constant(sphere_radius), core::Pose::Identity(), 5);
  add(0, 1, Vec3::Constant(sphere_radius), core::Pose::Identity(), 6);
  add(1, 2, Vec3(0.8, 0.6, 0.05), core::MakePose(Vec3(0, 0, -0.025)), 7);
  add(1, 3, Vec3::Constant(0.1), core::Pose::Identity(), 8);
  snap.Resize(2, 4, 1);
  auto set_body = [&](std::uint32_t env, std::uint32_t body, const core::Pose& X_WB) {
    core::PoseToArray(X_WB, &snap.body_poses[(env * 4 + body) * core::kPoseSize]);
  };
  for (std::uint32_t e = 0; e < 2; ++e) {
    set_body(e, 0, core::MakePose(s.sphere_centre[0]));
    set_body(e, 1, core::MakePose(s.sphere_centre[1]));
    set_body(e, 2, core::MakePose(Vec3(0, 0, s.plate_top_z[e])));
    set_body(e, 3, core::MakePose(Vec3(0.15, -0.1, 0.3), core::QuatFromRpy(0, 0, 0.5)));
    core::PoseToArray(CameraPose(), &snap.camera_poses[e * core::kPoseSize]);
    snap.camera_intrinsics[e] = K;
  }
  snap.segmentation_ids = {1, 2, 3, 4, 11, 12, 13, 14};
  snap.instance_visible = {1, 0, 1, 0, 0, 1, 1, 1};
  return s;
}

core::CameraIntrinsics Intrinsics(std::uint32_t w, std::uint32_t h, double f, double cx, double cy) {
  core::CameraIntrinsics K;
  K.width = w;
  K.height = h;
  K.fx = K.fy = f;
  K.cx = cx;
  K.cy = cy;
  K.near = 0.05;
  K.far = 5.0;
  return K;
}

void CheckScene(const core::CameraIntrinsics& K, double sphere_radius) {
  auto context = MakeContext();
  {
    const Scene scene = MakeScene(K, sphere_radius);
    auto renderer = BatchRenderer::Create(context, scene.Inputs());
    if (!renderer) FAIL(renderer.error().ToString());
    BatchRenderer& r = **renderer;
    auto status = r.Render(scene.snapshot);
    if (!status) FAIL(status.error().ToString());
    REQUIRE(r.num_views() == 2);
    REQUIRE(r.width() == K.width);
    REQUIRE(r.height() == K.height);
    REQUIRE(r.depth().size() == 2u * K.width * K.height);
    REQUIRE(r.colour().size() == 2u * K.width * K.height * 4);

    const core::Pose X_CW = CameraPose().inverse();
    const std::uint32_t w = K.width, h = K.height;
    const std::map<std::uint32_t, std::uint32_t> semantic_of[2] = {{{0, 0}, {1, 5}, {3, 7}},
                                                                   {{0, 0}, {12, 6}, {13, 7}, {14, 8}}};
    const std::uint32_t sphere_id[2] = {1, 12}, plate_id[2] = {3, 13};
    for (std::uint32_t v = 0; v < 2; ++v) {
      INFO("view " << v << " (" << w << "x" << h << ")");
      auto ids = r.instance_ids(v);
      auto sem = r.semantic_ids(v);
      auto depth = r.depth(v);
      auto rgba = r.colour(v);

      // (c) ids: exactly this env's visible objects plus background, semantic ids match.
      std::set<std::uint32_t> seen(ids.begin(), ids.end());
      std::set<std::uint32_t> want;
      for (const auto& [id, cls] : semantic_of[v]) want.insert(id);
      CHECK(seen == want);
      std::size_t sem_mismatch = 0, bg_bad = 0;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        auto it = semantic_of[v].find(ids[i]);
        if (it == semantic_of[v].end() || it->second != sem[i]) ++sem_mismatch;
        if (ids[i] == 0 && (depth[i] != 0.0f || rgba[4 * i + 3] != 0)) ++bg_bad;
      }
      CHECK(sem_mismatch == 0);
      CHECK(bg_bad == 0);

      // (a) sphere centre projects within 0.5 px of its mask centroid.
      double su = 0, sv = 0;
      std::size_t count = 0;
      for (std::uint32_t y = 0; y < h; ++y)
        for (std::uint32_t x = 0; x < w; ++x)
          if (ids[y * w + x] == sphere_id[v]) {
            su += x + 0.5;
            sv += y + 0.5;
            ++count;
          }
      REQUIRE(count > 10);
      const core::Vec2 uv = ProjectToPixel(K, X_CW * scene.sphere_centre[v]);
      INFO("sphere projects to " << uv.transpose() << ", mask centroid " << su / count << " "
                                 << sv / count << " over " << count << " px");
      CHECK(std::abs(su / count - uv.x()) < 0.5);
      CHECK(std::abs(sv / count - uv.y()) < 0.5);

      // (b) depth on the plate's top face (off its edges) is the analytic z-depth.
      const double want_z = 1.0 - scene.plate_top_z[v];
      std::size_t plate_px = 0, depth_bad = 0, colour_bad = 0;
      const double lit = 0.3 + 0.7 * std::max(0.0, core::DirectionalLight{}.direction_W.dot(-Vec3::UnitZ()));
      for (std::uint32_t y = 1; y + 1 < h; ++y)
        for (std::uint32_t x = 1; x + 1 < w; ++x) {
          const std::size_t i = y * w + x;
          if (ids[i] != plate_id[v] || ids[i - 1] != plate_id[v] || ids[i + 1] != plate_id[v] ||
              ids[i - w] != plate_id[v] || ids[i + w] != plate_id[v])
            continue;
          ++plate_px;
          if (std::abs(depth[i] - want_z) > 1e-3) ++depth_bad;
          if (std::abs(rgba[4 * i + 2] - 0.9 * lit * 255.0) > 2.0 || rgba[4 * i + 3] != 255) ++colour_bad;
        }
      CHECK(plate_px > w * h / 4);
      CHECK(depth_bad == 0);
      CHECK(colour_bad == 0);
    }
  }
  context.reset();
  CheckNoValidationMessages();
}

TEST_CASE("render: a Vulkan device is found and chosen", "[render]") {
  PrepareVulkanOnce();
  auto devices = ListDevices();
  REQUIRE(devices);
  REQUIRE(!devices->empty());
  auto context = MakeContext();
  CHECK(!context->device().name.empty());
  RenderConfig by_name;
  by_name.device_name = "no such device anywhere";
  auto missing = VulkanContext::Create(by_name);
  REQUIRE(!missing);
  CHECK(missing.error().message.find("no device named like") != std::string::npos);
  context.reset();
  CheckNoValidationMessages();
}

TEST_CASE("render: 640x480 projection, depth and ids", "[render]") {
  CheckScene(Intrinsics(640, 480, 600.0, 317.3, 242.1), 0.02);
}

TEST_CASE("render: 64x64 projection, depth and ids", "[render]") {
  CheckScene(Intrinsics(64, 64, 60.0, 31.7, 32.4), 0.05);
}

TEST_CASE("render: resizing and bad snapshots", "[render]") {
  auto context = MakeContext();
  {
    Scene scene = MakeScene(Intrinsics(64, 64, 60.0, 32, 32), 0.05);
    auto renderer = BatchRenderer::Create(context, scene.Inputs());
    if (!renderer) FAIL(renderer.error().ToString());
    REQUIRE((*renderer)->Render(scene.snapshot));
    scene.snapshot.camera_intrinsics[1] = Intrinsics(32, 48, 30.0, 16, 24);
    auto mixed = (*renderer)->Render(scene.snapshot);
    REQUIRE(!mixed);
    CHECK(mixed.error().message.find("same size") != std::string::npos);
    scene.snapshot.camera_intrinsics[0] = scene.snapshot.camera_intrinsics[1];
    REQUIRE((*renderer)->Render(scene.snapshot));
    CHECK((*renderer)->width() == 32);
    CHECK((*renderer)->height() == 48);
    scene.snapshot.instances[0].mesh.value = 7;
    auto bad_mesh = (*renderer)->Render(scene.snapshot);
    REQUIRE(!bad_mesh);
    CHECK(bad_mesh.error().where.field == "instances[0]");
  }
  context.reset();
  CheckNoValidationMessages();
}

}  // namespace
}  // namespace pf::render

namespace pf::render {
namespace {

TEST_CASE("LookAt gives OpenCV axes: the target projects to the principal point, world up is image up", "[render][camera]") {
  const core::Pose X_WC = LookAt(core::Vec3(1, -2, 1.5), core::Vec3(0.2, 0.1, 0.3));
  core::CameraIntrinsics K;
  const core::Vec2 uv = ProjectToPixel(K, X_WC.inverse() * core::Vec3(0.2, 0.1, 0.3));
  CHECK(uv.x() == Approx(K.cx));
  CHECK(uv.y() == Approx(K.cy));
  CHECK(std::abs(X_WC.rotation().determinant() - 1.0) < 1e-12);
  // A point above the target appears higher in the image (smaller v).
  CHECK(ProjectToPixel(K, X_WC.inverse() * core::Vec3(0.2, 0.1, 0.5)).y() < K.cy);
}

}  // namespace
}  // namespace pf::render
