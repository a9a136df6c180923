// BOP, COCO and RLDS shard writers on a synthetic scene: a disc ("mug", two instance ids)
// partly hidden by a rectangle ("box") in front of it, a robot patch that is no object,
// and an object that is never in view, seen by two cameras; the images are drawn with a
// z-buffer from the recorded poses, so the labels can be checked against the drawing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datagen/python.h"
#include "pf/core/math.h"
#include "pf/datagen/bop.h"
#include "pf/datagen/coco.h"
#include "pf/datagen/example.h"
#include "pf/datagen/label_writers.h"
#include "pf/datagen/png.h"
#include "pf/datagen/sha256.h"
#include "pf/datagen/tfrecord.h"
#include "support/test_support.h"

namespace pf::datagen {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using json = nlohmann::json;

constexpr double kMugRadius = 0.1;                  // m, a disc facing the camera
constexpr double kBoxHalfX = 0.05, kBoxHalfY = 0.04;  // m, a rectangle facing the camera
constexpr std::uint32_t kRobotInstance = 1;
constexpr std::uint32_t kMugInstances[2] = {3, 4};  // left and right half
constexpr std::uint32_t kBoxInstance = 7;
constexpr std::uint32_t kGhostInstance = 9;
constexpr int kNumObjects = 3;  // mug, box, ghost
constexpr int kNumDofs = 2, kNumGripper = 1;

struct CameraSpec {
  const char* name;
  std::uint32_t width, height;
  double f, cx, cy;
};
constexpr CameraSpec kCameras[2] = {{"front", 32, 24, 30.0, 16.0, 12.0}, {"wrist", 16, 12, 15.0, 8.0, 6.0}};

core::Pose CameraPose(int camera, int frame) {
  const core::Quat down(core::AngleAxis(std::numbers::pi, core::Vec3::UnitX()));
  if (camera == 0) return core::MakePose(core::Vec3(0.1, -0.2, 1.5), down);
  return core::MakePose(core::Vec3(0.15 + 0.002 * frame, -0.25, 1.3),
                        down * core::Quat(core::AngleAxis(0.2, core::Vec3::UnitZ())));
}

core::Pose ObjectPose(int object, std::uint64_t episode, int frame) {
  switch (object) {
    case 0:  // mug
      return core::MakePose(core::Vec3(0.1217 + 0.0093 * frame + 0.001 * static_cast<double>(episode), -0.2089, 0.7),
                            core::QuatFromRpy(0, 0, 0.3 + 0.1 * frame));
    case 1:  // box
      return core::MakePose(core::Vec3(0.1613, -0.2197, 1.0), core::QuatFromRpy(0.1, 0, 0));
    default:  // ghost, far out of view
      return core::MakePose(core::Vec3(5.0, 5.0, 0.5));
  }
}

// What the test's renderer drew for one camera and frame.
struct Drawn {
  std::vector<float> depth;
  std::vector<std::uint32_t> instance, semantic;
  std::vector<std::uint8_t> rgb;
  std::vector<std::uint8_t> full[kNumObjects];  // silhouettes, 0/1
};

Drawn Draw(int cam, std::uint64_t episode, int frame) {
  const CameraSpec& spec = kCameras[cam];
  const std::uint32_t W = spec.width, H = spec.height;
  const std::size_t area = static_cast<std::size_t>(W) * H;
  Drawn d;
  d.depth.assign(area, 1.4f);
  d.instance.assign(area, 0);
  d.semantic.assign(area, 0);
  for (auto& m : d.full) m.assign(area, 0);
  for (std::uint32_t y = 0; y < 3; ++y) {
    for (std::uint32_t x = 0; x < 4; ++x) {
      d.depth[y * W + x] = 0.9f;
      d.instance[y * W + x] = kRobotInstance;
      d.semantic[y * W + x] = 1;
    }
  }
  d.depth[area - 1] = 7.0f;  // beyond the 16-bit range at 0.1 mm
  d.depth[area - 2] = 0.0f;  // no surface
  d.depth[area - 3] = std::numeric_limits<float>::quiet_NaN();
  const core::Pose X_CW = CameraPose(cam, frame).inverse();
  for (int o = 0; o < kNumObjects; ++o) {
    const core::Vec3 p_C = X_CW * ObjectPose(o, episode, frame).translation();
    const double u = spec.f * p_C.x() / p_C.z() + spec.cx, v = spec.f * p_C.y() / p_C.z() + spec.cy;
    for (std::uint32_t y = 0; y < H; ++y) {
      for (std::uint32_t x = 0; x < W; ++x) {
        const double du = x + 0.5 - u, dv = y + 0.5 - v;  // parafab: pixel centres at integer + 0.5
        bool inside = false;
        if (o == 0) {
          const double r = spec.f * kMugRadius / p_C.z();
          inside = du * du + dv * dv <= r * r;
        } else if (o == 1) {
          inside = std::abs(du) <= spec.f * kBoxHalfX / p_C.z() && std::abs(dv) <= spec.f * kBoxHalfY / p_C.z();
        }
        if (!inside) continue;
        const std::size_t i = static_cast<std::size_t>(y) * W + x;
        d.full[o][i] = 1;
        if (static_cast<float>(p_C.z()) < d.depth[i]) {
          d.depth[i] = static_cast<float>(p_C.z());
          d.instance[i] = o == 0 ? kMugInstances[du < 0 ? 0 : 1] : kBoxInstance;
          d.semantic[i] = o == 0 ? 2 : 3;
        }
      }
    }
  }
  d.rgb.resize(area * 3);
  for (std::size_t i = 0; i < area; ++i) {
    d.rgb[i * 3 + 0] = static_cast<std::uint8_t>(d.instance[i] * 37 + static_cast<std::uint32_t>(frame) * 11);
    d.rgb[i * 3 + 1] = static_cast<std::uint8_t>((i % W) * 8 + static_cast<std::size_t>(cam));
    d.rgb[i * 3 + 2] = static_cast<std::uint8_t>((i / W) * 10 + episode);
  }
  return d;
}

// The visible part of object o: its instance ids' pixels.
std::vector<std::uint8_t> VisibleMask(const Drawn& d, int o) {
  std::vector<std::uint8_t> mask(d.instance.size(), 0);
  for (std::size_t i = 0; i < mask.size(); ++i) {
    const std::uint32_t id = d.instance[i];
    mask[i] = (o == 0 && (id == kMugInstances[0] || id == kMugInstances[1])) || (o == 1 && id == kBoxInstance) ||
              (o == 2 && id == kGhostInstance);
  }
  return mask;
}

EpisodeRecord MakeEpisode(std::uint64_t episode, int frames, bool success) {
  EpisodeRecord r;
  r.episode = episode;
  r.seed = 0xFFFFFFFFFFFFFFF0ull - episode;
  r.instruction = "put the mug next to the box";
  r.success = success;
  r.frames = frames;
  for (int t = 0; t < frames; ++t) {
    for (int j = 0; j < kNumDofs; ++j) r.joint_pos.push_back(0.1 * t + j);
    const double eef[7] = {0.3 + 0.01 * t, 0.0, 0.5, 1.0, 0.0, 0.0, 0.0};
    r.eef_pose.insert(r.eef_pose.end(), eef, eef + 7);
    r.gripper.push_back(0.04 - 0.01 * t);
    for (int o = 0; o < kNumObjects; ++o) {
      double pose[7];
      core::PoseToArray(ObjectPose(o, episode, t), pose);
      r.object_poses.insert(r.object_poses.end(), pose, pose + 7);
    }
    for (int k = 0; k < 7; ++k) r.actions.push_back(0.25f * static_cast<float>(k) - static_cast<float>(t));
    r.rewards.push_back(0.5f * static_cast<float>(t));
  }
  for (int cam = 0; cam < 2; ++cam) {
    const CameraSpec& spec = kCameras[cam];
    CameraFrames c;
    c.name = spec.name;
    c.width = spec.width;
    c.height = spec.height;
    for (int t = 0; t < frames; ++t) {
      const Drawn d = Draw(cam, episode, t);
      c.rgb.insert(c.rgb.end(), d.rgb.begin(), d.rgb.end());
      c.depth.insert(c.depth.end(), d.depth.begin(), d.depth.end());
      c.instance.insert(c.instance.end(), d.instance.begin(), d.instance.end());
      c.semantic.insert(c.semantic.end(), d.semantic.begin(), d.semantic.end());
      c.intrinsics.insert(c.intrinsics.end(), {spec.f, spec.f, spec.cx, spec.cy});
      double pose[7];
      core::PoseToArray(CameraPose(cam, t), pose);
      c.pose.insert(c.pose.end(), pose, pose + 7);
      for (const auto& m : d.full) c.full_masks.insert(c.full_masks.end(), m.begin(), m.end());
    }
    r.cameras.push_back(std::move(c));
  }
  return r;
}

LabelLayout MakeLayout() {
  LabelLayout layout;
  layout.scenario = "Pick-Mug v2";
  layout.brain_hz = 10.0;
  for (const CameraSpec& spec : kCameras) layout.cameras.push_back({spec.name, spec.width, spec.height});
  layout.classes = {{1, "robot"}, {2, "mug"}, {3, "box"}};
  layout.objects = {{"mug", {kMugInstances[0], kMugInstances[1]}, 2}, {"box", {kBoxInstance}, 3},
                    {"ghost", {kGhostInstance}, 2}};
  layout.num_dofs = kNumDofs;
  layout.num_gripper = kNumGripper;
  return layout;
}

struct Shard {
  LabelLayout layout = MakeLayout();
  std::vector<EpisodeRecord> records;
  std::vector<const EpisodeRecord*> episodes;

