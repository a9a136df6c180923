// BOP, COCO and RLDS files of a shard (see pf/datagen/label_writers.h).
#include "pf/datagen/label_writers.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <system_error>
#include <utility>

#include "json_format.h"
#include "pf/core/math.h"
#include "pf/core/snapshot.h"
#include "pf/core/str.h"
#include "pf/datagen/bop.h"
#include "pf/datagen/coco.h"
#include "pf/datagen/example.h"
#include "pf/datagen/png.h"
#include "pf/datagen/sha256.h"
#include "pf/datagen/tfrecord.h"

namespace pf::datagen {
namespace {

namespace fs = std::filesystem;
using core::Fail;
using core::StrCat;
using json = nlohmann::json;

// Instance ids index a lookup table; the renderer's are 1 + an index in the snapshot.
constexpr std::uint32_t kMaxInstanceId = 1u << 20;
constexpr std::size_t kMaxCocoObjects = static_cast<std::size_t>(kCocoAnnotationsPerImage);
constexpr std::uint64_t kMaxCocoEpisode =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / kCocoImagesPerEpisode /
                               kCocoAnnotationsPerImage) - 1;

core::Location At(const fs::path& file, std::string field = {}) {
  return core::Location{file.string(), 0, 0, std::move(field)};
}

// `error` with `file` as its file when it names none.
core::Error InFile(core::Error error, const fs::path& file) {
  if (error.where.file.empty()) error.where.file = file.string();
  return error;
}

// "000012": episode and frame numbers in BOP's 6-digit form (longer numbers keep every digit).
std::string Digits6(std::uint64_t n) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%06llu", static_cast<unsigned long long>(n));
  return buffer;
}

// Shortest round-trip text of a double, independent of the locale.
std::string FormatNumber(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::string("?");
}

bool IsSafeName(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

// ---------------------------------------------------------------------------------------
// Files of one writer: written under the shard directory, sized and hashed as they go.

class ShardFiles {
 public:
  explicit ShardFiles(fs::path dir) : dir_(std::move(dir)) {}

  core::Status Write(const std::string& relative, std::span<const std::uint8_t> bytes) {
    const fs::path path = dir_ / relative;
    PF_TRY(MakeParent(path));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Fail(StrCat("cannot create: ", std::strerror(errno)), At(path));
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        return Fail(StrCat("cannot write: ", std::strerror(err)), At(path));
      }
      done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) return Fail(StrCat("cannot write: ", std::strerror(errno)), At(path));
    files_.push_back(ShardFile{relative, bytes.size(), Sha256Hex(bytes)});
    return core::Ok();
  }

  core::Status WriteText(const std::string& relative, std::string_view text) {
    return Write(relative, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }

  // A file written by someone else (the TFRecord writer).
  core::Status Record(const std::string& relative) {
    const fs::path path = dir_ / relative;
    std::error_code ec;
    const std::uint64_t size = fs::file_size(path, ec);
    if (ec) return Fail(StrCat("cannot stat: ", ec.message()), At(path));
    PF_ASSIGN_OR_RETURN(std::string sha, Sha256File(path));
    files_.push_back(ShardFile{relative, size, std::move(sha)});
    return core::Ok();
  }

  core::Status MakeParent(const fs::path& path) {
    const fs::path parent = path.parent_path();
    if (made_.contains(parent)) return core::Ok();
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) return Fail(StrCat("cannot create directory: ", ec.message()), At(parent));
    made_.insert(parent);
    return core::Ok();
  }

  // Flushes the file system once and returns the files sorted by path.
  core::Result<std::vector<ShardFile>> Finish() {
    const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Fail(StrCat("cannot open: ", std::strerror(errno)), At(dir_));
    const int rc = ::syncfs(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Fail(StrCat("cannot sync the file system: ", std::strerror(err)), At(dir_));
    std::sort(files_.begin(), files_.end(), [](const ShardFile& a, const ShardFile& b) { return a.path < b.path; });
    return std::move(files_);
  }

 private:
  fs::path dir_;
  std::set<fs::path> made_;
  std::vector<ShardFile> files_;
};

core::Status WritePngFile(ShardFiles& files, const fs::path& dir, const std::string& relative, std::uint32_t width,
                          std::uint32_t height, int channels, int bit_depth, const void* pixels) {
  auto png = EncodePng(width, height, channels, bit_depth, pixels);
  if (!png) return std::unexpected(InFile(std::move(png).error(), dir / relative));
  return files.Write(relative, *png);
}

// ---------------------------------------------------------------------------------------
// Checks of the episodes against the layout.

std::string EpisodeField(const EpisodeRecord& r, std::string_view what) {
  return StrCat("episode ", r.episode, " ", what);
}

std::string CameraField(const EpisodeRecord& r, const LabelCamera& camera, std::string_view what) {
  return StrCat("episode ", r.episode, " camera '", camera.name, "' ", what);
}

