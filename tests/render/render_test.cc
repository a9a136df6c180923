// BatchRenderer on the machine's Vulkan device (lavapipe where there is no GPU), with
// VK_LAYER_KHRONOS_validation on: any validation warning or error fails the test.
#include <catch2/catch.hpp>

#include <stb_image.h>
#include <stb_image_write.h>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <span>
#include <string>

#include "pf/assets/primitives.h"
#include "pf/core/log.h"
#include "pf/render/batch_renderer.h"
#include "pf/render/camera.h"
#include "pf/render/vulkan_context.h"
#include "support/test_support.h"

// Every operator new in this binary is counted, to check that frames allocate nothing. Not
// under AddressSanitizer, which has its own operator new and checks that memory goes back
// the way it came (the replacement would mix the two): that test is left out there.
#if !defined(__SANITIZE_ADDRESS__)
#define PF_COUNT_ALLOCATIONS 1
namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// Not inlined: GCC 12 otherwise sees malloc/free inside and reports the library's
// new/delete pairs as mismatched (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

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

RenderConfig Lod(bool enabled) {
  RenderConfig config;
  config.lod.enabled = enabled;
  return config;
}

// Checks projection, depth, ids and colour; returns whether the outputs were read in place.
bool CheckScene(const core::CameraIntrinsics& K, double sphere_radius, bool lod) {
  auto context = MakeContext();
  bool in_place = false;
  {
    INFO("level of detail " << (lod ? "on" : "off"));
    const Scene scene = MakeScene(K, sphere_radius);
    auto renderer = BatchRenderer::Create(context, scene.Inputs(), Lod(lod));
    if (!renderer) FAIL(renderer.error().ToString());
    BatchRenderer& r = **renderer;
    auto status = r.Render(scene.snapshot);
    if (!status) FAIL(status.error().ToString());
    in_place = r.reads_in_place();
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

      // (b) depth on the plate's top face (off its edges) is the analytic z-depth; its colour
      // is lit (ambient + Lambert) or, where the ray towards the light meets the env's sphere
      // or cube (analytic intersections, nothing from the renderer), ambient only. Pixels
      // within 6 mm of a shadow's edge (a few shadow-map texels) are not judged.
      const double want_z = 1.0 - scene.plate_top_z[v];
      std::size_t plate_px = 0, depth_bad = 0, colour_bad = 0, shadowed_px = 0;
      const Vec3 to_light = -core::DirectionalLight{}.direction_W.normalized();
      const double lit = 0.3 + 0.7 * std::max(0.0, to_light.z());
      const core::Pose X_WC = CameraPose();
      const core::Pose X_WBox = core::MakePose(Vec3(0.15, -0.1, 0.3), core::QuatFromRpy(0, 0, 0.5));
      // A shadow's edge is blurred over a texel or two of the map, which spans about 1 m.
      REQUIRE(r.shadow_map_size() >= 64);
      const double kEdge = std::max(0.006, 2.5 / r.shadow_map_size());
      // 1 = shadowed, 0 = lit, -1 = too close to call; `grow` widens the occluders.
      auto occluded = [&](const Vec3& p_W, double grow) {
        const Vec3& c = scene.sphere_centre[v];
        const double t = std::max(0.0, (c - p_W).dot(to_light));
        if ((p_W + t * to_light - c).norm() < sphere_radius + grow) return true;
        if (v == 1) {  // the cube (0.1 m) is visible in env 1 only: slab test in its frame
          const Vec3 o = X_WBox.inverse() * p_W, d = X_WBox.rotation().transpose() * to_light;
          double t0 = 0.0, t1 = 1e9;
          for (int a = 0; a < 3; ++a) {
            const double half = 0.05 + grow;
            if (std::abs(d[a]) < 1e-12) {
              if (std::abs(o[a]) > half) return false;
              continue;
            }
            double ta = (-half - o[a]) / d[a], tb = (half - o[a]) / d[a];
            if (ta > tb) std::swap(ta, tb);
            t0 = std::max(t0, ta);
            t1 = std::min(t1, tb);
          }
          if (t0 <= t1) return true;
        }
        return false;
      };
      for (std::uint32_t y = 1; y + 1 < h; ++y)
        for (std::uint32_t x = 1; x + 1 < w; ++x) {
          const std::size_t i = y * w + x;
          if (ids[i] != plate_id[v] || ids[i - 1] != plate_id[v] || ids[i + 1] != plate_id[v] ||
              ids[i - w] != plate_id[v] || ids[i + w] != plate_id[v])
            continue;
          ++plate_px;
          if (std::abs(depth[i] - want_z) > 1e-3) ++depth_bad;
          const Vec3 p_W = X_WC * Vec3((x + 0.5 - K.cx) / K.fx * want_z, (y + 0.5 - K.cy) / K.fy * want_z, want_z);
          const bool in = occluded(p_W, kEdge), out = occluded(p_W, -kEdge);
          if (in != out) continue;
          shadowed_px += out;
          const double shade = out ? 0.3 : lit;
          if (std::abs(rgba[4 * i + 2] - 0.9 * shade * 255.0) > 2.0 || rgba[4 * i + 3] != 255) ++colour_bad;
        }
      CHECK(plate_px > w * h / 4);
      CHECK(depth_bad == 0);
      CHECK(colour_bad == 0);
      CHECK(shadowed_px > 0);
    }
  }
  context.reset();
  CheckNoValidationMessages();
  return in_place;
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
  CheckScene(Intrinsics(640, 480, 600.0, 317.3, 242.1), 0.02, false);
  CheckScene(Intrinsics(640, 480, 600.0, 317.3, 242.1), 0.02, true);
}