  Shard() {
    records.push_back(MakeEpisode(3, 3, true));
    records.push_back(MakeEpisode(12, 2, false));
    records.push_back(MakeEpisode(20, 0, false));  // an empty episode
    for (const EpisodeRecord& r : records) episodes.push_back(&r);
  }
};

const Shard& TheShard() {
  static const Shard shard;
  return shard;
}

// Checks the returned list against the files on disk (sizes, digests, nothing else there).
void CheckFileList(const fs::path& dir, const std::vector<ShardFile>& files, const std::string& under) {
  std::set<std::string> listed;
  for (const ShardFile& f : files) {
    INFO(f.path);
    CHECK(listed.insert(f.path).second);
    CHECK(fs::file_size(dir / f.path) == f.bytes);
    const auto sha = Sha256File(dir / f.path);
    REQUIRE(sha);
    CHECK(*sha == f.sha256);
  }
  CHECK(std::is_sorted(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; }));
  std::set<std::string> on_disk;
  for (const auto& entry : fs::recursive_directory_iterator(dir / under)) {
    if (entry.is_regular_file()) on_disk.insert(fs::relative(entry.path(), dir).generic_string());
  }
  CHECK(on_disk == listed);
}

json ReadJson(const fs::path& path) { return json::parse(pf::testing::ReadFile(path)); }