core::Status CheckCount(std::size_t actual, std::size_t expected, const fs::path& where, const std::string& field) {
  if (actual == expected) return core::Ok();
  return Fail(StrCat("has ", actual, " values, expected ", expected), At(where, field));
}

// `seen`: the episodes the shard holds already (a streaming writer's running set), which
// each checked episode joins; none = only these episodes.
core::Status CheckEpisodes(const std::vector<const EpisodeRecord*>& episodes, const fs::path& where,
                           std::set<std::uint64_t>* seen = nullptr) {
  std::set<std::uint64_t> local;
  if (seen == nullptr) seen = &local;
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    const EpisodeRecord* r = episodes[i];
    if (r == nullptr) return Fail(StrCat("episode ", i, " of the shard is null"), At(where));
    if (r->frames < 0) return Fail(StrCat("has ", r->frames, " frames"), At(where, EpisodeField(*r, "frames")));
    if (!seen->insert(r->episode).second) {
      return Fail(StrCat("episode ", r->episode, " appears twice in the shard"), At(where));
    }
  }
  return core::Ok();
}

// Which per-camera arrays a writer reads.
struct CameraNeeds {
  bool rgb = false, depth = false, instance = false, geometry = false, full_masks = false;
};

core::Result<const CameraFrames*> FindCamera(const EpisodeRecord& r, const LabelCamera& camera, CameraNeeds needs,
                                             std::size_t num_objects, const fs::path& where) {
  const CameraFrames* found = nullptr;
  for (const CameraFrames& c : r.cameras) {
    if (c.name == camera.name) found = &c;
  }
  if (found == nullptr) return Fail("camera missing from the episode", At(where, CameraField(r, camera, "")));
  const CameraFrames& c = *found;
  if (c.width != camera.width || c.height != camera.height) {
    return Fail(StrCat("frames are ", c.width, " x ", c.height, " pixels, the layout says ", camera.width, " x ",
                       camera.height),
                At(where, CameraField(r, camera, "size")));
  }
  const std::size_t T = static_cast<std::size_t>(r.frames);
  const std::size_t area = static_cast<std::size_t>(c.width) * c.height;
  if (needs.rgb) PF_TRY(CheckCount(c.rgb.size(), T * area * 3, where, CameraField(r, camera, "rgb")));
  if (needs.depth) PF_TRY(CheckCount(c.depth.size(), T * area, where, CameraField(r, camera, "depth")));
  if (needs.instance) PF_TRY(CheckCount(c.instance.size(), T * area, where, CameraField(r, camera, "instance")));
  if (needs.geometry) {
    PF_TRY(CheckCount(c.intrinsics.size(), T * 4, where, CameraField(r, camera, "intrinsics")));
    PF_TRY(CheckCount(c.pose.size(), T * 7, where, CameraField(r, camera, "pose")));
  }
  if (needs.full_masks) {
    if (c.full_masks.empty() && T * num_objects * area != 0) {
      return Fail("full_masks are not rendered (BOP needs every object's silhouette)",
                  At(where, CameraField(r, camera, "full_masks")));
    }
    PF_TRY(CheckCount(c.full_masks.size(), T * num_objects * area, where, CameraField(r, camera, "full_masks")));
  }
  return found;
}

// Instance id → object index + 1 (0: not a movable object).
class ObjectLookup {
 public:
  explicit ObjectLookup(const LabelLayout& layout) {
    std::uint32_t max_id = 0;
    for (const LabelObject& o : layout.objects) {
      for (const std::uint32_t id : o.instance_ids) max_id = std::max(max_id, id);
    }
    table_.assign(static_cast<std::size_t>(max_id) + 1, 0);
    for (std::size_t o = 0; o < layout.objects.size(); ++o) {
      for (const std::uint32_t id : layout.objects[o].instance_ids) table_[id] = static_cast<std::uint32_t>(o + 1);
    }
  }

  // out[i] = object index + 1 of instance[i], or 0.
  void Map(const std::uint32_t* instance, std::size_t count, std::vector<std::uint32_t>& out) const {
    out.resize(count);
    const std::size_t size = table_.size();
    for (std::size_t i = 0; i < count; ++i) out[i] = instance[i] < size ? table_[instance[i]] : 0;
  }

 private:
  std::vector<std::uint32_t> table_;
};

const LabelClass* FindClass(const LabelLayout& layout, std::uint32_t id) {
  for (const LabelClass& c : layout.classes) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

}  // namespace

// ---------------------------------------------------------------------------------------