TEST_CASE("render: 64x64 projection, depth and ids", "[render]") {
  CheckScene(Intrinsics(64, 64, 60.0, 31.7, 32.4), 0.05, false);
  CheckScene(Intrinsics(64, 64, 60.0, 31.7, 32.4), 0.05, true);
}

// lavapipe pads image rows to 64 bytes: 50-pixel rows cannot be read in place, and the
// outputs go through the copy into the readback buffer (the path a GPU always takes).
TEST_CASE("render: rows that are not tightly packed are read back through a copy", "[render]") {
  const bool in_place = CheckScene(Intrinsics(50, 40, 47.0, 24.6, 20.3), 0.05, false);
  auto devices = ListDevices();
  REQUIRE(devices);
  if (devices->front().type == "cpu") CHECK(!in_place);
}

TEST_CASE("render: the images do not depend on how views are split into passes", "[render]") {
  auto context = MakeContext();
  {
    const Scene scene = MakeScene(Intrinsics(64, 64, 60.0, 31.7, 32.4), 0.05);
    std::vector<std::uint8_t> colour;
    std::vector<float> depth;
    std::vector<std::uint32_t> ids, semantic;
    // The last one: room for one shadow map only, which limits a pass to one env.
    const std::uint64_t one_map = std::uint64_t{64} * 64 * 4;  // the automatic size at 64 × 64
    for (const auto& [pass_pixels, shadow_bytes] :
         std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 1ull << 30}, {1, 1ull << 30}, {1ull << 40, 1ull << 30},
                                                              {0, one_map}}) {
      INFO("pass_pixels " << pass_pixels << ", shadow_memory_bytes " << shadow_bytes);
      RenderConfig config;
      config.pass_pixels = pass_pixels;
      config.shadow_memory_bytes = shadow_bytes;
      auto renderer = BatchRenderer::Create(context, scene.Inputs(), config);
      if (!renderer) FAIL(renderer.error().ToString());
      BatchRenderer& r = **renderer;
      REQUIRE(r.Render(scene.snapshot));
      CHECK(r.views_per_pass() == (pass_pixels == 1 || shadow_bytes == one_map ? 1u : 2u));
      if (colour.empty()) {
        colour.assign(r.colour().begin(), r.colour().end());
        depth.assign(r.depth().begin(), r.depth().end());
        ids.assign(r.instance_ids().begin(), r.instance_ids().end());
        semantic.assign(r.semantic_ids().begin(), r.semantic_ids().end());
        continue;
      }
      CHECK(std::ranges::equal(r.colour(), colour));
      CHECK(std::ranges::equal(r.depth(), depth));
      CHECK(std::ranges::equal(r.instance_ids(), ids));
      CHECK(std::ranges::equal(r.semantic_ids(), semantic));
    }
  }
  context.reset();
  CheckNoValidationMessages();
}

// One env, one camera 1 m above the origin looking straight down (image x = world x,
// image y = -world y), one light, instances given as (mesh, pose, scale).
core::RenderSnapshot SingleViewSnapshot(const core::CameraIntrinsics& K, const core::DirectionalLight& light,
                                        const std::vector<std::pair<std::uint32_t, core::Pose>>& instances,
                                        double scale) {
  core::RenderSnapshot snap;
  for (std::uint32_t k = 0; k < instances.size(); ++k) {
    core::InstanceDesc d;
    d.mesh.value = instances[k].first;
    d.body = k;
    d.scale = Vec3::Constant(scale);
    snap.instances.push_back(d);
  }
  snap.Resize(1, static_cast<std::uint32_t>(instances.size()), 1);
  for (std::uint32_t k = 0; k < instances.size(); ++k)
    core::PoseToArray(instances[k].second, &snap.body_poses[k * core::kPoseSize]);
  for (std::uint32_t k = 0; k < instances.size(); ++k) snap.segmentation_ids[k] = k + 1;
  std::fill(snap.instance_visible.begin(), snap.instance_visible.end(), 1);
  core::PoseToArray(core::MakePose(Vec3(0, 0, 1), core::Quat(core::AngleAxis(M_PI, Vec3::UnitX()))),
                    &snap.camera_poses[0]);
  snap.camera_intrinsics[0] = K;
  snap.lights[0] = light;
  return snap;
}