Image ReadImage(const fs::path& path) {
  auto image = ReadPng(path);
  INFO(path.string());
  REQUIRE(image);
  return *image;
}

std::vector<std::uint8_t> Binary(const Image& image) {
  std::vector<std::uint8_t> out(image.bytes.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = image.bytes[i] != 0;
  return out;
}

TEST_CASE("label layout validation", "[datagen][labels]") {
  CHECK(ValidateLabelLayout(MakeLayout()));
  LabelLayout bad = MakeLayout();
  bad.cameras[1].name = "../up";
  auto status = ValidateLabelLayout(bad);
  REQUIRE_FALSE(status);
  CHECK(status.error().where.field == "cameras[1].name");
  bad = MakeLayout();
  bad.objects[2].instance_ids = {kBoxInstance};
  status = ValidateLabelLayout(bad);
  REQUIRE_FALSE(status);
  CHECK_THAT(status.error().message, Contains("belongs to two objects"));
  bad = MakeLayout();
  bad.objects[0].semantic_class = 9;
  CHECK_FALSE(ValidateLabelLayout(bad));
  bad = MakeLayout();
  bad.classes[0].id = 0;
  CHECK_FALSE(ValidateLabelLayout(bad));
}

TEST_CASE("BOP depth values", "[datagen][labels][bop]") {
  CHECK(BopDepthValue(0.8f, 0.1) == 8000);
  CHECK(BopDepthValue(0.0f, 0.1) == 0);
  CHECK(BopDepthValue(-1.0f, 0.1) == 0);
  CHECK(BopDepthValue(std::numeric_limits<float>::quiet_NaN(), 0.1) == 0);
  CHECK(BopDepthValue(std::numeric_limits<float>::infinity(), 0.1) == 65535);
  CHECK(BopDepthValue(6.5535f, 0.1) == 65535);
  CHECK(BopDepthValue(7.0f, 0.1) == 65535);
  CHECK(BopDepthValue(1.23456f, 1.0) == 1235);
}

TEST_CASE("BOP shard", "[datagen][labels][bop]") {
  const Shard& shard = TheShard();
  const pf::testing::TempDir dir;
  auto files = WriteBopShard(dir.path(), shard.layout, shard.episodes);
  INFO((files ? std::string() : files.error().ToString()));
  REQUIRE(files);
  CheckFileList(dir.path(), *files, "bop");
  // objects.json + per (episode, camera): 3 JSON files and per frame rgb, depth and 2 masks per object.
  CHECK(files->size() == 1 + 2 * 3 * 3 + 2 * (3 + 2) * (2 + 2 * kNumObjects));

  const json objects = ReadJson(dir.path() / "bop/objects.json");
  CHECK(objects == json::parse(R"({"1": {"name": "mug", "semantic_class": 2, "semantic_name": "mug"},
                                   "2": {"name": "box", "semantic_class": 3, "semantic_name": "box"},
                                   "3": {"name": "ghost", "semantic_class": 2, "semantic_name": "mug"}})"));

  for (const EpisodeRecord* r : shard.episodes) {
    for (int cam = 0; cam < 2; ++cam) {
      const CameraSpec& spec = kCameras[cam];
      const std::size_t area = static_cast<std::size_t>(spec.width) * spec.height;
      char scene_name[64];
      std::snprintf(scene_name, sizeof scene_name, "bop/%s/%06llu", spec.name,
                    static_cast<unsigned long long>(r->episode));
      const fs::path scene = dir.path() / scene_name;
      INFO(scene.string());
      const auto cameras = ParseSceneCameraJson(pf::testing::ReadFile(scene / "scene_camera.json"));
      const auto gt = ParseSceneGtJson(pf::testing::ReadFile(scene / "scene_gt.json"));
      const auto gt_info = ParseSceneGtInfoJson(pf::testing::ReadFile(scene / "scene_gt_info.json"));
      REQUIRE(cameras);
      REQUIRE(gt);
      REQUIRE(gt_info);
      CHECK(cameras->size() == static_cast<std::size_t>(r->frames));
      CHECK(gt->size() == static_cast<std::size_t>(r->frames));
      CHECK(gt_info->size() == static_cast<std::size_t>(r->frames));
      for (int t = 0; t < r->frames; ++t) {
        INFO("frame " << t);
        const Drawn d = Draw(cam, r->episode, t);
        const core::Pose X_WC = CameraPose(cam, t);
        const BopCamera& bc = cameras->at(t);
        CHECK(bc.cam_K == std::array<double, 9>{spec.f, 0, spec.cx - 0.5, 0, spec.f, spec.cy - 0.5, 0, 0, 1});
        CHECK(bc.depth_scale == 0.1);
        const core::Vec3 t_w2c = X_WC.inverse().translation() * 1000.0;
        for (int k = 0; k < 3; ++k) CHECK((*bc.cam_t_w2c)[k] == Approx(t_w2c[k]).margin(1e-9));

        const auto& gts = gt->at(t);
        const auto& infos = gt_info->at(t);
        REQUIRE(gts.size() == kNumObjects);
        REQUIRE(infos.size() == kNumObjects);
        char image[16];
        std::snprintf(image, sizeof image, "%06d", t);
        const Image rgb = ReadImage(scene / "rgb" / (std::string(image) + ".png"));
        CHECK(rgb.channels == 3);
        CHECK(rgb.bit_depth == 8);
        CHECK(rgb.bytes == d.rgb);
        const Image depth = ReadImage(scene / "depth" / (std::string(image) + ".png"));
        REQUIRE(depth.bit_depth == 16);
        REQUIRE(depth.channels == 1);
        CHECK(depth.Sample16(area - 1) == 65535);  // 7 m, clamped
        CHECK(depth.Sample16(area - 2) == 0);      // no surface
        CHECK(depth.Sample16(area - 3) == 0);      // NaN
        CHECK(depth.Sample16(0) == 9000);          // the robot patch at 0.9 m
        for (int o = 0; o < kNumObjects; ++o) {
          INFO("object " << o);
          const core::Pose X_WO = ObjectPose(o, r->episode, t);
          const core::Pose X_CO = X_WC.inverse() * X_WO;
          CHECK(gts[o].obj_id == o + 1);
          for (int k = 0; k < 3; ++k) CHECK(gts[o].cam_t_m2c[k] == Approx(X_CO.translation()[k] * 1000).margin(1e-9));
          for (int k = 0; k < 9; ++k) CHECK(gts[o].cam_R_m2c[k] == Approx(X_CO.linear()(k / 3, k % 3)).margin(1e-12));

          char mask_name[32];
          std::snprintf(mask_name, sizeof mask_name, "%s_%06d.png", image, o);
          const Image mask = ReadImage(scene / "mask" / mask_name);
          const Image visib = ReadImage(scene / "mask_visib" / mask_name);
          CHECK(mask.channels == 1);
          CHECK(mask.bit_depth == 8);
          CHECK(std::all_of(mask.bytes.begin(), mask.bytes.end(), [](auto v) { return v == 0 || v == 255; }));
          CHECK(Binary(mask) == d.full[o]);
          const std::vector<std::uint8_t> visible = VisibleMask(d, o);
          CHECK(Binary(visib) == visible);

          // scene_gt_info from the drawing: every silhouette pixel has a depth.
          std::int64_t all = 0, vis = 0;
          int x_min = 1 << 30, y_min = 1 << 30, x_max = -1, y_max = -1;
          int vx_min = 1 << 30, vy_min = 1 << 30, vx_max = -1, vy_max = -1;
          for (std::size_t i = 0; i < area; ++i) {
            const int x = static_cast<int>(i % spec.width), y = static_cast<int>(i / spec.width);
            if (d.full[o][i]) {
              ++all;
              x_min = std::min(x_min, x), x_max = std::max(x_max, x);
              y_min = std::min(y_min, y), y_max = std::max(y_max, y);
            }
            if (visible[i]) {
              ++vis;
              vx_min = std::min(vx_min, x), vx_max = std::max(vx_max, x);
              vy_min = std::min(vy_min, y), vy_max = std::max(vy_max, y);
            }
          }
          const BopGtInfo& info = infos[o];
          CHECK(info.px_count_all == all);
          CHECK(info.px_count_valid == all);
          CHECK(info.px_count_visib == vis);
          if (o == 2) {
            CHECK(all == 0);
            CHECK(info.visib_fract == 0.0);
            CHECK(info.bbox_obj == kBopNoBox);
            CHECK(info.bbox_visib == kBopNoBox);
          } else {
            CHECK(vis > 0);
            CHECK(info.visib_fract == Approx(static_cast<double>(vis) / static_cast<double>(all)));
            CHECK(info.bbox_obj == BopBox{x_min, y_min, x_max - x_min, y_max - y_min});
            CHECK(info.bbox_visib == BopBox{vx_min, vy_min, vx_max - vx_min, vy_max - vy_min});
            // The object's depth, in 0.1 mm units, where it is visible.
            const std::uint16_t expected = static_cast<std::uint16_t>(std::lround(X_CO.translation().z() * 10000));
            for (std::size_t i = 0; i < area; ++i) {
              if (visible[i]) CHECK(depth.Sample16(i) == expected);
            }
          }
          if (o == 0) CHECK(vis < all);  // the box hides part of the mug
          if (o == 1) CHECK(vis == all);
        }
      }
    }
  }
}

TEST_CASE("BOP shard fails without full masks or with bad data", "[datagen][labels][bop]") {
  const Shard& shard = TheShard();
  const pf::testing::TempDir dir;
  EpisodeRecord r = shard.records[0];
  r.cameras[1].full_masks.clear();
  auto files = WriteBopShard(dir.path(), shard.layout, {&r});
  REQUIRE_FALSE(files);
  CHECK_THAT(files.error().message, Contains("full_masks are not rendered"));
  CHECK_THAT(files.error().where.file, Contains("bop/wrist/000003"));
  CHECK(files.error().where.field == "episode 3 camera 'wrist' full_masks");

  r = shard.records[0];
  r.cameras[0].depth.pop_back();
  files = WriteBopShard(dir.path(), shard.layout, {&r});
  REQUIRE_FALSE(files);
  CHECK(files.error().where.field == "episode 3 camera 'front' depth");

  r = shard.records[0];
  r.cameras.pop_back();
  files = WriteBopShard(dir.path(), shard.layout, {&r});
  REQUIRE_FALSE(files);
  CHECK_THAT(files.error().message, Contains("camera missing"));

  files = WriteBopShard(dir.path(), shard.layout, {&shard.records[0], &shard.records[0]});
  REQUIRE_FALSE(files);
  CHECK_THAT(files.error().message, Contains("appears twice"));
}

void CheckCoco(const fs::path& dir, const Shard& shard, CocoImages images) {
  for (int cam = 0; cam < 2; ++cam) {
    const CameraSpec& spec = kCameras[cam];
    const json coco = ReadJson(dir / "coco" / (std::string(spec.name) + ".json"));
    CHECK(coco["categories"] == json::parse(R"([{"id": 1, "name": "robot", "supercategory": "object"},
                                                {"id": 2, "name": "mug", "supercategory": "object"},
                                                {"id": 3, "name": "box", "supercategory": "object"}])"));
    std::map<std::int64_t, json> images_by_id;
    for (const json& image : coco["images"]) images_by_id[image["id"].get<std::int64_t>()] = image;
    CHECK(images_by_id.size() == 5);
    std::map<std::int64_t, json> annotations;
    for (const json& a : coco["annotations"]) annotations[a["id"].get<std::int64_t>()] = a;
    std::size_t expected_annotations = 0;
    for (const EpisodeRecord* r : shard.episodes) {
      for (int t = 0; t < r->frames; ++t) {
        INFO("camera " << spec.name << " episode " << r->episode << " frame " << t);
        const std::int64_t image_id = static_cast<std::int64_t>(r->episode) * 100000 + t;
        REQUIRE(images_by_id.contains(image_id));
        const json& image = images_by_id[image_id];
        CHECK(image["width"] == spec.width);
        CHECK(image["height"] == spec.height);
        char name[96];
        if (images == CocoImages::kUseBop) {
          std::snprintf(name, sizeof name, "bop/%s/%06llu/rgb/%06d.png", spec.name,
                        static_cast<unsigned long long>(r->episode), t);
        } else {
          std::snprintf(name, sizeof name, "coco/%s/images/%06llu_%06d.png", spec.name,
                        static_cast<unsigned long long>(r->episode), t);
        }
        CHECK(image["file_name"] == name);
        const Drawn d = Draw(cam, r->episode, t);
        if (images == CocoImages::kWriteOwn) CHECK(ReadImage(dir / name).bytes == d.rgb);
        for (int o = 0; o < kNumObjects; ++o) {
          INFO("object " << o);
          const std::int64_t id = image_id * 100 + o;
          const std::vector<std::uint8_t> visible = VisibleMask(d, o);
          const auto area = std::count(visible.begin(), visible.end(), 1);
          if (area == 0) {
            CHECK_FALSE(annotations.contains(id));
            continue;
          }
          ++expected_annotations;
          REQUIRE(annotations.contains(id));
          const json& a = annotations[id];
          CHECK(a["image_id"] == image_id);
          CHECK(a["category_id"] == (o == 1 ? 3 : 2));
          CHECK(a["iscrowd"] == 0);
          CHECK(a["area"] == area);
          CHECK(a["segmentation"]["size"] == json::array({spec.height, spec.width}));
          const auto rle = RleFromString(a["segmentation"]["counts"].get<std::string>(), spec.height, spec.width);
          REQUIRE(rle);
          CHECK(DecodeRle(*rle) == visible);
          int x_min = 1 << 30, y_min = 1 << 30, x_max = -1, y_max = -1;
          for (std::size_t i = 0; i < visible.size(); ++i) {
            if (!visible[i]) continue;
            const int x = static_cast<int>(i % spec.width), y = static_cast<int>(i / spec.width);
            x_min = std::min(x_min, x), x_max = std::max(x_max, x);
            y_min = std::min(y_min, y), y_max = std::max(y_max, y);
          }
          CHECK(a["bbox"] == json::array({x_min, y_min, x_max - x_min + 1, y_max - y_min + 1}));
        }
      }
    }
    CHECK(annotations.size() == expected_annotations);
    CHECK(expected_annotations == 2 * 5);  // mug and box in each of the 5 images
  }
}

TEST_CASE("COCO shard with its own images", "[datagen][labels][coco]") {
  const Shard& shard = TheShard();
  const pf::testing::TempDir dir;
  auto files = WriteCocoShard(dir.path(), shard.layout, shard.episodes, CocoImages::kWriteOwn);
  INFO((files ? std::string() : files.error().ToString()));
  REQUIRE(files);
  CheckFileList(dir.path(), *files, "coco");
  CHECK(files->size() == 2 + 2 * 5);
  CheckCoco(dir.path(), shard, CocoImages::kWriteOwn);
}

TEST_CASE("COCO shard pointing at the BOP images", "[datagen][labels][coco]") {
  const Shard& shard = TheShard();
  const pf::testing::TempDir dir;
  auto files = WriteCocoShard(dir.path(), shard.layout, shard.episodes, CocoImages::kUseBop);
  REQUIRE(files);
  CheckFileList(dir.path(), *files, "coco");
  CHECK(files->size() == 2);
  CheckCoco(dir.path(), shard, CocoImages::kUseBop);

  LabelLayout unlabelled = shard.layout;
  unlabelled.objects[1].semantic_class = 0;
  const auto failed = WriteCocoShard(dir.path(), unlabelled, shard.episodes);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().where.field == "objects[1].semantic_class");
}