core::Status ValidateLabelLayout(const LabelLayout& layout) {
  const auto bad = [](std::string field, std::string message) {
    return Fail(std::move(message), core::Location{"", 0, 0, std::move(field)});
  };
  if (layout.scenario.empty()) return bad("scenario", "is empty");
  if (!std::isfinite(layout.brain_hz) || layout.brain_hz <= 0) return bad("brain_hz", "must be positive");
  if (!std::isfinite(layout.bop_depth_scale) || layout.bop_depth_scale <= 0) {
    return bad("bop_depth_scale", "must be positive");
  }
  if (layout.num_dofs < 0) return bad("num_dofs", "is negative");
  if (layout.num_gripper < 0) return bad("num_gripper", "is negative");
  std::set<std::string> camera_names;
  for (std::size_t i = 0; i < layout.cameras.size(); ++i) {
    const LabelCamera& c = layout.cameras[i];
    const std::string field = StrCat("cameras[", i, "]");
    if (!IsSafeName(c.name)) return bad(field + ".name", StrCat("'", c.name, "' must be [A-Za-z0-9_.-]+"));
    if (!camera_names.insert(c.name).second) return bad(field + ".name", StrCat("'", c.name, "' appears twice"));
    if (c.width == 0 || c.height == 0) return bad(field, StrCat("camera '", c.name, "' has no size"));
  }
  std::set<std::uint32_t> class_ids;
  for (std::size_t i = 0; i < layout.classes.size(); ++i) {
    const std::string field = StrCat("classes[", i, "].id");
    if (layout.classes[i].id == 0) return bad(field, "class ids start at 1 (0 is background)");
    if (!class_ids.insert(layout.classes[i].id).second) {
      return bad(field, StrCat("class id ", layout.classes[i].id, " appears twice"));
    }
  }
  std::set<std::uint32_t> instance_ids;
  for (std::size_t i = 0; i < layout.objects.size(); ++i) {
    const LabelObject& o = layout.objects[i];
    const std::string field = StrCat("objects[", i, "]");
    if (o.name.empty()) return bad(field + ".name", "is empty");
    for (const std::uint32_t id : o.instance_ids) {
      if (id == 0 || id >= kMaxInstanceId) {
        return bad(field + ".instance_ids", StrCat("instance id ", id, " is outside 1..", kMaxInstanceId - 1));
      }
      if (!instance_ids.insert(id).second) {
        return bad(field + ".instance_ids", StrCat("instance id ", id, " belongs to two objects"));
      }
    }
    if (o.semantic_class != 0 && !class_ids.contains(o.semantic_class)) {
      return bad(field + ".semantic_class", StrCat("class ", o.semantic_class, " is not in classes"));
    }
  }
  return core::Ok();
}

std::uint16_t BopDepthValue(float depth_m, double depth_scale) {
  const double units = static_cast<double>(depth_m) * 1000.0 / depth_scale;
  if (!(units > 0.0)) return 0;  // no surface, negative or NaN
  if (units >= 65534.5) return std::numeric_limits<std::uint16_t>::max();  // too far (or +inf): clamped
  return static_cast<std::uint16_t>(units + 0.5);
}

// ---------------------------------------------------------------------------------------
// BOP

struct BopShardWriter::State {
  State(const fs::path& d, const LabelLayout& l) : dir(d), layout(l), files(d), lookup(l) {}
  fs::path dir;
  LabelLayout layout;
  ShardFiles files;
  ObjectLookup lookup;
  std::set<std::uint64_t> seen;  // episode indices added
  // Scratch, one image's worth.
  std::vector<std::uint16_t> depth_png;
  std::vector<float> depth_valid;  // the depth PNG's values, for px_count_valid
  std::vector<std::uint32_t> object_of;
  std::vector<std::uint8_t> mask_all, mask_visib;
};

BopShardWriter::BopShardWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
BopShardWriter::BopShardWriter(BopShardWriter&&) noexcept = default;
BopShardWriter& BopShardWriter::operator=(BopShardWriter&&) noexcept = default;
BopShardWriter::~BopShardWriter() = default;

core::Result<BopShardWriter> BopShardWriter::Open(const fs::path& dir, const LabelLayout& layout) {
  const fs::path bop = dir / "bop";
  if (auto valid = ValidateLabelLayout(layout); !valid) return std::unexpected(InFile(valid.error(), bop));
  auto state = std::make_unique<State>(dir, layout);
  // bop/objects.json: obj_id → object.
  std::vector<std::pair<std::string, json>> members;
  for (std::size_t o = 0; o < layout.objects.size(); ++o) {
    const LabelObject& object = layout.objects[o];
    const LabelClass* c = FindClass(layout, object.semantic_class);
    members.emplace_back(std::to_string(o + 1), json{{"name", object.name},
                                                     {"semantic_class", object.semantic_class},
                                                     {"semantic_name", c != nullptr ? c->name : ""}});
  }
  auto text = internal::DumpJsonMembers(members);
  if (!text) return std::unexpected(InFile(std::move(text).error(), bop / "objects.json"));
  PF_TRY(state->files.WriteText("bop/objects.json", *text));
  return BopShardWriter(std::move(state));
}