TEST_CASE("render: textures are sampled through the mesh's uvs", "[render][material]") {
  auto context = MakeContext();
  {
    // A 0.6 m square in z = 0 with uvs over [0, 1]² (u along +x, v along +y), and a 64 × 64
    // texture of 4 × 4 cells, each its own colour. Seen from above with full ambient light,
    // every pixel off a cell's border must show its cell's colour exactly.
    assets::MeshData quad;
    quad.positions = {-0.3f, -0.3f, 0, 0.3f, -0.3f, 0, 0.3f, 0.3f, 0, -0.3f, 0.3f, 0};
    quad.normals = {0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1};
    quad.uvs = {0, 0, 1, 0, 1, 1, 0, 1};
    quad.has_uvs = true;
    quad.indices = {0, 1, 2, 0, 2, 3};
    quad.submeshes = {{0, 6, -1, 0}};
    auto texture = std::make_shared<assets::TextureData>();
    texture->width = texture->height = 64;
    texture->rgba.resize(64 * 64 * 4);
    auto cell_colour = [](int cx, int cy) {  // cell (column, row from the image's top)
      return std::array<std::uint8_t, 3>{static_cast<std::uint8_t>(40 + 60 * cx), static_cast<std::uint8_t>(30 + 70 * cy),
                                         static_cast<std::uint8_t>((cx + cy) % 2 ? 220 : 20)};
    };
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) {
        const auto c = cell_colour(x / 16, y / 16);
        std::copy(c.begin(), c.end(), &texture->rgba[(y * 64 + x) * 4]);
        texture->rgba[(y * 64 + x) * 4 + 3] = 255;
      }
    const core::CameraIntrinsics K = Intrinsics(128, 128, 150.0, 64, 64);
    core::DirectionalLight light;
    light.ambient = 1.0;
    const core::RenderSnapshot snap = SingleViewSnapshot(K, light, {{0, core::Pose::Identity()}}, 1.0);
    auto renderer = BatchRenderer::Create(context, {RenderMeshInput(quad, core::Vec4(1, 1, 1, 1), texture)});
    if (!renderer) FAIL(renderer.error().ToString());
    BatchRenderer& r = **renderer;
    REQUIRE(r.Render(snap));
    const auto rgba = r.colour(0);
    std::size_t judged = 0, bad = 0;
    std::set<std::array<std::uint8_t, 3>> seen;
    for (std::uint32_t y = 0; y < K.height; ++y)
      for (std::uint32_t x = 0; x < K.width; ++x) {
        // The pixel's ray meets z = 0 at world (wx, wy): the camera is flipped about x.
        const double wx = (x + 0.5 - K.cx) / K.fx, wy = -(y + 0.5 - K.cy) / K.fy;
        const double u = (wx + 0.3) / 0.6, v = (wy + 0.3) / 0.6;
        if (u <= 0 || u >= 1 || v <= 0 || v >= 1) continue;
        // Texel coordinates: v = 0 is the image's bottom row.
        const double tx = u * 64, ty = (1 - v) * 64;
        const double to_border = std::min({std::abs(std::remainder(tx, 16.0)), std::abs(std::remainder(ty, 16.0))});
        if (to_border < 2.0) continue;
        const auto want = cell_colour(static_cast<int>(tx) / 16, static_cast<int>(ty) / 16);
        ++judged;
        bool ok = true;
        for (int c = 0; c < 3; ++c) ok = ok && std::abs(int(rgba[4 * (y * K.width + x) + c]) - int(want[c])) <= 2;
        bad += !ok;
        if (ok) seen.insert(want);
      }
    CHECK(judged > 4000);
    CHECK(bad == 0);
    CHECK(seen.size() == 16);
  }
  context.reset();
  CheckNoValidationMessages();
}

