// A shard's vision labels and RLDS episodes, written from its episode records into the
// shard's directory (Runner::WriteShard's temporary one). Every writer returns the files it
// wrote (path relative to the shard directory, size, SHA-256) for shard.json and the
// manifest. Output is byte-reproducible: the same layout and episodes give the same files
// with the same bytes (no timestamps, fixed ordering, locale-independent numbers).
//
// BOP (WriteBopShard): one BOP scene per (episode, camera), images named by brain frame:
//   bop/objects.json                      {"<obj_id>": {"name", "semantic_class", "semantic_name"}}
//   bop/<camera>/<EEEEEE>/                EEEEEE = episode index, 6 digits (more when larger)
//     rgb/<IIIIII>.png                    8-bit RGB; IIIIII = frame index = BOP im_id
//     depth/<IIIIII>.png                  16-bit grey: value × depth_scale = z-depth in mm
//     mask/<IIIIII>_<OOOOOO>.png          8-bit, 255 inside: object OOOOOO's whole silhouette
//     mask_visib/<IIIIII>_<OOOOOO>.png    8-bit, 255 inside: its visible part
//     scene_camera.json, scene_gt.json, scene_gt_info.json   (pf/datagen/bop.h)
//   Every movable object (LabelLayout::objects) is listed in every image's scene_gt, visible
//   or not (OOOOOO = its index in that list = the object index; obj_id = object index + 1).
//   cam_R_m2c / cam_t_m2c are the pose of the object's frame as recorded in
//   EpisodeRecord::object_poses (no BOP model files are written). The visible part is the
//   pixels whose instance id is one of the object's, inside its silhouette
//   (CameraFrames::full_masks, required), so mask_visib ⊆ mask and scene_gt_info agrees with
//   the mask PNGs (px_count_valid counts silhouette pixels with a nonzero depth PNG value).
//   Depth: depth_scale = LabelLayout::bop_depth_scale (default 0.1, i.e. 0.1 mm units); the
//   value is round(z_mm / depth_scale), clamped to 65535 (6.5535 m at 0.1) for farther
//   surfaces; no surface (0), negative and non-finite depths are 0 (BOP's "no depth").
//
// COCO (WriteCocoShard): coco/<camera>.json, instances format (pf/datagen/coco.h):
//   images       id = episode · 100000 + frame (CocoImageId); file_name relative to the
//                shard directory: the BOP rgb PNG (CocoImages::kUseBop) or
//                coco/<camera>/images/<EEEEEE>_<IIIIII>.png written here (kWriteOwn)
//   categories   the semantic classes (LabelLayout::classes), id = class id
//   annotations  one per object with at least one visible pixel (its instance ids' pixels,
//                not limited to the silhouette), id = image id · 100 + object index
//                (CocoAnnotationId), category = the object's semantic class, compressed RLE,
//                bbox, area, iscrowd 0
//   Ids are the same whatever the sharding, so one camera's files from every shard merge
//   without clashes (the cameras' files share ids: merge per camera).
//
// RLDS (WriteRldsShard): rlds/<RldsDatasetName>-shard.tfrecord, one tf.train.Example per
// episode in the given order, steps flattened over time as TFDS serializes an RLDS
// `steps` Dataset (T = frames):
//   steps/observation/<camera>_image  bytes [T]          PNG, H × W × 3 uint8
//   steps/observation/state           float [T × S]      joint_pos (num_dofs), eef_pose (7:
//                                                        x y z qw qx qy qz), gripper (num_gripper)
//   steps/action                      float [T × 7]      EpisodeRecord::actions
//   steps/reward                      float [T]          EpisodeRecord::rewards (dense)
//   steps/discount                    float [T]          1
//   steps/is_first, is_last           int64 [T]          1 on the first / last step
//   steps/is_terminal                 int64 [T]          1 on the last step of a successful episode
//   steps/language_instruction        bytes [T]          EpisodeRecord::instruction
//   episode_metadata/episode          int64 [1]
//   episode_metadata/seed             int64 [1]          the uint64 seed's bits
//   episode_metadata/success          int64 [1]          0 / 1
// RldsFeaturesJson and RldsDatasetInfoJson give the dataset root's features.json and
// dataset_info.json (TFDS's JSON forms of FeaturesDict and DatasetInfo).
//
// Files are written without a per-file fsync; each writer ends with one syncfs() of the
// shard directory's file system (the TFRecord is fsynced when closed), so the caller's
// rename of the shard directory publishes complete files.
//
// Streaming: BopShardWriter, CocoShardWriter and RldsShardWriter take a shard's episodes one
// at a time (Add), writing each episode's files as it comes, so a caller need not hold a
// shard's episodes in memory: BOP writes the episode's scenes (one per camera) whole, COCO
// its images (kWriteOwn) and keeps only its annotation records for the camera JSONs that
// Finish writes, RLDS appends its tf.train.Example to the TFRecord. Write*Shard are Open,
// Add for each episode, Finish; for the same episodes in the same order the bytes are the
// same either way.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pf/core/result.h"
#include "pf/datagen/episode.h"