core::Status BopShardWriter::Add(const EpisodeRecord& episode) {
  State& st = *state_;
  const EpisodeRecord* r = &episode;
  const fs::path& dir = st.dir;
  const fs::path bop = dir / "bop";
  const LabelLayout& layout = st.layout;
  PF_TRY(CheckEpisodes({r}, bop, &st.seen));
  ShardFiles& files = st.files;
  const std::size_t num_objects = layout.objects.size();
  const double depth_scale = layout.bop_depth_scale;
  auto& depth_png = st.depth_png;
  auto& depth_valid = st.depth_valid;
  auto& object_of = st.object_of;
  auto& mask_all = st.mask_all;
  auto& mask_visib = st.mask_visib;
  const std::size_t T = static_cast<std::size_t>(r->frames);
  PF_TRY(CheckCount(r->object_poses.size(), T * num_objects * 7, bop, EpisodeField(*r, "object_poses")));
  for (const LabelCamera& camera : layout.cameras) {
    const std::string scene = StrCat("bop/", camera.name, "/", Digits6(r->episode));
    const CameraNeeds needs{.rgb = true, .depth = true, .instance = true, .geometry = true, .full_masks = true};
    PF_ASSIGN_OR_RETURN(const CameraFrames* frames, FindCamera(*r, camera, needs, num_objects, dir / scene));
    const CameraFrames& c = *frames;
    const std::uint32_t W = c.width, H = c.height;
    const std::size_t area = static_cast<std::size_t>(W) * H;
    BopSceneCameras scene_camera;
    BopSceneGt scene_gt;
    BopSceneGtInfo scene_gt_info;
    depth_png.resize(area);
    depth_valid.resize(area);
    mask_all.resize(area);
    mask_visib.resize(area);
    for (std::size_t t = 0; t < T; ++t) {
      const int im_id = static_cast<int>(t);
      const std::string image = Digits6(t);
      PF_TRY(WritePngFile(files, dir, StrCat(scene, "/rgb/", image, ".png"), W, H, 3, 8, c.rgb.data() + t * area * 3));
      const float* depth = c.depth.data() + t * area;
      for (std::size_t i = 0; i < area; ++i) {
        depth_png[i] = BopDepthValue(depth[i], depth_scale);
        depth_valid[i] = static_cast<float>(depth_png[i]);
      }
      PF_TRY(WritePngFile(files, dir, StrCat(scene, "/depth/", image, ".png"), W, H, 1, 16, depth_png.data()));

      core::CameraIntrinsics K;
      K.width = W;
      K.height = H;
      K.fx = c.intrinsics[t * 4 + 0];
      K.fy = c.intrinsics[t * 4 + 1];
      K.cx = c.intrinsics[t * 4 + 2];
      K.cy = c.intrinsics[t * 4 + 3];
      const core::Pose X_WC = core::PoseFromArray(c.pose.data() + t * 7);
      scene_camera[im_id] = MakeBopCamera(K, X_WC, depth_scale);

      st.lookup.Map(c.instance.data() + t * area, area, object_of);
      std::vector<BopGt>& gts = scene_gt[im_id];
      std::vector<BopGtInfo>& infos = scene_gt_info[im_id];
      for (std::size_t o = 0; o < num_objects; ++o) {
        const std::uint8_t* full = c.full_masks.data() + (t * num_objects + o) * area;
        const std::uint32_t label = static_cast<std::uint32_t>(o + 1);
        for (std::size_t i = 0; i < area; ++i) {
          const bool inside = full[i] != 0;
          mask_all[i] = inside ? 255 : 0;
          mask_visib[i] = inside && object_of[i] == label ? 255 : 0;
        }
        infos.push_back(ComputeBopGtInfo(mask_all, mask_visib, depth_valid, H, W));
        const core::Pose X_WO = core::PoseFromArray(r->object_poses.data() + (t * num_objects + o) * 7);
        gts.push_back(MakeBopGt(static_cast<int>(o + 1), X_WC, X_WO));
        const std::string mask_name = StrCat(image, "_", Digits6(o), ".png");
        PF_TRY(WritePngFile(files, dir, StrCat(scene, "/mask/", mask_name), W, H, 1, 8, mask_all.data()));
        PF_TRY(WritePngFile(files, dir, StrCat(scene, "/mask_visib/", mask_name), W, H, 1, 8, mask_visib.data()));
      }
    }
    const auto write_json = [&](const std::string& name, core::Result<std::string> text) -> core::Status {
      const std::string relative = StrCat(scene, "/", name);
      if (!text) return std::unexpected(InFile(std::move(text).error(), dir / relative));
      return files.WriteText(relative, *text);
    };
    PF_TRY(write_json("scene_camera.json", SceneCameraJson(scene_camera)));
    PF_TRY(write_json("scene_gt.json", SceneGtJson(scene_gt)));
    PF_TRY(write_json("scene_gt_info.json", SceneGtInfoJson(scene_gt_info)));
  }
  return core::Ok();
}

core::Result<std::vector<ShardFile>> BopShardWriter::Finish() { return state_->files.Finish(); }