TEST_CASE("RLDS shard", "[datagen][labels][rlds]") {
  const Shard& shard = TheShard();
  const pf::testing::TempDir dir;
  auto files = WriteRldsShard(dir.path(), shard.layout, shard.episodes);
  INFO((files ? std::string() : files.error().ToString()));
  REQUIRE(files);
  CheckFileList(dir.path(), *files, "rlds");
  REQUIRE(files->size() == 1);
  CHECK((*files)[0].path == "rlds/pick_mug_v2-shard.tfrecord");
  CHECK(RldsShardFile(shard.layout) == "rlds/pick_mug_v2-shard.tfrecord");

  const auto records = ReadTfRecordFile(dir.path() / (*files)[0].path);  // verifies both CRCs of every record
  REQUIRE(records);
  REQUIRE(records->size() == 3);
  for (std::size_t e = 0; e < 3; ++e) {
    const EpisodeRecord& r = shard.records[e];
    INFO("episode " << r.episode);
    const auto example = ParseExample((*records)[e]);
    REQUIRE(example);
    const std::size_t T = static_cast<std::size_t>(r.frames);
    CHECK(example->features.size() == 13);
    for (int cam = 0; cam < 2; ++cam) {
      const BytesList* images = example->Bytes(std::string("steps/observation/") + kCameras[cam].name + "_image");
      REQUIRE(images != nullptr);
      REQUIRE(images->size() == T);
      for (std::size_t t = 0; t < T; ++t) {
        const std::string& png = (*images)[t];
        const auto image = DecodePng(std::span(reinterpret_cast<const std::uint8_t*>(png.data()), png.size()));
        REQUIRE(image);
        CHECK(image->width == kCameras[cam].width);
        CHECK(image->bytes == Draw(cam, r.episode, static_cast<int>(t)).rgb);
      }
    }
    const FloatList* state = example->Floats("steps/observation/state");
    REQUIRE(state != nullptr);
    REQUIRE(state->size() == T * (kNumDofs + 7 + kNumGripper));
    for (std::size_t t = 0; t < T; ++t) {
      const float* s = state->data() + t * 10;
      CHECK(s[0] == static_cast<float>(r.joint_pos[t * 2]));
      CHECK(s[1] == static_cast<float>(r.joint_pos[t * 2 + 1]));
      for (int k = 0; k < 7; ++k) CHECK(s[2 + k] == static_cast<float>(r.eef_pose[t * 7 + k]));
      CHECK(s[9] == static_cast<float>(r.gripper[t]));
    }
    REQUIRE(example->Floats("steps/action") != nullptr);
    CHECK(*example->Floats("steps/action") == r.actions);
    CHECK(*example->Floats("steps/reward") == r.rewards);
    CHECK(*example->Floats("steps/discount") == FloatList(T, 1.0f));
    Int64List first(T, 0), last(T, 0), terminal(T, 0);
    if (T > 0) first.front() = 1, last.back() = 1, terminal.back() = r.success;
    REQUIRE(example->Int64s("steps/is_first") != nullptr);
    CHECK(*example->Int64s("steps/is_first") == first);
    CHECK(*example->Int64s("steps/is_last") == last);
    CHECK(*example->Int64s("steps/is_terminal") == terminal);
    CHECK(*example->Bytes("steps/language_instruction") == BytesList(T, r.instruction));
    CHECK(*example->Int64s("episode_metadata/episode") == Int64List{static_cast<std::int64_t>(r.episode)});
    CHECK(static_cast<std::uint64_t>(example->Int64s("episode_metadata/seed")->at(0)) == r.seed);
    CHECK(*example->Int64s("episode_metadata/success") == Int64List{r.success ? 1 : 0});
  }
}