namespace pf::datagen {

struct LabelCamera {
  std::string name;  // CameraFrames::name; [A-Za-z0-9_.-]+ (it names folders and features)
  std::uint32_t width = 0, height = 0;  // pixels; every episode's frames must match
};

// A semantic class as the renderer labels pixels (the scenario's class ids).
struct LabelClass {
  std::uint32_t id = 0;  // ≥ 1 (0 is background)
  std::string name;
};

// A movable object, in EpisodeRecord::object_poses order.
struct LabelObject {
  std::string name;
  std::vector<std::uint32_t> instance_ids;  // renderer instance ids drawing it (1 + index in the snapshot's instance list)
  std::uint32_t semantic_class = 0;         // a LabelClass id (0 = none; COCO then fails)
};

struct LabelLayout {
  std::string scenario;                // scenario name (RldsDatasetName derives the TFDS name from it)
  double brain_hz = 10.0;              // frames per second of the brain stream
  std::vector<LabelCamera> cameras;    // cameras to label, in this order
  std::vector<LabelClass> classes;
  std::vector<LabelObject> objects;
  int num_dofs = 0;                    // EpisodeRecord::joint_pos per frame (RLDS state)
  int num_gripper = 0;                 // EpisodeRecord::gripper per frame (RLDS state)
  double bop_depth_scale = 0.1;        // BOP depth PNG value × this = mm
};

// One file written into the shard directory.
struct ShardFile {
  std::string path;        // relative to the shard directory, '/'-separated
  std::uint64_t bytes = 0;
  std::string sha256;      // 64 lowercase hex digits

  friend bool operator==(const ShardFile&, const ShardFile&) = default;
};

// Checks the layout: unique path-safe camera names with a size, unique class ids ≥ 1,
// objects with a name, unique nonzero instance ids (< 2^20) and a known or 0 class,
// positive finite brain_hz and bop_depth_scale, a scenario name.
core::Status ValidateLabelLayout(const LabelLayout& layout);

// BOP depth PNG value of a z-depth in metres (see above).
std::uint16_t BopDepthValue(float depth_m, double depth_scale);

// COCO ids (see above). Episode indices must be ≤ 922337203684 (ids fit in int64), frames
// < 100000 and objects ≤ 100; the writer checks.
inline constexpr std::int64_t kCocoImagesPerEpisode = 100000;
inline constexpr std::int64_t kCocoAnnotationsPerImage = 100;
inline std::int64_t CocoImageId(std::uint64_t episode, int frame) {
  return static_cast<std::int64_t>(episode) * kCocoImagesPerEpisode + frame;
}
inline std::int64_t CocoAnnotationId(std::int64_t image_id, std::size_t object) {
  return image_id * kCocoAnnotationsPerImage + static_cast<std::int64_t>(object);
}

// Writes the BOP scenes of `episodes` under dir/bop/. Every camera's full_masks must be
// filled. Fails (naming the file or episode and camera) on a bad layout, episode data of
// the wrong size, duplicate episode indices or an I/O error.
core::Result<std::vector<ShardFile>> WriteBopShard(const std::filesystem::path& dir, const LabelLayout& layout,
                                                   const std::vector<const EpisodeRecord*>& episodes);

enum class CocoImages {
  kWriteOwn,  // write the RGB frames under coco/<camera>/images/
  kUseBop,    // point at bop/<camera>/<EEEEEE>/rgb/<IIIIII>.png (WriteBopShard writes them)
};

// Writes dir/coco/<camera>.json for every camera (and the images, for kWriteOwn).
core::Result<std::vector<ShardFile>> WriteCocoShard(const std::filesystem::path& dir, const LabelLayout& layout,
                                                    const std::vector<const EpisodeRecord*>& episodes,
                                                    CocoImages images = CocoImages::kWriteOwn);

// The streaming writers (see the top of this file). Open checks the layout (and writes
// what does not depend on the episodes); Add checks and writes one episode (an episode
// index already added is an error); Finish writes what remains, flushes the file system and
// returns every file written, sorted by path. After an error the writer is of no further
// use (the caller drops the shard directory). Move-only.
class BopShardWriter {
 public:
  static core::Result<BopShardWriter> Open(const std::filesystem::path& dir, const LabelLayout& layout);
  core::Status Add(const EpisodeRecord& episode);
  core::Result<std::vector<ShardFile>> Finish();