core::Result<std::vector<ShardFile>> WriteBopShard(const fs::path& dir, const LabelLayout& layout,
                                                   const std::vector<const EpisodeRecord*>& episodes) {
  const fs::path bop = dir / "bop";
  if (auto valid = ValidateLabelLayout(layout); !valid) return std::unexpected(InFile(valid.error(), bop));
  PF_TRY(CheckEpisodes(episodes, bop));
  PF_ASSIGN_OR_RETURN(BopShardWriter writer, BopShardWriter::Open(dir, layout));
  for (const EpisodeRecord* r : episodes) PF_TRY(writer.Add(*r));
  return writer.Finish();
}

// ---------------------------------------------------------------------------------------
// COCO

struct CocoShardWriter::State {
  State(const fs::path& d, const LabelLayout& l, CocoImages i) : dir(d), layout(l), images(i), files(d), lookup(l) {}
  fs::path dir;
  LabelLayout layout;
  CocoImages images;
  ShardFiles files;
  ObjectLookup lookup;
  std::set<std::uint64_t> seen;        // episode indices added
  std::vector<CocoDataset> datasets;   // per camera, layout order: the records so far
  std::vector<std::uint32_t> object_of;
};

CocoShardWriter::CocoShardWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
CocoShardWriter::CocoShardWriter(CocoShardWriter&&) noexcept = default;
CocoShardWriter& CocoShardWriter::operator=(CocoShardWriter&&) noexcept = default;
CocoShardWriter::~CocoShardWriter() = default;

core::Result<CocoShardWriter> CocoShardWriter::Open(const fs::path& dir, const LabelLayout& layout,
                                                    CocoImages images) {
  const fs::path coco = dir / "coco";
  if (auto valid = ValidateLabelLayout(layout); !valid) return std::unexpected(InFile(valid.error(), coco));
  if (layout.objects.size() > kMaxCocoObjects) {
    return Fail(StrCat(layout.objects.size(), " objects, COCO annotation ids allow ", kMaxCocoObjects),
                At(coco, "objects"));
  }
  for (std::size_t o = 0; o < layout.objects.size(); ++o) {
    if (layout.objects[o].semantic_class == 0) {
      return Fail(StrCat("object '", layout.objects[o].name, "' has no semantic class, so no COCO category"),
                  At(coco, StrCat("objects[", o, "].semantic_class")));
    }
  }
  auto state = std::make_unique<State>(dir, layout, images);
  for (const LabelCamera& camera : layout.cameras) {
    CocoDataset dataset;
    dataset.info["description"] = StrCat("parafab scenario ", layout.scenario, ", camera ", camera.name);
    dataset.info["file_name_root"] = "the shard directory (the parent of coco/)";
    for (const LabelClass& c : layout.classes) dataset.categories.push_back(CocoCategory{c.id, c.name, "object"});
    state->datasets.push_back(std::move(dataset));
  }
  return CocoShardWriter(std::move(state));
}

core::Status CocoShardWriter::Add(const EpisodeRecord& episode) {
  State& st = *state_;
  const EpisodeRecord* r = &episode;
  const fs::path& dir = st.dir;
  const fs::path coco = dir / "coco";
  const LabelLayout& layout = st.layout;
  PF_TRY(CheckEpisodes({r}, coco, &st.seen));
  if (r->episode > kMaxCocoEpisode) {
    return Fail(StrCat("episode index above ", kMaxCocoEpisode, " has no COCO image id"),
                At(coco, EpisodeField(*r, "")));
  }
  if (r->frames >= kCocoImagesPerEpisode) {
    return Fail(StrCat(r->frames, " frames, COCO image ids allow ", kCocoImagesPerEpisode),
                At(coco, EpisodeField(*r, "frames")));
  }
  for (std::size_t k = 0; k < layout.cameras.size(); ++k) {
    const LabelCamera& camera = layout.cameras[k];
    CocoDataset& dataset = st.datasets[k];
    const std::string json_name = StrCat("coco/", camera.name, ".json");
    const CameraNeeds needs{.rgb = st.images == CocoImages::kWriteOwn, .instance = true};
    PF_ASSIGN_OR_RETURN(const CameraFrames* frames, FindCamera(*r, camera, needs, layout.objects.size(), dir / json_name));
    const CameraFrames& c = *frames;
    const std::uint32_t W = c.width, H = c.height;
    const std::size_t area = static_cast<std::size_t>(W) * H;
    for (int t = 0; t < r->frames; ++t) {
      const std::size_t frame = static_cast<std::size_t>(t);
      CocoImage image;
      image.id = CocoImageId(r->episode, t);
      image.width = W;
      image.height = H;
      if (st.images == CocoImages::kUseBop) {
        image.file_name = StrCat("bop/", camera.name, "/", Digits6(r->episode), "/rgb/", Digits6(frame), ".png");
      } else {
        image.file_name = StrCat("coco/", camera.name, "/images/", Digits6(r->episode), "_", Digits6(frame), ".png");
        PF_TRY(WritePngFile(st.files, dir, image.file_name, W, H, 3, 8, c.rgb.data() + frame * area * 3));
      }
      st.lookup.Map(c.instance.data() + frame * area, area, st.object_of);
      for (auto& [label, rle] : EncodeRlesFromIds(st.object_of.data(), H, W, 0)) {
        const std::size_t o = label - 1;
        dataset.annotations.push_back(
            CocoAnnotation{CocoAnnotationId(image.id, o), image.id, layout.objects[o].semantic_class, std::move(rle)});
      }
      dataset.images.push_back(std::move(image));
    }
  }
  return core::Ok();
}