TEST_CASE("render: the specular highlight sits where the normal is the half vector", "[render][material]") {
  auto context = MakeContext();
  {
    const assets::MeshData sphere = assets::MakeSphereMesh(1.0, 48);
    const core::CameraIntrinsics K = Intrinsics(128, 128, 300.0, 64, 64);
    core::DirectionalLight light;
    light.direction_W = Vec3(-0.5, 0.3, -1.0).normalized();
    light.ambient = 0.2;
    const double radius = 0.1;
    const core::RenderSnapshot snap = SingleViewSnapshot(K, light, {{0, core::Pose::Identity()}}, radius);
    // Independent truth: the point of the sphere whose normal is the half vector of the
    // light and the view from the sphere's centre, projected through K.
    const Vec3 to_light = -light.direction_W, to_eye = Vec3::UnitZ();
    const Vec3 p_W = radius * (to_light + to_eye).normalized();
    const core::Pose X_CW = core::MakePose(Vec3(0, 0, 1), core::Quat(core::AngleAxis(M_PI, Vec3::UnitX()))).inverse();
    const core::Vec2 want = ProjectToPixel(K, X_CW * p_W);
    for (const double specular : {0.0, 0.8}) {
      INFO("specular " << specular);
      auto renderer =
          BatchRenderer::Create(context, {RenderMeshInput(sphere, core::Vec4(0.3, 0.3, 0.3, 1), nullptr, specular, 64.0)});
      if (!renderer) FAIL(renderer.error().ToString());
      BatchRenderer& r = **renderer;
      REQUIRE(r.Render(snap));
      const auto rgba = r.colour(0);
      int best = -1;
      std::uint32_t bx = 0, by = 0;
      for (std::uint32_t y = 0; y < K.height; ++y)
        for (std::uint32_t x = 0; x < K.width; ++x) {
          const int value = rgba[4 * (y * K.width + x)];
          if (value > best) best = value, bx = x, by = y;
        }
      INFO("brightest " << best << " at " << bx << ", " << by << "; the half vector projects to " << want.transpose());
      if (specular == 0.0) {
        CHECK(best <= std::lround(0.3 * 255) + 1);  // ambient + Lambert at most: no highlight
      } else {
        CHECK(best > 0.3 * 255 + 0.5 * specular * 255);
        CHECK(std::hypot(bx + 0.5 - want.x(), by + 0.5 - want.y()) < 4.0);  // per-vertex: within a facet or so
      }
    }
  }
  context.reset();
  CheckNoValidationMessages();
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

TEST_CASE("render: levels of detail are built per mesh and chosen by projected error", "[render][lod]") {
  auto context = MakeContext();
  {
    const core::CameraIntrinsics K = Intrinsics(128, 128, 120.0, 64, 64);
    Scene scene = MakeScene(K, 0.05);
    auto full = BatchRenderer::Create(context, scene.Inputs(), Lod(false));
    auto lod = BatchRenderer::Create(context, scene.Inputs(), Lod(true));
    if (!full || !lod) FAIL((full ? lod : full).error().ToString());
    // The 48-segment sphere gets coarser levels (built either way: shadow maps use them);
    // the 12-triangle box none.
    CHECK((*full)->num_lod_levels(0) == (*lod)->num_lod_levels(0));
    REQUIRE((*lod)->num_lod_levels(0) >= 4);
    CHECK((*lod)->num_lod_levels(1) == 1);
    // Level 0: the full mesh less the zero-area triangles of the UV sphere's poles.
    CHECK((*lod)->lod_triangles(0, 0) == scene.meshes[0].num_triangles() - 2 * 48);
    CHECK((*full)->lod_triangles(0, 0) == (*lod)->lod_triangles(0, 0));
    CHECK((*lod)->lod_triangles(1, 0) == 12);
    for (std::uint32_t l = 1; l < (*lod)->num_lod_levels(0); ++l)
      CHECK((*lod)->lod_triangles(0, l) < (*lod)->lod_triangles(0, l - 1));

    // Near and far: the far spheres draw far fewer triangles, masks and depth barely move.
    for (const double height : {1.0, 4.0}) {
      INFO("camera " << height << " m above the plate");
      for (std::uint32_t e = 0; e < 2; ++e) {
        core::Pose X_WC = CameraPose();
        X_WC.translation().z() = height;
        core::PoseToArray(X_WC, &scene.snapshot.camera_poses[e * core::kPoseSize]);
        scene.snapshot.camera_intrinsics[e].far = 10.0;
      }
      REQUIRE((*full)->Render(scene.snapshot));
      REQUIRE((*lod)->Render(scene.snapshot));
      const auto& full_stats = (*full)->last_stats();
      const auto& lod_stats = (*lod)->last_stats();
      CHECK(lod_stats.instances == full_stats.instances);
      CHECK(lod_stats.triangles < full_stats.triangles);
      CHECK(lod_stats.shadow_triangles == full_stats.shadow_triangles);  // levels per texel either way
      if (height > 2.0) CHECK(lod_stats.triangles * 4 < full_stats.triangles);
      // Away from silhouettes (3x3 neighbourhoods of one id at full detail) ids agree, and
      // depth is within the pixel error's depth equivalent (0.5 px × z / f) but where the
      // surface is seen at a grazing angle (depth error = surface error / cos).
      const std::uint32_t w = K.width, h = K.height;
      const double max_depth_error = (*lod)->lod_config().pixel_error * height / K.fx + 1e-4;
      for (std::uint32_t v = 0; v < 2; ++v) {
        const auto ids_full = (*full)->instance_ids(v), ids_lod = (*lod)->instance_ids(v);
        const auto depth_full = (*full)->depth(v), depth_lod = (*lod)->depth(v);
        std::size_t interior = 0, id_bad = 0, depth_bad = 0;
        for (std::uint32_t y = 1; y + 1 < h; ++y)
          for (std::uint32_t x = 1; x + 1 < w; ++x) {
            const std::size_t i = y * w + x;
            bool edge = false;
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx) edge = edge || ids_full[(y + dy) * w + x + dx] != ids_full[i];
            if (edge) continue;
            ++interior;
            if (ids_lod[i] != ids_full[i]) ++id_bad;
            if (std::abs(depth_lod[i] - depth_full[i]) > max_depth_error) ++depth_bad;
          }
        CHECK(interior > w * h / 2);
        CHECK(id_bad == 0);
        CHECK(depth_bad <= interior / 200);
      }
    }
  }
  context.reset();
  CheckNoValidationMessages();
}