TEST_CASE("RLDS features.json and dataset_info.json", "[datagen][labels][rlds]") {
  const LabelLayout layout = MakeLayout();
  const auto features_text = RldsFeaturesJson(layout);
  REQUIRE(features_text);
  const json features = json::parse(*features_text);
  CHECK(features["pythonClassName"] == "tensorflow_datasets.core.features.features_dict.FeaturesDict");
  const json& steps = features["featuresDict"]["features"]["steps"];
  CHECK(steps["pythonClassName"] == "tensorflow_datasets.core.features.dataset_feature.Dataset");
  CHECK(steps["sequence"]["length"] == "-1");
  const json& step = steps["sequence"]["feature"]["featuresDict"]["features"];
  CHECK(step.size() == 8);
  const json& front = step["observation"]["featuresDict"]["features"]["front_image"];
  CHECK(front["pythonClassName"] == "tensorflow_datasets.core.features.image_feature.Image");
  CHECK(front["image"] == json::parse(R"({"shape": {"dimensions": ["24", "32", "3"]}, "dtype": "uint8",
                                          "encodingFormat": "png"})"));
  CHECK(step["observation"]["featuresDict"]["features"]["wrist_image"]["image"]["shape"]["dimensions"] ==
        json::array({"12", "16", "3"}));
  CHECK(step["observation"]["featuresDict"]["features"]["state"]["tensor"] ==
        json::parse(R"({"shape": {"dimensions": ["10"]}, "dtype": "float32", "encoding": "none"})"));
  CHECK(step["action"]["tensor"]["shape"]["dimensions"] == json::array({"7"}));
  CHECK(step["is_first"]["pythonClassName"] == "tensorflow_datasets.core.features.scalar.Scalar");
  CHECK(step["is_first"]["tensor"] == json::parse(R"({"shape": {}, "dtype": "bool", "encoding": "none"})"));
  CHECK(step["reward"]["tensor"]["dtype"] == "float32");
  CHECK(step["language_instruction"]["pythonClassName"] == "tensorflow_datasets.core.features.text_feature.Text");
  const json& metadata = features["featuresDict"]["features"]["episode_metadata"]["featuresDict"]["features"];
  CHECK(metadata["seed"]["tensor"]["dtype"] == "int64");
  CHECK(metadata["success"]["tensor"]["dtype"] == "bool");

  const auto info_text = RldsDatasetInfoJson(layout, {{3, 1000}, {0, 0}, {2, 700}});
  REQUIRE(info_text);
  const json info = json::parse(*info_text);
  CHECK(info["name"] == "pick_mug_v2");
  CHECK(info["version"] == "1.0.0");
  CHECK(info["fileFormat"] == "tfrecord");
  REQUIRE(info["splits"].size() == 1);
  CHECK(info["splits"][0] == json::parse(R"({"name": "train", "numBytes": "1700", "shardLengths": ["3", "0", "2"],
      "filepathTemplate": "shards/{SHARD_INDEX}/rlds/{DATASET}-shard.{FILEFORMAT}"})"));
  CHECK_THAT(info["description"].get<std::string>(), Contains("10 Hz"));
  // Deterministic text.
  CHECK(*RldsFeaturesJson(layout) == *features_text);
  CHECK(*RldsDatasetInfoJson(layout, {{3, 1000}, {0, 0}, {2, 700}}) == *info_text);

  CHECK(RldsDatasetName("PickCube") == "pickcube");
  CHECK(RldsDatasetName("3 blocks") == "parafab_3_blocks");
  CHECK(RldsDatasetName("") == "parafab_");
}