std::size_t CocoShardWriter::held_annotations() const {
  std::size_t n = 0;
  for (const CocoDataset& d : state_->datasets) n += d.annotations.size();
  return n;
}

core::Result<std::vector<ShardFile>> CocoShardWriter::Finish() {
  State& st = *state_;
  for (std::size_t k = 0; k < st.layout.cameras.size(); ++k) {
    const std::string json_name = StrCat("coco/", st.layout.cameras[k].name, ".json");
    auto text = CocoJson(st.datasets[k]);
    if (!text) return std::unexpected(InFile(std::move(text).error(), st.dir / json_name));
    PF_TRY(st.files.WriteText(json_name, *text));
    st.datasets[k] = CocoDataset{};
  }
  return st.files.Finish();
}

core::Result<std::vector<ShardFile>> WriteCocoShard(const fs::path& dir, const LabelLayout& layout,
                                                    const std::vector<const EpisodeRecord*>& episodes,
                                                    CocoImages images) {
  const fs::path coco = dir / "coco";
  if (auto valid = ValidateLabelLayout(layout); !valid) return std::unexpected(InFile(valid.error(), coco));
  PF_TRY(CheckEpisodes(episodes, coco));
  PF_ASSIGN_OR_RETURN(CocoShardWriter writer, CocoShardWriter::Open(dir, layout, images));
  for (const EpisodeRecord* r : episodes) PF_TRY(writer.Add(*r));
  return writer.Finish();
}

// ---------------------------------------------------------------------------------------
// RLDS

std::string RldsDatasetName(std::string_view scenario) {
  std::string name;
  for (const char c : scenario) {
    if (c >= 'A' && c <= 'Z') name += static_cast<char>(c - 'A' + 'a');
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') name += c;
    else name += '_';
  }
  if (name.empty() || !(name[0] >= 'a' && name[0] <= 'z')) name = "parafab_" + name;
  return name;
}

std::string RldsShardFile(const LabelLayout& layout) {
  return StrCat("rlds/", RldsDatasetName(layout.scenario), "-shard.tfrecord");
}

struct RldsShardWriter::State {
  State(const fs::path& d, const LabelLayout& l, TfRecordWriter w)
      : dir(d), layout(l), relative(RldsShardFile(l)), files(d), writer(std::move(w)) {}
  fs::path dir;
  LabelLayout layout;
  std::string relative;  // the TFRecord, relative to dir
  ShardFiles files;
  TfRecordWriter writer;
  std::set<std::uint64_t> seen;  // episode indices added
};

RldsShardWriter::RldsShardWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
RldsShardWriter::RldsShardWriter(RldsShardWriter&&) noexcept = default;
RldsShardWriter& RldsShardWriter::operator=(RldsShardWriter&&) noexcept = default;
RldsShardWriter::~RldsShardWriter() = default;

core::Result<RldsShardWriter> RldsShardWriter::Open(const fs::path& dir, const LabelLayout& layout) {
  const std::string relative = RldsShardFile(layout);
  const fs::path path = dir / relative;
  if (auto valid = ValidateLabelLayout(layout); !valid) return std::unexpected(InFile(valid.error(), path));
  ShardFiles files(dir);
  PF_TRY(files.MakeParent(path));
  PF_ASSIGN_OR_RETURN(TfRecordWriter writer, TfRecordWriter::Open(path));
  return RldsShardWriter(std::make_unique<State>(dir, layout, std::move(writer)));
}