TEST_CASE("render: instances outside a view's frustum are not drawn", "[render]") {
  auto context = MakeContext();
  {
    Scene scene = MakeScene(Intrinsics(64, 64, 60.0, 32, 32), 0.05);
    auto renderer = BatchRenderer::Create(context, scene.Inputs(), Lod(false));
    if (!renderer) FAIL(renderer.error().ToString());
    REQUIRE((*renderer)->Render(scene.snapshot));
    CHECK((*renderer)->last_stats().instances == 5);  // env 0: 2 visible, env 1: 3
    // The cube of env 1 far to the side, then behind the camera.
    for (const Vec3& p : {Vec3(5.0, 0.0, 0.3), Vec3(0.0, 0.0, 2.0)}) {
      core::PoseToArray(core::MakePose(p), &scene.snapshot.body_poses[(1 * 4 + 3) * core::kPoseSize]);
      REQUIRE((*renderer)->Render(scene.snapshot));
      CHECK((*renderer)->last_stats().instances == 4);
      const auto ids = (*renderer)->instance_ids(1);
      CHECK(std::count(ids.begin(), ids.end(), 14u) == 0);
    }
  }
  context.reset();
  CheckNoValidationMessages();
}

TEST_CASE("render: pipelined frames match single renders, two in flight at most", "[render]") {
  auto context = MakeContext();
  {
    Scene a = MakeScene(Intrinsics(64, 64, 60.0, 32, 32), 0.05);
    Scene b = a;
    b.snapshot.instance_visible = {0, 1, 1, 1, 1, 0, 1, 0};
    auto renderer = BatchRenderer::Create(context, a.Inputs());
    if (!renderer) FAIL(renderer.error().ToString());
    BatchRenderer& r = **renderer;
    CHECK(r.colour().empty());
    CHECK(!r.Collect());
    std::vector<std::uint32_t> ids_a, ids_b;
    std::vector<float> depth_a, depth_b;
    REQUIRE(r.Render(a.snapshot));
    ids_a.assign(r.instance_ids().begin(), r.instance_ids().end());
    depth_a.assign(r.depth().begin(), r.depth().end());
    REQUIRE(r.Render(b.snapshot));
    ids_b.assign(r.instance_ids().begin(), r.instance_ids().end());
    depth_b.assign(r.depth().begin(), r.depth().end());
    CHECK(ids_a != ids_b);

    REQUIRE(r.Submit(a.snapshot));
    REQUIRE(r.Submit(b.snapshot));
    CHECK(r.frames_in_flight() == 2);
    auto third = r.Submit(a.snapshot);
    REQUIRE(!third);
    CHECK(third.error().message.find("Collect first") != std::string::npos);
    CHECK(!r.Render(a.snapshot));
    REQUIRE(r.Collect());  // frame a
    CHECK(std::ranges::equal(r.instance_ids(), ids_a));
    CHECK(std::ranges::equal(r.depth(), depth_a));
    REQUIRE(r.Submit(a.snapshot));  // reuses frame a's slot: its results are gone
    CHECK(r.instance_ids().empty());
    REQUIRE(r.Collect());  // frame b
    CHECK(std::ranges::equal(r.instance_ids(), ids_b));
    CHECK(std::ranges::equal(r.depth(), depth_b));
    REQUIRE(r.Collect());  // frame a again
    CHECK(std::ranges::equal(r.instance_ids(), ids_a));
    CHECK(r.frames_in_flight() == 0);
  }
  context.reset();
  CheckNoValidationMessages();
}