std::vector<ShardFile> WriteAll(const fs::path& dir, const Shard& shard) {
  std::vector<ShardFile> all;
  for (auto files : {WriteBopShard(dir, shard.layout, shard.episodes),
                     WriteCocoShard(dir, shard.layout, shard.episodes, CocoImages::kUseBop),
                     WriteRldsShard(dir, shard.layout, shard.episodes)}) {
    INFO((files ? std::string() : files.error().ToString()));
    REQUIRE(files);
    all.insert(all.end(), files->begin(), files->end());
  }
  return all;
}

TEST_CASE("label files are byte-identical for identical input", "[datagen][labels]") {
  const pf::testing::TempDir a, b;
  const Shard& shard = TheShard();
  const std::vector<ShardFile> first = WriteAll(a.path(), shard);
  const Shard copy;  // the same episodes, built again
  const std::vector<ShardFile> second = WriteAll(b.path(), copy);
  CHECK(first == second);
  for (const ShardFile& f : first) {
    INFO(f.path);
    CHECK(pf::testing::ReadFile(a.path() / f.path) == pf::testing::ReadFile(b.path() / f.path));
  }
}

// The streaming writers take one episode at a time, each gone (freed) before the next is
// made, and write the same files, byte for byte, as the whole-shard functions given every
// episode at once; COCO holds only annotation records between episodes; an episode added
// twice is an error.
TEST_CASE("streaming label writers: one episode at a time, the same bytes", "[datagen][labels]") {
  const pf::testing::TempDir whole, streamed;
  const Shard& shard = TheShard();
  const std::vector<ShardFile> expected = WriteAll(whole.path(), shard);
  auto bop = BopShardWriter::Open(streamed.path(), shard.layout);
  auto coco = CocoShardWriter::Open(streamed.path(), shard.layout, CocoImages::kUseBop);
  auto rlds = RldsShardWriter::Open(streamed.path(), shard.layout);
  REQUIRE(bop);
  REQUIRE(coco);
  REQUIRE(rlds);
  std::size_t annotations = 0;
  for (const EpisodeRecord* original : shard.episodes) {
    auto record = std::make_unique<EpisodeRecord>(MakeEpisode(original->episode, original->frames, original->success));
    for (core::Status added : {bop->Add(*record), coco->Add(*record), rlds->Add(*record)}) {
      INFO((added ? std::string() : added.error().ToString()));
      REQUIRE(added);
    }
    record.reset();  // nothing may point into it now
    CHECK(coco->held_annotations() >= annotations);
    annotations = coco->held_annotations();
  }
  CHECK(annotations > 0);
  const EpisodeRecord again = MakeEpisode(shard.episodes.front()->episode, 1, true);
  for (core::Status twice : {bop->Add(again), coco->Add(again), rlds->Add(again)}) {
    REQUIRE_FALSE(twice);
    CHECK_THAT(twice.error().message, Contains("appears twice"));
  }
  std::vector<ShardFile> got;
  for (auto files : {bop->Finish(), coco->Finish(), rlds->Finish()}) {
    INFO((files ? std::string() : files.error().ToString()));
    REQUIRE(files);
    got.insert(got.end(), files->begin(), files->end());
  }
  CHECK(got == expected);
  for (const ShardFile& f : expected) {
    INFO(f.path);
    CHECK(pf::testing::ReadFile(streamed.path() / f.path) == pf::testing::ReadFile(whole.path() / f.path));
  }
}

TEST_CASE("BOP and COCO labels check out in python3 with OpenCV", "[datagen][labels][python]") {
  const pf::testing::TempDir dir;
  const Shard& shard = TheShard();
  WriteAll(dir.path(), shard);
  const auto run = testing::RunPython(testing::ShellQuote(testing::CheckerScript("label_check.py").string()) + " " +
                                      testing::ShellQuote(dir.path().string()) + " " + std::to_string(kMugRadius * 1000));
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.output, Contains("ok: 2 cameras, 6 scenes, 10 images, 30 objects, 20 annotations"));
}

}  // namespace
}  // namespace pf::datagen