  BopShardWriter(BopShardWriter&&) noexcept;
  BopShardWriter& operator=(BopShardWriter&&) noexcept;
  ~BopShardWriter();

 private:
  struct State;
  explicit BopShardWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class CocoShardWriter {
 public:
  static core::Result<CocoShardWriter> Open(const std::filesystem::path& dir, const LabelLayout& layout,
                                            CocoImages images = CocoImages::kWriteOwn);
  core::Status Add(const EpisodeRecord& episode);
  core::Result<std::vector<ShardFile>> Finish();
  // Annotation records held for the camera JSONs (grows with the shard's frames; the
  // images themselves are written by Add and not held).
  std::size_t held_annotations() const;

  CocoShardWriter(CocoShardWriter&&) noexcept;
  CocoShardWriter& operator=(CocoShardWriter&&) noexcept;
  ~CocoShardWriter();

 private:
  struct State;
  explicit CocoShardWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class RldsShardWriter {
 public:
  static core::Result<RldsShardWriter> Open(const std::filesystem::path& dir, const LabelLayout& layout);
  core::Status Add(const EpisodeRecord& episode);
  core::Result<std::vector<ShardFile>> Finish();

  RldsShardWriter(RldsShardWriter&&) noexcept;
  RldsShardWriter& operator=(RldsShardWriter&&) noexcept;
  ~RldsShardWriter();

 private:
  struct State;
  explicit RldsShardWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The TFDS dataset name for a scenario: lowercase, characters other than [a-z0-9_]
// replaced by '_', "parafab_" in front when it does not start with a letter.
std::string RldsDatasetName(std::string_view scenario);
// The shard's TFRecord path relative to the shard directory: rlds/<name>-shard.tfrecord.
std::string RldsShardFile(const LabelLayout& layout);

// Writes dir/rlds/<name>-shard.tfrecord.
core::Result<std::vector<ShardFile>> WriteRldsShard(const std::filesystem::path& dir, const LabelLayout& layout,
                                                    const std::vector<const EpisodeRecord*>& episodes);

// features.json for the dataset root: the features above with shapes and dtypes.
core::Result<std::string> RldsFeaturesJson(const LabelLayout& layout);

// One shard of the dataset, in shard order (shard N = shards/NNNNN).
struct RldsShardInfo {
  std::uint64_t episodes = 0;  // episodes in its TFRecord
  std::uint64_t bytes = 0;     // size of its TFRecord
};
// dataset_info.json for the dataset root: name, version 1.0.0, one "train" split with the
// shard lengths and filepathTemplate "shards/{SHARD_INDEX}/rlds/{DATASET}-shard.{FILEFORMAT}"
// (TFDS formats SHARD_INDEX with 5 digits, as the shard folders are named).
core::Result<std::string> RldsDatasetInfoJson(const LabelLayout& layout, const std::vector<RldsShardInfo>& shards);

}  // namespace pf::datagen