// The first `envs` envs of a snapshot.
core::RenderSnapshot FirstEnvs(core::RenderSnapshot s, std::uint32_t envs) {
  const std::size_t n = s.num_instances(), b = s.num_bodies, c = s.num_cameras;
  s.num_envs = envs;
  s.body_poses.resize(envs * b * 7);
  s.instance_materials.resize(envs * n);
  s.segmentation_ids.resize(envs * n);
  s.instance_visible.resize(envs * n);
  s.camera_intrinsics.resize(envs * c);
  s.camera_poses.resize(envs * c * 7);
  s.lights.resize(envs);
  return s;
}

std::map<std::string, std::int64_t> LiveObjects() {
  std::map<std::string, std::int64_t> out;
  for (const VulkanObjectCount& c : LiveVulkanObjects()) out[c.kind] = c.live;
  return out;
}
// "kind=n kind=n ..." so that Catch shows which count differs.
std::string Describe(const std::map<std::string, std::int64_t>& counts) {
  std::string out;
  for (const auto& [kind, n] : counts) out += kind + "=" + std::to_string(n) + " ";
  return out;
}

TEST_CASE("render: live Vulkan objects are counted, stay flat over frames and go at teardown", "[render]") {
  PrepareVulkanOnce();
  const auto before = LiveObjects();
  REQUIRE(before.size() == 21);
  {
    auto context = MakeContext();
    CHECK(LiveObjects().at("instance") == before.at("instance") + 1);
    CHECK(LiveObjects().at("device") == before.at("device") + 1);
    Scene scene = MakeScene(Intrinsics(64, 64, 60.0, 32, 32), 0.05);
    auto renderer = BatchRenderer::Create(context, scene.Inputs());
    if (!renderer) FAIL(renderer.error().ToString());
    BatchRenderer& r = **renderer;
    // Both frame slots get their outputs: one from Render, the other from the pipelined pair.
    REQUIRE(r.Render(scene.snapshot));
    REQUIRE(r.Submit(scene.snapshot));
    REQUIRE(r.Submit(scene.snapshot));
    REQUIRE(r.Collect());
    REQUIRE(r.Collect());
    const auto warm = LiveObjects();
    CHECK(warm.at("pipeline") == before.at("pipeline") + 2);  // camera views and shadow maps
    CHECK(warm.at("sampler") == before.at("sampler") + 2);    // textures and shadow maps
    CHECK(warm.at("descriptor_pool") == before.at("descriptor_pool") + 1);
    CHECK(warm.at("shader_module") == before.at("shader_module"));  // freed once the pipeline exists
    CHECK(warm.at("image") > before.at("image"));
    CHECK(warm.at("device_memory") > before.at("device_memory"));
    for (int i = 0; i < 5; ++i) {
      REQUIRE(r.Submit(scene.snapshot));
      REQUIRE(r.Collect());
    }
    REQUIRE(r.Render(scene.snapshot));
    CHECK(Describe(LiveObjects()) == Describe(warm));
    // Fewer views (env 0 alone) reuse the same targets: no new objects, and env 0's images
    // are those of the two-env frame.
    const std::vector<std::uint8_t> colour0(r.colour(0).begin(), r.colour(0).end());
    const std::vector<float> depth0(r.depth(0).begin(), r.depth(0).end());
    const std::vector<std::uint32_t> ids0(r.instance_ids(0).begin(), r.instance_ids(0).end());
    const core::RenderSnapshot first = FirstEnvs(scene.snapshot, 1);
    for (int i = 0; i < 2; ++i) {
      REQUIRE(r.Submit(first));
      REQUIRE(r.Collect());
      REQUIRE(r.num_views() == 1);
      CHECK(std::equal(colour0.begin(), colour0.end(), r.colour(0).begin()));
      CHECK(std::equal(depth0.begin(), depth0.end(), r.depth(0).begin()));
      CHECK(std::equal(ids0.begin(), ids0.end(), r.instance_ids(0).begin()));
      CHECK(Describe(LiveObjects()) == Describe(warm));
    }
    // A new view size replaces the outputs and the depth buffer; going back gives the
    // same objects again, no more.
    Scene small = MakeScene(Intrinsics(32, 48, 30.0, 16, 24), 0.05);
    for (int i = 0; i < 3; ++i) {
      REQUIRE(r.Render(small.snapshot));
      REQUIRE(r.Render(scene.snapshot));
    }
    REQUIRE(r.Submit(scene.snapshot));
    REQUIRE(r.Submit(scene.snapshot));
    REQUIRE(r.Collect());
    REQUIRE(r.Collect());
    CHECK(Describe(LiveObjects()) == Describe(warm));
    renderer->reset();
    context.reset();
    CheckNoValidationMessages();
  }
  CHECK(Describe(LiveObjects()) == Describe(before));
}