core::Status RldsShardWriter::Add(const EpisodeRecord& episode) {
  State& st = *state_;
  const EpisodeRecord* r = &episode;
  const LabelLayout& layout = st.layout;
  const fs::path path = st.dir / st.relative;
  PF_TRY(CheckEpisodes({r}, path, &st.seen));
  const std::size_t dofs = static_cast<std::size_t>(layout.num_dofs);
  const std::size_t grip = static_cast<std::size_t>(layout.num_gripper);
  const std::size_t state_size = dofs + 7 + grip;
  const std::size_t T = static_cast<std::size_t>(r->frames);
  PF_TRY(CheckCount(r->joint_pos.size(), T * dofs, path, EpisodeField(*r, "joint_pos")));
  PF_TRY(CheckCount(r->eef_pose.size(), T * 7, path, EpisodeField(*r, "eef_pose")));
  PF_TRY(CheckCount(r->gripper.size(), T * grip, path, EpisodeField(*r, "gripper")));
  PF_TRY(CheckCount(r->actions.size(), T * 7, path, EpisodeField(*r, "actions")));
  PF_TRY(CheckCount(r->rewards.size(), T, path, EpisodeField(*r, "rewards")));
  ExampleBuilder builder;
  for (const LabelCamera& camera : layout.cameras) {
    PF_ASSIGN_OR_RETURN(const CameraFrames* frames, FindCamera(*r, camera, {.rgb = true}, 0, path));
    const std::size_t area = static_cast<std::size_t>(camera.width) * camera.height;
    std::vector<std::string> pngs;
    pngs.reserve(T);
    for (std::size_t t = 0; t < T; ++t) {
      auto png = EncodePng(camera.width, camera.height, 3, 8, frames->rgb.data() + t * area * 3);
      if (!png) return std::unexpected(InFile(std::move(png).error(), path));
      pngs.emplace_back(png->begin(), png->end());
    }
    builder.AddBytes(StrCat("steps/observation/", camera.name, "_image"), std::move(pngs));
  }
  std::vector<float> state;
  state.reserve(T * state_size);
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t i = 0; i < dofs; ++i) state.push_back(static_cast<float>(r->joint_pos[t * dofs + i]));
    for (std::size_t i = 0; i < 7; ++i) state.push_back(static_cast<float>(r->eef_pose[t * 7 + i]));
    for (std::size_t i = 0; i < grip; ++i) state.push_back(static_cast<float>(r->gripper[t * grip + i]));
  }
  builder.AddFloats("steps/observation/state", state);
  builder.AddFloats("steps/action", r->actions);
  builder.AddFloats("steps/reward", r->rewards);
  builder.AddFloats("steps/discount", std::vector<float>(T, 1.0f));
  std::vector<std::int64_t> is_first(T, 0), is_last(T, 0), is_terminal(T, 0);
  if (T > 0) {
    is_first.front() = 1;
    is_last.back() = 1;
    is_terminal.back() = r->success ? 1 : 0;
  }
  builder.AddInt64s("steps/is_first", is_first);
  builder.AddInt64s("steps/is_last", is_last);
  builder.AddInt64s("steps/is_terminal", is_terminal);
  builder.AddBytes("steps/language_instruction", std::vector<std::string>(T, r->instruction));
  builder.AddInt64s("episode_metadata/episode", {static_cast<std::int64_t>(r->episode)});
  builder.AddInt64s("episode_metadata/seed", {static_cast<std::int64_t>(r->seed)});
  builder.AddInt64s("episode_metadata/success", {r->success ? 1 : 0});
  return st.writer.Write(builder.Serialize());
}

core::Result<std::vector<ShardFile>> RldsShardWriter::Finish() {
  State& st = *state_;
  PF_TRY(st.writer.Close());
  PF_TRY(st.files.Record(st.relative));
  return st.files.Finish();
}

core::Result<std::vector<ShardFile>> WriteRldsShard(const fs::path& dir, const LabelLayout& layout,
                                                    const std::vector<const EpisodeRecord*>& episodes) {
  const fs::path path = dir / RldsShardFile(layout);
  if (auto valid = ValidateLabelLayout(layout); !valid) return std::unexpected(InFile(valid.error(), path));
  PF_TRY(CheckEpisodes(episodes, path));
  PF_ASSIGN_OR_RETURN(RldsShardWriter writer, RldsShardWriter::Open(dir, layout));
  for (const EpisodeRecord* r : episodes) PF_TRY(writer.Add(*r));
  return writer.Finish();
}

namespace {

constexpr const char* kTensorClass = "tensorflow_datasets.core.features.tensor_feature.Tensor";
constexpr const char* kScalarClass = "tensorflow_datasets.core.features.scalar.Scalar";
constexpr const char* kTextClass = "tensorflow_datasets.core.features.text_feature.Text";
constexpr const char* kImageClass = "tensorflow_datasets.core.features.image_feature.Image";
constexpr const char* kDictClass = "tensorflow_datasets.core.features.features_dict.FeaturesDict";
constexpr const char* kDatasetClass = "tensorflow_datasets.core.features.dataset_feature.Dataset";

json Shape(const std::vector<std::uint64_t>& dims) {
  json shape = json::object();
  if (!dims.empty()) {
    json dimensions = json::array();
    for (const std::uint64_t d : dims) dimensions.push_back(std::to_string(d));
    shape["dimensions"] = std::move(dimensions);
  }
  return shape;
}

json TensorFeature(const char* python_class, const std::vector<std::uint64_t>& dims, const char* dtype,
                   std::string description) {
  json tensor = json::object();
  tensor["shape"] = Shape(dims);
  tensor["dtype"] = dtype;
  tensor["encoding"] = "none";
  json feature = json::object();
  feature["pythonClassName"] = python_class;
  feature["tensor"] = std::move(tensor);
  feature["description"] = std::move(description);
  return feature;
}

json TextFeature(std::string description) {
  json feature = json::object();
  feature["pythonClassName"] = kTextClass;
  feature["text"] = json::object();
  feature["description"] = std::move(description);
  return feature;
}

json ImageFeature(std::uint32_t height, std::uint32_t width, std::string description) {
  json image = json::object();
  image["shape"] = Shape({height, width, 3});
  image["dtype"] = "uint8";
  image["encodingFormat"] = "png";
  json feature = json::object();
  feature["pythonClassName"] = kImageClass;
  feature["image"] = std::move(image);
  feature["description"] = std::move(description);
  return feature;
}

json DictFeature(json features) {
  json dict = json::object();
  dict["features"] = std::move(features);
  json feature = json::object();
  feature["pythonClassName"] = kDictClass;
  feature["featuresDict"] = std::move(dict);
  return feature;
}

json DatasetFeature(json step) {
  json sequence = json::object();
  sequence["feature"] = std::move(step);
  sequence["length"] = "-1";
  json feature = json::object();
  feature["pythonClassName"] = kDatasetClass;
  feature["sequence"] = std::move(sequence);
  return feature;
}

core::Result<std::string> Dump(const json& value, const char* what) {
  auto text = internal::DumpJson(value, 64);
  if (!text) return std::unexpected(InFile(std::move(text).error(), what));
  return text;
}

}  // namespace