// ---------------------------------------------------------------------------------------
// Golden images: tests/render/golden/view<V>_{colour.png, depth.f32, instance.u32,
// semantic.u32} for both views of the test scene at 96x72, full meshes. Lavapipe reproduces
// them bit for bit (its output does not depend on the thread count); other drivers
// rasterize edges and round colours a little differently, so the comparison allows a
// little. On a failure the actual images and diff images are written to
// <build>/tests/golden-diff/ and the message names them. PARAFAB_UPDATE_GOLDEN=1 rewrites
// the golden files from this run instead (look at the PNGs before committing them).

template <class T>
std::vector<T> ReadRaw(const std::filesystem::path& path) {
  const std::string bytes = pf::testing::ReadFile(path);
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

template <class T>
void WriteRaw(const std::filesystem::path& path, std::span<const T> data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size_bytes()));
  REQUIRE(out.good());
}

struct GoldenCompare {
  std::size_t pixels = 0;
  std::size_t colour_off = 0;    // pixels with a channel more than 3 levels off
  std::size_t depth_off = 0;     // pixels drawn in both whose depth differs by more than 1 mm
  std::size_t instance_off = 0;  // pixels whose instance id differs
  std::size_t semantic_off = 0;
  std::size_t exact = 0;         // pixels equal in every output
  int colour_max = 0;
  double depth_max = 0.0;
};

TEST_CASE("render: golden images of the test scene", "[render][golden]") {
  const std::filesystem::path golden_dir = PF_GOLDEN_DIR;
  const std::filesystem::path diff_dir = PF_GOLDEN_DIFF_DIR;
  const char* update_env = std::getenv("PARAFAB_UPDATE_GOLDEN");
  const bool update = update_env != nullptr && std::string(update_env) == "1";
  auto context = MakeContext();
  {
    const std::uint32_t w = 96, h = 72;
    Scene scene = MakeScene(Intrinsics(w, h, 80.0, 47.5, 35.5), 0.05);
    auto renderer = BatchRenderer::Create(context, scene.Inputs(), Lod(false));
    if (!renderer) FAIL(renderer.error().ToString());
    BatchRenderer& r = **renderer;
    REQUIRE(r.Render(scene.snapshot));
    const std::size_t n = static_cast<std::size_t>(w) * h;
    for (std::uint32_t v = 0; v < 2; ++v) {
      const std::string stem = "view" + std::to_string(v);
      const auto colour = r.colour(v);
      const auto depth = r.depth(v);
      const auto instance = r.instance_ids(v);
      const auto semantic = r.semantic_ids(v);
      if (update) {
        std::filesystem::create_directories(golden_dir);
        REQUIRE(stbi_write_png((golden_dir / (stem + "_colour.png")).c_str(), static_cast<int>(w), static_cast<int>(h), 4,
                               colour.data(), static_cast<int>(w) * 4) != 0);
        WriteRaw(golden_dir / (stem + "_depth.f32"), depth);
        WriteRaw(golden_dir / (stem + "_instance.u32"), instance);
        WriteRaw(golden_dir / (stem + "_semantic.u32"), semantic);
        WARN("PARAFAB_UPDATE_GOLDEN=1: rewrote " << (golden_dir / stem).string() << "_*");
        continue;
      }
      INFO("golden " << (golden_dir / stem).string() << "_*");
      int gw = 0, gh = 0, channels = 0;
      std::unique_ptr<stbi_uc, void (*)(void*)> golden_colour(
          stbi_load((golden_dir / (stem + "_colour.png")).c_str(), &gw, &gh, &channels, 4), stbi_image_free);
      REQUIRE(golden_colour != nullptr);
      REQUIRE(gw == static_cast<int>(w));
      REQUIRE(gh == static_cast<int>(h));
      const auto golden_depth = ReadRaw<float>(golden_dir / (stem + "_depth.f32"));
      const auto golden_instance = ReadRaw<std::uint32_t>(golden_dir / (stem + "_instance.u32"));
      const auto golden_semantic = ReadRaw<std::uint32_t>(golden_dir / (stem + "_semantic.u32"));
      REQUIRE(golden_depth.size() == n);
      REQUIRE(golden_instance.size() == n);
      REQUIRE(golden_semantic.size() == n);

      GoldenCompare c;
      c.pixels = n;
      std::vector<std::uint8_t> colour_diff(n * 3, 0), depth_diff(n * 3, 0), id_diff(n * 3, 0);
      for (std::size_t i = 0; i < n; ++i) {
        int worst = 0;
        for (int k = 0; k < 4; ++k)
          worst = std::max(worst, std::abs(static_cast<int>(colour[4 * i + k]) - static_cast<int>(golden_colour.get()[4 * i + k])));
        c.colour_max = std::max(c.colour_max, worst);
        c.colour_off += worst > 3;
        for (int k = 0; k < 3; ++k) colour_diff[3 * i + k] = static_cast<std::uint8_t>(std::min(255, 8 * worst));
        const bool both = depth[i] > 0.0f && golden_depth[i] > 0.0f;
        const double dz = both ? std::abs(static_cast<double>(depth[i]) - golden_depth[i]) : 0.0;
        c.depth_max = std::max(c.depth_max, dz);
        c.depth_off += dz > 1e-3;
        depth_diff[3 * i] = static_cast<std::uint8_t>(std::min(255.0, dz * 255e3));  // red: 1 mm → 255
        const bool id_same = instance[i] == golden_instance[i], sem_same = semantic[i] == golden_semantic[i];
        c.instance_off += !id_same;
        c.semantic_off += !sem_same;
        id_diff[3 * i] = id_same ? 0 : 255;
        id_diff[3 * i + 1] = sem_same ? 0 : 255;
        c.exact += worst == 0 && depth[i] == golden_depth[i] && id_same && sem_same;
      }
      // At most 1 % of the pixels off in each output (silhouette edges).
      const std::size_t allowed = n / 100;
      const bool pass = c.colour_off <= allowed && c.depth_off <= allowed && c.instance_off <= allowed &&
                        c.semantic_off <= allowed && c.colour_max <= 64;
      std::string where;
      if (!pass) {
        std::filesystem::create_directories(diff_dir);
        const auto out = [&](const std::string& name) { return (diff_dir / (stem + name)).string(); };
        stbi_write_png(out("_actual_colour.png").c_str(), static_cast<int>(w), static_cast<int>(h), 4, colour.data(),
                       static_cast<int>(w) * 4);
        stbi_write_png(out("_colour_diff.png").c_str(), static_cast<int>(w), static_cast<int>(h), 3, colour_diff.data(),
                       static_cast<int>(w) * 3);
        stbi_write_png(out("_depth_diff.png").c_str(), static_cast<int>(w), static_cast<int>(h), 3, depth_diff.data(),
                       static_cast<int>(w) * 3);
        stbi_write_png(out("_ids_diff.png").c_str(), static_cast<int>(w), static_cast<int>(h), 3, id_diff.data(),
                       static_cast<int>(w) * 3);
        WriteRaw(out("_actual_depth.f32"), depth);
        WriteRaw(out("_actual_instance.u32"), instance);
        where = " (actual and diff images: " + out("_*") + ")";
      }
      INFO(stem << ": " << c.exact << "/" << n << " pixels exact; off: colour " << c.colour_off << " (max "
                << c.colour_max << " levels), depth " << c.depth_off << " (max " << c.depth_max * 1e3 << " mm), instance "
                << c.instance_off << ", semantic " << c.semantic_off << where);
      CHECK(pass);
      // The golden view is not empty: the plate and at least one of its env's objects.
      CHECK(std::set<std::uint32_t>(golden_instance.begin(), golden_instance.end()).size() >= 3);
    }
  }
  context.reset();
  CheckNoValidationMessages();
}

#if defined(PF_COUNT_ALLOCATIONS)
// Without validation: the layer allocates while it tracks commands.
TEST_CASE("render: frames allocate no memory once warmed up", "[render]") {
  PrepareVulkanOnce();
  RenderConfig config;
  config.validation = false;
  auto context = VulkanContext::Create(config);
  if (!context) FAIL(context.error().ToString());
  Scene scene = MakeScene(Intrinsics(64, 64, 60.0, 32, 32), 0.05);
  auto renderer = BatchRenderer::Create(*context, scene.Inputs());
  if (!renderer) FAIL(renderer.error().ToString());
  BatchRenderer& r = **renderer;
  for (int i = 0; i < 3; ++i) REQUIRE(r.Render(scene.snapshot));
  REQUIRE(r.Submit(scene.snapshot));
  // No Catch2 assertion inside the measured span: they may allocate themselves.
  const std::uint64_t before = g_allocations.load();
  bool ok = true;
  for (int i = 0; i < 10; ++i) {
    core::PoseToArray(core::MakePose(Vec3(0.01 * i, 0.0, 0.3)), &scene.snapshot.body_poses[0]);
    ok = ok && r.Submit(scene.snapshot).has_value() && r.Collect().has_value();
  }
  ok = ok && r.Collect().has_value() && r.Render(scene.snapshot).has_value();
  const std::uint64_t allocations = g_allocations.load() - before;
  REQUIRE(ok);
  CHECK(allocations == 0);
}
#endif

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