core::Result<std::string> RldsFeaturesJson(const LabelLayout& layout) {
  if (auto valid = ValidateLabelLayout(layout); !valid) return std::unexpected(InFile(valid.error(), "features.json"));
  const std::uint64_t state_size = static_cast<std::uint64_t>(layout.num_dofs) + 7 + layout.num_gripper;
  json observation = json::object();
  for (const LabelCamera& camera : layout.cameras) {
    observation[camera.name + "_image"] =
        ImageFeature(camera.height, camera.width, StrCat("Camera '", camera.name, "' RGB frame."));
  }
  observation["state"] = TensorFeature(
      kTensorClass, {state_size}, "float32",
      StrCat("Robot state: ", layout.num_dofs, " joint positions (rad or m), end-effector pose in the world "
             "(x, y, z in m; qw, qx, qy, qz), ", layout.num_gripper, " gripper finger positions."));
  json step = json::object();
  step["observation"] = DictFeature(std::move(observation));
  step["action"] = TensorFeature(kTensorClass, {7}, "float32",
                                 "End-effector delta over the step in the world frame (dx, dy, dz in m; rx, ry, rz "
                                 "rotation vector in rad), then the gripper command (0 open, 1 closed).");
  step["reward"] = TensorFeature(kScalarClass, {}, "float32", "Dense task reward after the step's action.");
  step["discount"] = TensorFeature(kScalarClass, {}, "float32", "Discount, always 1.");
  step["is_first"] = TensorFeature(kScalarClass, {}, "bool", "True on the first step of the episode.");
  step["is_last"] = TensorFeature(kScalarClass, {}, "bool", "True on the last step of the episode.");
  step["is_terminal"] =
      TensorFeature(kScalarClass, {}, "bool", "True on the last step of an episode that completed its task.");
  step["language_instruction"] = TextFeature("Language instruction of the task.");
  json metadata = json::object();
  metadata["episode"] = TensorFeature(kScalarClass, {}, "int64", "Episode index in the parafab dataset.");
  metadata["seed"] = TensorFeature(kScalarClass, {}, "int64", "The episode's random seed (uint64 bits).");
  metadata["success"] = TensorFeature(kScalarClass, {}, "bool", "Whether the task predicate held at the end.");
  json features = json::object();
  features["steps"] = DatasetFeature(DictFeature(std::move(step)));
  features["episode_metadata"] = DictFeature(std::move(metadata));
  return Dump(DictFeature(std::move(features)), "features.json");
}

core::Result<std::string> RldsDatasetInfoJson(const LabelLayout& layout, const std::vector<RldsShardInfo>& shards) {
  if (auto valid = ValidateLabelLayout(layout); !valid) {
    return std::unexpected(InFile(valid.error(), "dataset_info.json"));
  }
  std::uint64_t bytes = 0;
  json lengths = json::array();
  for (const RldsShardInfo& shard : shards) {
    bytes += shard.bytes;
    lengths.push_back(std::to_string(shard.episodes));
  }
  json split = json::object();
  split["name"] = "train";
  split["numBytes"] = std::to_string(bytes);
  split["shardLengths"] = std::move(lengths);
  split["filepathTemplate"] = "shards/{SHARD_INDEX}/rlds/{DATASET}-shard.{FILEFORMAT}";
  json info = json::object();
  info["name"] = RldsDatasetName(layout.scenario);
  info["version"] = "1.0.0";
  info["fileFormat"] = "tfrecord";
  info["description"] = StrCat("parafab scenario ", layout.scenario, ": scripted-expert episodes as RLDS, one step "
                               "per brain frame at ", FormatNumber(layout.brain_hz), " Hz.");
  info["citation"] = "";
  info["splits"] = json::array({std::move(split)});
  return Dump(info, "dataset_info.json");
}

}  // namespace pf::datagen
