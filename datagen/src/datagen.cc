#include "pf/datagen/datagen.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "pf/core/check.h"
#include "pf/core/hash.h"
#include "pf/core/log.h"
#include "pf/core/str.h"
#include "pf/datagen/episode.h"
#include "pf/datagen/hdf5_episodes.h"
#include "pf/datagen/label_writers.h"
#include "pf/datagen/sha256.h"
#include "pf/render/batch_renderer.h"
#include "pf/scenarios/expert.h"
#include "pf/scenarios/scenario.h"
#include "pf/sim/batch_sim.h"
#include "pf/sim/controllers.h"

#ifndef PF_VERSION
#define PF_VERSION "unknown"
#endif

namespace pf::datagen {
namespace {

namespace fs = std::filesystem;
using core::StrCat;
using Clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;

constexpr int kDatasetFormatVersion = 1;
constexpr int kSuccessHoldSteps = 10;     // the predicate must hold this many control steps
constexpr int kGiveUpStepsAfterPlan = 60;  // control steps after the expert's plan ends without success

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// The conventions every file of a dataset follows (DESIGN.md), stated in the data.
json Conventions() {
  return {
      {"units", "metres, radians, seconds, kilograms"},
      {"world", "z up"},
      {"quaternion", "w, x, y, z"},
      {"pose", "x, y, z, qw, qx, qy, qz"},
      {"camera", "OpenCV: +x right, +y down, +z forward; X_WC is the camera in the world"},
      {"intrinsics", "fx, fy, cx, cy in pixels; pixel centres at integer + 0.5 (u = fx x / z + cx)"},
      {"depth", "z-depth in metres, 0 = no surface"},
      {"segmentation", "instance and semantic ids, 0 = background"},
      {"actions", "end-effector delta over the frame (dx, dy, dz, rx, ry, rz; world frame; rotation vector) and gripper (0 open, 1 closed)"}};
}

// A bad setting: the error names the command-line flag.
std::unexpected<core::Error> ConfigFail(std::string message, std::string flag) {
  return core::Fail(std::move(message), {"", 0, 0, std::move(flag)});
}

std::string ShardName(std::uint64_t shard) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%05llu", static_cast<unsigned long long>(shard));
  return buffer;
}

// Writes `text` to `path` through a temporary file, fsynced, then renamed over it.
core::Status WriteFileAtomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + StrCat(".tmp-", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return core::Fail(StrCat("cannot create: ", std::strerror(errno)), {tmp.string(), 0, 0, ""});
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return core::Fail(StrCat("cannot write: ", std::strerror(err)), {tmp.string(), 0, 0, ""});
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return core::Fail(StrCat("cannot flush: ", std::strerror(err)), {tmp.string(), 0, 0, ""});
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return core::Fail(StrCat("cannot rename into place: ", std::strerror(err)), {path.string(), 0, 0, ""});
  }
  return core::Ok();
}

core::Status FsyncPath(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core::Fail(StrCat("cannot open: ", std::strerror(errno)), {path.string(), 0, 0, ""});
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return core::Fail(StrCat("cannot fsync: ", std::strerror(errno)), {path.string(), 0, 0, ""});
  return core::Ok();
}

core::Result<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Fail("cannot open", {path.string(), 0, 0, ""});
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A finished shard's shard.json, as the manifest and replay read it. The file may have been
// edited or damaged since it was written (a resumed run or a replay reads what is on disk),
// so every field used is checked for presence and type; errors name the file and field.
struct ShardSummary {
  std::string text;  // the file's bytes (the manifest lists its size and sha256)
  std::uint64_t first_episode = 0, end_episode = 0, kept = 0, successes = 0, frames = 0;
  struct File {
    std::string path;  // relative to the shard directory, inside it
    std::uint64_t bytes = 0;
    std::string sha256;
  };
  std::vector<File> files;
  struct Episode {
    std::uint64_t episode = 0, control_steps = 0;
    std::string trajectory_hash;
    bool success = false;
  };
  std::vector<Episode> episodes;
};

core::Result<ShardSummary> ReadShardSummary(const fs::path& file) {
  ShardSummary out;
  PF_ASSIGN_OR_RETURN(out.text, ReadText(file));
  const auto fail = [&](const std::string& field, std::string_view what) {
    return core::Fail(StrCat("shard summary: ", what), {file.string(), 0, 0, field});
  };
  const json j = json::parse(out.text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("", "not a JSON object");
  const auto member = [](const json& parent, const std::string& key) -> const json* {
    const auto it = parent.find(key);
    return it == parent.end() ? nullptr : &*it;
  };
  const auto count = [&](const json& parent, const std::string& key, const std::string& field,
                         std::uint64_t* value) -> core::Status {
    const json* v = member(parent, key);
    if (v == nullptr || !v->is_number_unsigned()) return fail(field, "expected a non-negative integer");
    *value = v->get<std::uint64_t>();
    return core::Ok();
  };
  const json* range = member(j, "episodes");
  if (range == nullptr || !range->is_array() || range->size() != 2 || !(*range)[0].is_number_unsigned() ||
      !(*range)[1].is_number_unsigned() || (*range)[0].get<std::uint64_t>() > (*range)[1].get<std::uint64_t>())
    return fail("episodes", "expected [first, end] with first <= end");
  out.first_episode = (*range)[0].get<std::uint64_t>();
  out.end_episode = (*range)[1].get<std::uint64_t>();
  PF_TRY(count(j, "kept", "kept", &out.kept));
  PF_TRY(count(j, "successes", "successes", &out.successes));
  PF_TRY(count(j, "frames", "frames", &out.frames));
  const json* files = member(j, "files");
  if (files == nullptr || !files->is_array()) return fail("files", "expected an array");
  for (std::size_t i = 0; i < files->size(); ++i) {
    const json& f = (*files)[i];
    const std::string field = StrCat("files[", i, "]");
    if (!f.is_object()) return fail(field, "expected an object");
    ShardSummary::File entry;
    const json* path = member(f, "path");
    const json* sha = member(f, "sha256");
    if (path == nullptr || !path->is_string()) return fail(field + ".path", "expected a string");
    entry.path = path->get<std::string>();
    const fs::path relative(entry.path);
    bool inside = !entry.path.empty() && relative.is_relative();
    for (const fs::path& part : relative) inside = inside && part != ".." && part != ".";
    if (!inside) return fail(field + ".path", "expected a path inside the shard directory");
    PF_TRY(count(f, "bytes", field + ".bytes", &entry.bytes));
    if (sha == nullptr || !sha->is_string() || sha->get<std::string>().size() != 64 ||
        sha->get<std::string>().find_first_not_of("0123456789abcdef") != std::string::npos)
      return fail(field + ".sha256", "expected 64 lower-case hex digits");
    entry.sha256 = sha->get<std::string>();
    out.files.push_back(std::move(entry));
  }
  const json* list = member(j, "episode_list");
  if (list == nullptr || !list->is_array()) return fail("episode_list", "expected an array");
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    const std::string field = StrCat("episode_list[", i, "]");
    if (!e.is_object()) return fail(field, "expected an object");
    ShardSummary::Episode entry;
    PF_TRY(count(e, "episode", field + ".episode", &entry.episode));
    PF_TRY(count(e, "control_steps", field + ".control_steps", &entry.control_steps));
    const json* hash = member(e, "trajectory_hash");
    const json* success = member(e, "success");
    if (hash == nullptr || !hash->is_string()) return fail(field + ".trajectory_hash", "expected a string");
    if (success == nullptr || !success->is_boolean()) return fail(field + ".success", "expected true or false");
    entry.trajectory_hash = hash->get<std::string>();
    entry.success = success->get<bool>();
    out.episodes.push_back(std::move(entry));
  }
  return out;
}

// Finished episodes held in memory between hand-over to the writer thread and the end of
// their writing. Every HeldEpisode counts itself from construction until destroyed,
// wherever it is kept (the hand-over queue, the reorder buffer), so the peak is what the
// run really held: it depends on the env slots, not on the shard size, because each
// format streams an episode out as it is written.
class HeldCounter {
 public:
  void Add() {
    const std::size_t now = ++count_;
    std::size_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {}
  }
  void Remove() { --count_; }
  std::size_t peak() const { return peak_.load(); }

 private:
  std::atomic<std::size_t> count_{0}, peak_{0};
};

class HeldEpisode {
 public:
  HeldEpisode(EpisodeRecord record, HeldCounter& counter) : record_(std::move(record)), counter_(&counter) {
    counter_->Add();
  }
  HeldEpisode(HeldEpisode&& other) noexcept : record_(std::move(other.record_)), counter_(std::exchange(other.counter_, nullptr)) {}
  HeldEpisode& operator=(HeldEpisode&&) = delete;
  HeldEpisode(const HeldEpisode&) = delete;
  ~HeldEpisode() {
    if (counter_ != nullptr) counter_->Remove();
  }
  EpisodeRecord& record() { return record_; }

 private:
  EpisodeRecord record_;
  HeldCounter* counter_;
};

// The writer thread's shard in progress: its files open in the temp directory (each format
// streams: an episode's data is written out when the episode is, nothing is held until the
// shard closes), the counts so far and the summary for shard.json.
struct OpenShard {
  std::uint64_t index = 0;
  std::uint64_t first_episode = 0, end_episode = 0;
  std::uint64_t next_episode = 0;  // episodes are written in index order
  std::filesystem::path tmp;
  std::optional<Hdf5EpisodeWriter> hdf5;
  std::optional<BopShardWriter> bop;
  std::optional<CocoShardWriter> coco;
  std::optional<RldsShardWriter> rlds;
  std::uint64_t kept = 0, successes = 0, frames = 0;
  nlohmann::ordered_json episodes = nlohmann::ordered_json::array();
};

// The state of one env slot.
struct Slot {
  bool active = false;
  scenarios::EpisodeSetup setup;
  EpisodeRecord record;
  int steps = 0;
  int success_steps = 0;
  int steps_after_plan = 0;
  int frame = -1;            // current brain frame
  std::array<double, 6> frame_delta{};
  double frame_gripper = 0.0;
  core::Hasher trajectory{0};  // the env's full state after every control step
  bool framed = false;         // records a brain frame at this control step
  bool ended = false;          // the episode ended this control step (FinishEpisode follows)
  std::vector<double> state;   // [state_size] scratch of the env's own hooks
};

class Runner {
 public:
  Runner(const DatagenConfig& config, assets::AssetLibrary& library, const ProgressFn& progress)
      : config_(config), library_(library), progress_(progress) {}

  core::Result<DatagenStats> Run();
  // Re-simulates one episode without rendering or writing: its record (trajectory hash,
  // success, steps; no frames).
  core::Result<EpisodeRecord> Replay(std::uint64_t episode);
  std::string ScenarioHash() const { return scenario_ ? core::HexU64(scenario_->model.scenario_hash) : ""; }

 private:
  core::Status CheckConfig() const;
  core::Status Prepare();
  core::Status PrepareOutput();
  json RunSettings() const;
  core::Status Simulate();
  void StartEpisode(int slot, std::uint64_t episode);
  // A brain frame of a slot: the env's state, then its views from the renderer.
  void RecordFrameState(int slot);
  void RecordFrameImages(int slot, const render::BatchRenderer& renderer);
  void RecordControl(int slot);
  // The per-env halves of a control step, run as BatchSim::Step hooks on the env's worker
  // thread: each touches only its own slot and env (FinishEpisode, which is shared, follows
  // serially in env order).
  void BeforeStep(int slot);
  void AfterStep(int slot);
  // BOP's full masks: every object drawn alone, for the slots that just recorded a frame.
  core::Status RenderObjectMasks(render::BatchRenderer& renderer);
  void FinishEpisode(int slot);
  void WriterLoop();
  core::Status OpenNextShard();
  core::Status WriteEpisode(EpisodeRecord& record);
  core::Status CloseShard();
  bool CanStartEpisode();
  core::Status MaybeWriteManifest();

  DatagenConfig config_;
  assets::AssetLibrary& library_;
  ProgressFn progress_;
  DatagenStats stats_;
  Clock::time_point start_ = Clock::now();

  std::optional<scenarios::Scenario> scenario_;
  std::shared_ptr<const sim::Model> model_;
  std::optional<scenarios::TaskContext> context_;
  std::unique_ptr<sim::BatchSim> sim_;
  std::unique_ptr<scenarios::Expert> expert_;
  int brain_period_ = 1;  // control steps per brain frame
  std::vector<int> gripper_dofs_;
  std::uint64_t num_shards_total_ = 0;
  std::vector<std::uint64_t> my_shards_;  // still to do, in order
  std::vector<Slot> slots_;
  std::deque<std::uint64_t> queue_;  // episodes to run, in order
  std::uint64_t episodes_total_ = 0, episodes_done_ = 0;
  std::uint64_t frames_recorded_ = 0;  // brain frames recorded, kept or not (progress)
  Hdf5Layout layout_;
  LabelLayout labels_;
  bool bop_ = false, coco_ = false, rlds_ = false;
  core::RenderSnapshot snapshot_;
  bool replay_ = false;                      // Replay(): no rendering, recording or writing
  std::optional<EpisodeRecord> replayed_;

  // Writer thread.
  std::mutex mutex_;
  std::condition_variable cv_;
  HeldCounter held_;                    // finished episodes in memory (DatagenStats::peak_episodes_held)
  std::deque<HeldEpisode> finished_;    // handed over, not yet taken by the writer
  std::size_t in_flight_ = 0;            // finished episodes not yet written (queued or reordering)
  std::size_t max_in_flight_ = 0;        // back-pressure: no new episode starts beyond this
  bool closing_ = false;
  std::optional<core::Error> write_error_;
  // Writer thread only.
  std::map<std::uint64_t, HeldEpisode> reorder_;  // finished ahead of the next one to write
  std::size_t shard_cursor_ = 0;                    // into my_shards_
  std::optional<OpenShard> shard_;
};

core::Status Runner::CheckConfig() const {
  if (config_.out.empty()) return ConfigFail("an output directory is needed", "--out");
  if (config_.episodes < 1) return ConfigFail("episodes must be at least 1", "--episodes");
  if (config_.envs < 1 || config_.envs > 65536) return ConfigFail("envs must be in [1, 65536]", "--envs");
  if (config_.threads < 0) return ConfigFail("threads must not be negative", "--threads");
  if (config_.num_shards < 1) return ConfigFail("num-shards must be at least 1", "--num-shards");
  if (config_.shard < 0 || config_.shard >= config_.num_shards)
    return ConfigFail(StrCat("shard must be in [0, ", config_.num_shards, "), got ", config_.shard), "--shard");
  if (config_.episodes_per_shard < 1)
    return ConfigFail("episodes-per-shard must be at least 1", "--episodes-per-shard");
  if (!(config_.brain_hz > 0.0)) return ConfigFail("brain-hz must be > 0", "--brain-hz");
  if (config_.resume && config_.overwrite)
    return ConfigFail("--resume and --overwrite contradict each other", "--overwrite");
  if (config_.formats.empty()) return ConfigFail("at least one format is needed", "--formats");
  for (const std::string& f : config_.formats)
    if (f != "hdf5" && f != "bop" && f != "coco" && f != "rlds")
      return ConfigFail(StrCat("unknown format '", f, "' (formats: hdf5, bop, coco, rlds)"), "--formats");
  return core::Ok();
}

bool HasFormat(const DatagenConfig& config, std::string_view format) {
  return std::find(config.formats.begin(), config.formats.end(), format) != config.formats.end();
}

core::Status Runner::Prepare() {
  PF_ASSIGN_OR_RETURN(scenario_, scenarios::LoadScenario(config_.scenario, library_));
  if (!scenario_->task)
    return core::Fail("the scenario has no task: datagen needs one (a task { ... } block)", {config_.scenario, 0, 0, "task"});
  if (scenario_->cameras.empty())
    return core::Fail("the scenario has no cameras: datagen needs at least one (cameras { ... })", {config_.scenario, 0, 0, "cameras"});
  PF_ASSIGN_OR_RETURN(model_, sim::Model::Compile(scenario_->model));
  PF_ASSIGN_OR_RETURN(context_, scenarios::TaskContext::Create(*scenario_, model_));
  const double control_hz = 1.0 / context_->control_dt();
  const double period = control_hz / config_.brain_hz;
  brain_period_ = static_cast<int>(std::lround(period));
  if (brain_period_ < 1 || std::abs(period - brain_period_) > 1e-6)
    return ConfigFail(StrCat("brain-hz must divide the scenario's control rate (", control_hz, " Hz), got ",
                                         config_.brain_hz),
                                  "--brain-hz");
  // Every episode's draws must work: a bad placement region fails here, before any file.
  PF_TRY(context_->DrawEpisode(config_.seed, 0));
  const sim::Model& m = *model_;
  const int robot = context_->task().robot;
  for (int d = m.robot_first_dof(robot); d < m.robot_end_dof(robot); ++d) {
    const sim::DofInfo& dof = m.dofs()[static_cast<std::size_t>(d)];
    const auto& desc = m.spec().robots[static_cast<std::size_t>(robot)].robot->desc;
    if (desc.joints[static_cast<std::size_t>(dof.joint)].type == assets::JointType::kPrismatic) gripper_dofs_.push_back(d);
  }
  num_shards_total_ = (config_.episodes + static_cast<std::uint64_t>(config_.episodes_per_shard) - 1) /
                      static_cast<std::uint64_t>(config_.episodes_per_shard);
  bop_ = HasFormat(config_, "bop");
  coco_ = HasFormat(config_, "coco");
  rlds_ = HasFormat(config_, "rlds");
  // The label formats' view of the scenario: cameras, classes, and each object's instance id
  // (the renderer labels a body's pixels with its body index + 1).
  labels_.scenario = scenario_->model.name;
  labels_.brain_hz = config_.brain_hz;
  for (const auto& c : scenario_->cameras) labels_.cameras.push_back({c.name, c.intrinsics.width, c.intrinsics.height});
  std::map<std::uint32_t, std::string> classes;
  for (int o = 0; o < m.num_objects(); ++o) {
    const sim::ObjectSpec& object = scenario_->model.objects[static_cast<std::size_t>(o)];
    labels_.objects.push_back({object.name, {static_cast<std::uint32_t>(m.object_body(o) + 1)}, object.semantic_class});
    if (object.semantic_class != 0) classes[object.semantic_class] = object.semantic_name;
    if (coco_ && object.semantic_class == 0)
      return core::Fail(StrCat("object '", object.name, "' has no semantic_class: COCO annotations need one on every object"),
                        {config_.scenario, 0, 0, StrCat("objects[", object.name, "].semantic_class")});
  }
  for (const auto& [id, name] : classes) labels_.classes.push_back({id, name});
  labels_.num_dofs = m.num_dofs();
  labels_.num_gripper = static_cast<int>(gripper_dofs_.size());
  if (bop_ || coco_ || rlds_) PF_TRY(ValidateLabelLayout(labels_));
  return core::Ok();
}

json Runner::RunSettings() const {
  json j;
  j["format"] = "parafab-dataset";
  j["format_version"] = kDatasetFormatVersion;
  j["scenario"] = {{"name", scenario_->model.name}, {"source", config_.scenario},
                   {"hash", core::HexU64(scenario_->model.scenario_hash)}};
  j["seed"] = config_.seed;
  j["episodes"] = config_.episodes;
  j["episodes_per_shard"] = config_.episodes_per_shard;
  j["formats"] = config_.formats;
  j["brain_hz"] = config_.brain_hz;
  j["keep_failed"] = config_.keep_failed;
  return j;
}

core::Status Runner::PrepareOutput() {
  const fs::path& out = config_.out;
  const fs::path run_file = out / "run.json";
  const std::string settings = RunSettings().dump(2) + "\n";
  std::error_code ec;
  const bool exists = fs::exists(out, ec);
  if (exists && !fs::is_directory(out, ec))
    return core::Fail("the output path exists and is not a directory", {out.string(), 0, 0, "--out"});
  const bool empty = !exists || fs::is_empty(out, ec);
  const bool ours = exists && fs::exists(run_file, ec);
  if (!empty && config_.overwrite) {
    if (!ours)
      return core::Fail("refusing to overwrite a directory that is not a parafab dataset (no run.json)",
                        {out.string(), 0, 0, "--overwrite"});
    for (const char* name : {"shards", "manifest.json", "run.json"}) {
      fs::remove_all(out / name, ec);
      if (ec) return core::Fail(StrCat("cannot remove: ", ec.message()), {(out / name).string(), 0, 0, ""});
    }
  } else if (!empty) {
    // Joining: another process of the same sharded run, or --resume.
    const bool joining = config_.resume || config_.num_shards > 1;
    if (!joining)
      return core::Fail("the output directory exists and is not empty: pass --resume to continue it or --overwrite to replace it",
                        {out.string(), 0, 0, "--out"});
    if (!ours) {
      // A sibling process may be about to write run.json: give it a moment.
      for (int i = 0; i < 50 && !fs::exists(run_file, ec); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (!fs::exists(run_file, ec))
        return core::Fail("the output directory is not a parafab dataset (no run.json)", {out.string(), 0, 0, "--out"});
    }
  }
  fs::create_directories(out / "shards", ec);
  if (ec) return core::Fail(StrCat("cannot create the output directory: ", ec.message()), {out.string(), 0, 0, "--out"});
  // run.json: created once (O_EXCL), then every later process must agree with it.
  const int fd = ::open(run_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    const bool ok = ::write(fd, settings.data(), settings.size()) == static_cast<ssize_t>(settings.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return core::Fail(StrCat("cannot write: ", std::strerror(errno)), {run_file.string(), 0, 0, ""});
  } else if (errno == EEXIST) {
    std::string existing;
    for (int i = 0; i < 50; ++i) {  // the creator may still be writing it
      PF_ASSIGN_OR_RETURN(existing, ReadText(run_file));
      if (!existing.empty() && existing.back() == '\n') break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (existing != settings)
      return core::Fail(StrCat("the dataset in this directory was made with other settings:\n", existing,
                               "this run has:\n", settings),
                        {run_file.string(), 0, 0, "--out"});
  } else {
    return core::Fail(StrCat("cannot create: ", std::strerror(errno)), {run_file.string(), 0, 0, ""});
  }
  // Leftovers of killed runs of this process's shards: temporary shard directories.
  for (const auto& entry : fs::directory_iterator(out / "shards", ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(".tmp-")) continue;
    const std::uint64_t index = std::strtoull(name.c_str() + 5, nullptr, 10);
    if (index % static_cast<std::uint64_t>(config_.num_shards) == static_cast<std::uint64_t>(config_.shard))
      fs::remove_all(entry.path(), ec);
  }
  for (std::uint64_t s = static_cast<std::uint64_t>(config_.shard); s < num_shards_total_;
       s += static_cast<std::uint64_t>(config_.num_shards)) {
    if (fs::exists(out / "shards" / ShardName(s) / "shard.json", ec)) {
      ++stats_.shards_skipped;
      continue;
    }
    my_shards_.push_back(s);
  }
  return core::Ok();
}

void Runner::StartEpisode(int e, std::uint64_t episode) {
  Slot& slot = slots_[static_cast<std::size_t>(e)];
  slot = Slot{};
  slot.active = true;
  auto setup = context_->DrawEpisode(config_.seed, episode);
  PF_CHECK(setup.has_value(), "episode ", episode, ": ", setup ? "" : setup.error().message);
  slot.setup = std::move(*setup);
  context_->ApplyEpisode(*sim_, e, slot.setup);
  expert_->Reset(*sim_, e, slot.setup);
  EpisodeRecord& r = slot.record;
  r.episode = episode;
  r.seed = config_.seed;
  r.instruction = slot.setup.instruction;
  r.draws = slot.setup.draws;
  if (replay_) return;  // no frames, no buffers
  // Every buffer reserved at its largest (the time limit) up front: episodes then allocate
  // the same sizes over and over, which the allocator reuses, so memory stays flat however
  // many episodes a run has (growing vectors leave ever larger freed blocks behind).
  const sim::Model& m = *model_;
  const std::size_t T = static_cast<std::size_t>(context_->task().max_steps / brain_period_ + 2);
  const std::size_t N = static_cast<std::size_t>(context_->task().max_steps + 2);
  const std::size_t M = N * static_cast<std::size_t>(m.physics().control_substeps);
  const std::size_t D = static_cast<std::size_t>(m.num_dofs()), A = static_cast<std::size_t>(m.num_actuated());
  const std::size_t O = static_cast<std::size_t>(m.num_objects());
  r.time.reserve(T);
  r.joint_pos.reserve(T * D);
  r.joint_vel.reserve(T * D);
  r.eef_pose.reserve(T * 7);
  r.gripper.reserve(T * gripper_dofs_.size());
  r.object_poses.reserve(T * O * 7);
  r.actions.reserve(T * 7);
  r.rewards.reserve(T);
  r.sparse_rewards.reserve(T);
  r.dones.reserve(T);
  r.states.reserve(T * static_cast<std::size_t>(m.state_size()));
  r.ctrl_time.reserve(N);
  r.ctrl_q.reserve(N * D);
  r.ctrl_qd.reserve(N * D);
  r.ctrl_targets.reserve(N * A);
  r.ctrl_ee_pose.reserve(N * 7);
  r.ctrl_ee_wrench.reserve(N * 6);
  r.ctrl_brain_frame.reserve(N);
  r.phys_time.reserve(M);
  r.phys_torques.reserve(M * D);
  r.phys_q.reserve(M * D);
  r.phys_qd.reserve(M * D);
  for (const scenarios::CameraSpec& camera : scenario_->cameras) {
    CameraFrames frames;
    frames.name = camera.name;
    frames.width = camera.intrinsics.width;
    frames.height = camera.intrinsics.height;
    const std::size_t pixels = static_cast<std::size_t>(frames.width) * frames.height;
    frames.rgb.reserve(T * pixels * 3);
    frames.depth.reserve(T * pixels);
    frames.instance.reserve(T * pixels);
    frames.semantic.reserve(T * pixels);
    frames.intrinsics.reserve(T * 4);
    frames.pose.reserve(T * 7);
    r.cameras.push_back(std::move(frames));
  }
}

template <class T>
void Append(std::vector<T>& to, std::span<const T> from) {
  to.insert(to.end(), from.begin(), from.end());
}

void Runner::RecordFrameState(int e) {
  Slot& slot = slots_[static_cast<std::size_t>(e)];
  EpisodeRecord& r = slot.record;
  const sim::Model& m = *model_;
  const std::size_t E = static_cast<std::size_t>(e);
  const std::size_t D = static_cast<std::size_t>(m.num_dofs());
  const std::size_t C = scenario_->cameras.size();
  ++slot.frame;
  ++r.frames;
  r.time.push_back(slot.steps * context_->control_dt());
  Append(r.joint_pos, sim_->joint_positions().subspan(E * D, D));
  Append(r.joint_vel, sim_->joint_velocities().subspan(E * D, D));
  double pose[7];
  core::PoseToArray(sim::EndEffectorPose(*sim_, e, context_->task().robot), pose);
  r.eef_pose.insert(r.eef_pose.end(), pose, pose + 7);
  for (int d : gripper_dofs_) r.gripper.push_back(sim_->joint_positions()[E * D + static_cast<std::size_t>(d)]);
  const std::size_t B = static_cast<std::size_t>(m.num_bodies());
  for (int o = 0; o < m.num_objects(); ++o)
    Append(r.object_poses, sim_->body_poses().subspan((E * B + static_cast<std::size_t>(m.object_body(o))) * 7, 7));
  slot.state.resize(static_cast<std::size_t>(sim_->StateSize(sim::kStateAll)));
  sim_->GetState(e, sim::kStateAll, slot.state);
  Append(r.states, std::span<const double>(slot.state));
  for (std::size_t c = 0; c < C; ++c) {
    const std::uint32_t view = static_cast<std::uint32_t>(E * C + c);
    CameraFrames& cam = r.cameras[c];
    const core::CameraIntrinsics& K = snapshot_.camera_intrinsics[view];
    cam.intrinsics.insert(cam.intrinsics.end(), {K.fx, K.fy, K.cx, K.cy});
    Append(cam.pose, std::span<const double>(snapshot_.camera_poses).subspan(static_cast<std::size_t>(view) * 7, 7));
  }
  slot.frame_delta = {};
  r.actions.resize(r.actions.size() + 7, 0.0f);
  r.rewards.push_back(0.0f);
  r.sparse_rewards.push_back(0.0f);
  r.dones.push_back(0);
}

void Runner::RecordFrameImages(int e, const render::BatchRenderer& renderer) {
  EpisodeRecord& r = slots_[static_cast<std::size_t>(e)].record;
  const std::size_t E = static_cast<std::size_t>(e);
  const std::size_t C = scenario_->cameras.size();
  for (std::size_t c = 0; c < C; ++c) {
    const std::uint32_t view = static_cast<std::uint32_t>(E * C + c);
    CameraFrames& cam = r.cameras[c];
    const auto rgba = renderer.colour(view);
    const std::size_t pixels = static_cast<std::size_t>(cam.width) * cam.height;
    const std::size_t at = cam.rgb.size();
    cam.rgb.resize(at + pixels * 3);
    for (std::size_t p = 0; p < pixels; ++p)
      for (int k = 0; k < 3; ++k) cam.rgb[at + p * 3 + static_cast<std::size_t>(k)] = rgba[p * 4 + static_cast<std::size_t>(k)];
    Append(cam.depth, renderer.depth(view));
    Append(cam.instance, renderer.instance_ids(view));
    Append(cam.semantic, renderer.semantic_ids(view));
  }
}

core::Status Runner::RenderObjectMasks(render::BatchRenderer& renderer) {
  const sim::Model& m = *model_;
  const auto t0 = Clock::now();
  const std::size_t I = snapshot_.instances.size(), C = scenario_->cameras.size();
  const std::size_t E = slots_.size();
  for (int o = 0; o < m.num_objects(); ++o) {
    const std::uint32_t body = static_cast<std::uint32_t>(m.object_body(o));
    for (std::size_t e = 0; e < E; ++e)
      for (std::size_t i = 0; i < I; ++i) snapshot_.instance_visible[e * I + i] = snapshot_.instances[i].body == body ? 1 : 0;
    PF_TRY(renderer.Render(snapshot_));
    // Each slot that recorded a frame at this control step copies its own silhouettes.
    sim_->ForEachEnv([&](int env) {
      const std::size_t e = static_cast<std::size_t>(env);
      Slot& slot = slots_[e];
      if (!slot.framed) return;
      for (std::size_t c = 0; c < C; ++c) {
        const auto ids = renderer.instance_ids(static_cast<std::uint32_t>(e * C + c));
        auto& masks = slot.record.cameras[c].full_masks;
        const std::size_t at = masks.size();
        masks.resize(at + ids.size());
        for (std::size_t p = 0; p < ids.size(); ++p) masks[at + p] = ids[p] != 0 ? 1 : 0;
      }
    });
  }
  std::fill(snapshot_.instance_visible.begin(), snapshot_.instance_visible.end(), 1);
  stats_.render_s += Seconds(t0, Clock::now());
  return core::Ok();
}

// The control step about to run: state before it, the targets the expert commanded.
void Runner::RecordControl(int e) {
  Slot& slot = slots_[static_cast<std::size_t>(e)];
  EpisodeRecord& r = slot.record;
  const sim::Model& m = *model_;
  const std::size_t E = static_cast<std::size_t>(e);
  const std::size_t D = static_cast<std::size_t>(m.num_dofs()), A = static_cast<std::size_t>(m.num_actuated());
  const int robot = context_->task().robot;
  r.ctrl_time.push_back(slot.steps * context_->control_dt());
  Append(r.ctrl_q, sim_->joint_positions().subspan(E * D, D));
  Append(r.ctrl_qd, sim_->joint_velocities().subspan(E * D, D));
  Append(r.ctrl_targets, std::span<const double>(sim_->actions()).subspan(E * A, A));
  double pose[7];
  core::PoseToArray(sim::EndEffectorPose(*sim_, e, robot), pose);
  r.ctrl_ee_pose.insert(r.ctrl_ee_pose.end(), pose, pose + 7);
  Append(r.ctrl_ee_wrench, sim_->end_effector_wrenches().subspan((E * static_cast<std::size_t>(m.num_robots()) + static_cast<std::size_t>(robot)) * 6, 6));
  r.ctrl_brain_frame.push_back(slot.frame);
  for (const sim::Contact& c : sim_->contacts(e)) {
    r.contact_step.push_back(slot.steps);
    r.contact_bodies.insert(r.contact_bodies.end(), {c.body_a, c.body_b});
    r.contact_point.insert(r.contact_point.end(), c.p_W, c.p_W + 3);
    r.contact_normal.insert(r.contact_normal.end(), c.n_W, c.n_W + 3);
    r.contact_force.push_back(c.normal_force);
  }
}

void Runner::FinishEpisode(int e) {
  Slot& slot = slots_[static_cast<std::size_t>(e)];
  slot.active = false;
  EpisodeRecord& r = slot.record;
  r.control_steps = slot.steps;
  r.trajectory_hash = slot.trajectory.Digest();
  if (!r.dones.empty()) r.dones.back() = 1;
  if (replay_) {
    replayed_ = std::move(r);
    return;
  }
  ++stats_.episodes_run;
  if (r.success) ++stats_.successes;
  ++episodes_done_;
  {
    std::lock_guard lock(mutex_);
    finished_.emplace_back(std::move(r), held_);
    ++in_flight_;
    cv_.notify_all();
  }
  if (progress_) {
    DatagenProgress p;
    p.episodes_done = episodes_done_;
    p.episodes_total = episodes_total_;
    p.frames = frames_recorded_;
    p.elapsed_s = Seconds(start_, Clock::now());
    progress_(p);
  }
}

// Before the physics step: the expert commands env e's joint targets; the control step's
// starting state is recorded.
void Runner::BeforeStep(int e) {
  Slot& slot = slots_[static_cast<std::size_t>(e)];
  if (!slot.active) return;
  const scenarios::ExpertAction action = expert_->Act(*sim_, e);
  for (int k = 0; k < 6; ++k) slot.frame_delta[static_cast<std::size_t>(k)] += action.delta_W[static_cast<std::size_t>(k)];
  slot.frame_gripper = action.gripper;
  if (!replay_) RecordControl(e);
}

// After the physics step: env e's trajectory hash, cerebellum stream, task status, and
// whether its episode ends (slot.ended; FinishEpisode runs later, outside the hooks).
void Runner::AfterStep(int e) {
  Slot& slot = slots_[static_cast<std::size_t>(e)];
  if (!slot.active) return;
  const sim::Model& m = *model_;
  const int substeps = m.physics().control_substeps;
  const double physics_dt = m.physics().timestep;
  const std::size_t D = static_cast<std::size_t>(m.num_dofs());
  EpisodeRecord& r = slot.record;
  const std::size_t Es = static_cast<std::size_t>(e);
  slot.state.resize(static_cast<std::size_t>(sim_->StateSize(sim::kStateAll)));
  sim_->GetState(e, sim::kStateAll, slot.state);
  slot.trajectory.Span(std::span<const double>(slot.state));
  for (int s = 0; s < substeps && !replay_; ++s) {
    r.phys_time.push_back((slot.steps * substeps + s + 1) * physics_dt);
    const std::size_t row = (Es * static_cast<std::size_t>(substeps) + static_cast<std::size_t>(s)) * D;
    Append(r.phys_torques, sim_->substep_torques().subspan(row, D));
    Append(r.phys_q, sim_->substep_positions().subspan(row, D));
    Append(r.phys_qd, sim_->substep_velocities().subspan(row, D));
  }
  ++slot.steps;
  const scenarios::TaskStatus status = scenarios::EvaluateTask(*context_, *sim_, e, slot.setup, slot.steps);
  slot.success_steps = status.success ? slot.success_steps + 1 : 0;
  if (expert_->done(e)) ++slot.steps_after_plan;
  const bool faulted = sim_->faulted()[Es] != 0;
  const bool succeeded = slot.success_steps >= kSuccessHoldSteps && expert_->done(e);
  const bool gave_up = slot.steps_after_plan > kGiveUpStepsAfterPlan;
  const bool end = succeeded || status.timeout || faulted || gave_up;
  // The frame's action and reward: the commanded motion over the frame, the reward after it.
  if (!replay_) {
    const std::size_t f = static_cast<std::size_t>(slot.frame);
    for (int k = 0; k < 6; ++k) r.actions[f * 7 + static_cast<std::size_t>(k)] = static_cast<float>(slot.frame_delta[static_cast<std::size_t>(k)]);
    r.actions[f * 7 + 6] = static_cast<float>(slot.frame_gripper);
    r.rewards[f] = static_cast<float>(status.dense_reward);
    r.sparse_rewards[f] = static_cast<float>(status.sparse_reward);
  }
  if (end) {
    r.success = succeeded;
    r.faulted = faulted;
    if (!replay_) RecordControl(e);  // the final state: N = steps + 1
    slot.ended = true;
  }
}

core::Status Runner::Simulate() {
  const sim::Model& m = *model_;
  const int E = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(config_.envs), std::max<std::uint64_t>(1, queue_.size())));
  PF_ASSIGN_OR_RETURN(sim_, sim::BatchSim::Create(model_, {E, config_.threads, 64}));
  expert_ = std::make_unique<scenarios::Expert>(*context_, E);
  std::vector<render::RenderMeshInput> meshes;
  for (const auto& mesh : m.render_meshes()) meshes.emplace_back(*mesh.mesh, mesh.colour, mesh.texture, mesh.specular);
  render::RenderConfig render_config;
  render_config.device_name = config_.device;
  render_config.validation = config_.validation;
  std::unique_ptr<render::BatchRenderer> renderer;
  if (!replay_) { PF_ASSIGN_OR_RETURN(renderer, render::BatchRenderer::Create(render_config, meshes)); }
  slots_.assign(static_cast<std::size_t>(E), Slot{});
  const std::size_t C = scenario_->cameras.size();
  snapshot_.num_cameras = static_cast<std::uint32_t>(C);
  std::vector<const scenarios::EpisodeSetup*> setups(static_cast<std::size_t>(E));

  max_in_flight_ = static_cast<std::size_t>(2 * E + 2);
  while (true) {
    // Idle slots take the next episodes, as far as the writer keeps up.
    for (int e = 0; e < E && !queue_.empty(); ++e) {
      if (slots_[static_cast<std::size_t>(e)].active || !CanStartEpisode()) continue;
      StartEpisode(e, queue_.front());
      queue_.pop_front();
    }
    bool any = false;
    for (const Slot& slot : slots_) any = any || slot.active;
    if (!any) {
      if (queue_.empty()) break;
      // Every slot idle and the writer behind: wait for it.
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return in_flight_ < max_in_flight_ || write_error_; });
      if (write_error_) return std::unexpected(*write_error_);
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      if (write_error_) return std::unexpected(*write_error_);
    }
    // Brain frames: every env is rendered when any active slot starts a frame; each slot
    // that starts one records its state and views into its own record, in parallel.
    // (Drawing the frame while the envs step, with Submit/Collect, was slower on a 2-core
    // CPU-only machine: lavapipe's threads and the physics threads compete for the cores.)
    bool frame = false;
    for (Slot& slot : slots_) {
      slot.framed = !replay_ && slot.active && slot.steps % brain_period_ == 0;
      frame = frame || slot.framed;
    }
    if (frame) {
      const auto t0 = Clock::now();
      sim_->WriteSnapshot(&snapshot_);
      for (int e = 0; e < E; ++e) setups[static_cast<std::size_t>(e)] = &slots_[static_cast<std::size_t>(e)].setup;
      context_->WriteCameras(*sim_, setups, &snapshot_);
      PF_TRY(renderer->Render(snapshot_));
      const auto t1 = Clock::now();
      sim_->ForEachEnv([&](int e) {
        if (!slots_[static_cast<std::size_t>(e)].framed) return;
        RecordFrameState(e);
        RecordFrameImages(e, *renderer);
      });
      for (const Slot& slot : slots_) frames_recorded_ += slot.framed ? 1 : 0;
      stats_.render_s += Seconds(t0, t1);
      stats_.record_s += Seconds(t1, Clock::now());
      if (bop_) PF_TRY(RenderObjectMasks(*renderer));
    }
    const auto t0 = Clock::now();
    sim_->Step([this](int e) { BeforeStep(e); }, [this](int e) { AfterStep(e); });
    stats_.sim_s += Seconds(t0, Clock::now());
    for (int e = 0; e < E; ++e) {
      Slot& slot = slots_[static_cast<std::size_t>(e)];
      if (slot.active && slot.ended) FinishEpisode(e);
    }
  }
  return core::Ok();
}

core::Status Runner::OpenNextShard() {
  const std::uint64_t index = my_shards_[shard_cursor_];
  OpenShard shard;
  shard.index = index;
  shard.first_episode = index * static_cast<std::uint64_t>(config_.episodes_per_shard);
  shard.end_episode = std::min(config_.episodes, shard.first_episode + static_cast<std::uint64_t>(config_.episodes_per_shard));
  shard.next_episode = shard.first_episode;
  shard.tmp = config_.out / "shards" / StrCat(".tmp-", ShardName(index), "-", ::getpid());
  std::error_code ec;
  fs::remove_all(shard.tmp, ec);
  fs::create_directories(shard.tmp, ec);
  if (ec) return core::Fail(StrCat("cannot create: ", ec.message()), {shard.tmp.string(), 0, 0, ""});
  if (std::find(config_.formats.begin(), config_.formats.end(), "hdf5") != config_.formats.end()) {
    PF_ASSIGN_OR_RETURN(Hdf5EpisodeWriter writer, Hdf5EpisodeWriter::Open(shard.tmp / "episodes.hdf5", layout_));
    shard.hdf5.emplace(std::move(writer));
  }
  if (bop_) {
    PF_ASSIGN_OR_RETURN(BopShardWriter writer, BopShardWriter::Open(shard.tmp, labels_));
    shard.bop.emplace(std::move(writer));
  }
  if (coco_) {
    PF_ASSIGN_OR_RETURN(CocoShardWriter writer,
                        CocoShardWriter::Open(shard.tmp, labels_, bop_ ? CocoImages::kUseBop : CocoImages::kWriteOwn));
    shard.coco.emplace(std::move(writer));
  }
  if (rlds_) {
    PF_ASSIGN_OR_RETURN(RldsShardWriter writer, RldsShardWriter::Open(shard.tmp, labels_));
    shard.rlds.emplace(std::move(writer));
  }
  shard_.emplace(std::move(shard));
  return core::Ok();
}

core::Status Runner::WriteEpisode(EpisodeRecord& r) {
  OpenShard& shard = *shard_;
  shard.successes += r.success ? 1 : 0;
  const bool keep = r.success || config_.keep_failed;
  shard.episodes.push_back({{"episode", r.episode}, {"kept", keep}, {"success", r.success}, {"faulted", r.faulted},
                            {"frames", r.frames}, {"control_steps", r.control_steps},
                            {"trajectory_hash", core::HexU64(r.trajectory_hash)}, {"instruction", r.instruction}});
  if (keep) {
    ++shard.kept;
    shard.frames += static_cast<std::uint64_t>(r.frames);
    if (shard.hdf5) PF_TRY(shard.hdf5->Add(r));
    if (shard.bop) PF_TRY(shard.bop->Add(r));
    if (shard.coco) PF_TRY(shard.coco->Add(r));
    if (shard.rlds) PF_TRY(shard.rlds->Add(r));
  }
  ++shard.next_episode;
  return core::Ok();
}

core::Status Runner::CloseShard() {
  OpenShard& shard = *shard_;
  json files = json::array();
  std::uint64_t bytes = 0;
  std::error_code ec;
  if (shard.hdf5) {
    PF_TRY(shard.hdf5->Finish());
    shard.hdf5.reset();
    const fs::path file = shard.tmp / "episodes.hdf5";
    PF_ASSIGN_OR_RETURN(const std::string sha, Sha256File(file));
    const std::uint64_t size = fs::file_size(file, ec);
    bytes += size;
    files.push_back({{"path", "episodes.hdf5"}, {"bytes", size}, {"sha256", sha}});
  }
  if (shard.bop || shard.coco || shard.rlds) {
    std::vector<ShardFile> written;
    if (shard.bop) {
      PF_ASSIGN_OR_RETURN(auto bop, shard.bop->Finish());
      written.insert(written.end(), bop.begin(), bop.end());
      shard.bop.reset();
    }
    if (shard.coco) {
      PF_ASSIGN_OR_RETURN(auto coco, shard.coco->Finish());
      written.insert(written.end(), coco.begin(), coco.end());
      shard.coco.reset();
    }
    if (shard.rlds) {
      PF_ASSIGN_OR_RETURN(auto rlds, shard.rlds->Finish());
      written.insert(written.end(), rlds.begin(), rlds.end());
      shard.rlds.reset();
    }
    std::sort(written.begin(), written.end(), [](const ShardFile& a, const ShardFile& b) { return a.path < b.path; });
    for (const ShardFile& f : written) {
      bytes += f.bytes;
      files.push_back({{"path", f.path}, {"bytes", f.bytes}, {"sha256", f.sha256}});
    }
  }
  json summary;
  summary["shard"] = shard.index;
  summary["episodes"] = {shard.first_episode, shard.end_episode};
  summary["kept"] = shard.kept;
  summary["successes"] = shard.successes;
  summary["frames"] = shard.frames;
  summary["files"] = files;
  summary["episode_list"] = shard.episodes;
  PF_TRY(WriteFileAtomic(shard.tmp / "shard.json", summary.dump(2) + "\n"));
  PF_TRY(FsyncPath(shard.tmp));
  const fs::path final_dir = config_.out / "shards" / ShardName(shard.index);
  fs::remove_all(final_dir, ec);  // a stale, incomplete one (no shard.json) from a killed run
  if (::rename(shard.tmp.c_str(), final_dir.c_str()) != 0)
    return core::Fail(StrCat("cannot rename into place: ", std::strerror(errno)), {final_dir.string(), 0, 0, ""});
  PF_TRY(FsyncPath(config_.out / "shards"));
  {
    std::lock_guard lock(mutex_);
    stats_.episodes_kept += shard.kept;
    stats_.frames += shard.frames;
    stats_.views += shard.frames * scenario_->cameras.size();
    stats_.bytes += bytes;
    ++stats_.shards_written;
  }
  shard_.reset();
  ++shard_cursor_;
  // Hand the shard's freed memory back to the system.
  ::malloc_trim(0);
  return core::Ok();
}

// Takes finished episodes as they come and writes them in index order: an episode that
// finished early waits in reorder_ until those before it are written.
void Runner::WriterLoop() {
  auto fail = [&](const core::Status& status) {
    std::lock_guard lock(mutex_);
    write_error_ = status.error();
    cv_.notify_all();
  };
  while (true) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return !finished_.empty() || closing_; });
      if (finished_.empty() && closing_) return;
      while (!finished_.empty()) {
        const std::uint64_t index = finished_.front().record().episode;
        reorder_.emplace(index, std::move(finished_.front()));
        finished_.pop_front();
      }
    }
    const auto t0 = Clock::now();
    while (shard_cursor_ < my_shards_.size()) {
      if (!shard_) {
        if (auto status = OpenNextShard(); !status) return fail(status);
      }
      auto next = reorder_.find(shard_->next_episode);
      if (next == reorder_.end()) break;
      core::Status status = WriteEpisode(next->second.record());
      reorder_.erase(next);  // the episode is out of memory now
      {
        std::lock_guard lock(mutex_);
        --in_flight_;
        cv_.notify_all();
      }
      if (!status) return fail(status);
      if (shard_->next_episode == shard_->end_episode) {
        if (auto closed = CloseShard(); !closed) return fail(closed);
      }
    }
    std::lock_guard lock(mutex_);
    stats_.write_s += Seconds(t0, Clock::now());
  }
}

// Back-pressure: a new episode starts only while few enough finished ones wait for the
// writer, so memory is bounded by the number of env slots, not the length of the run.
bool Runner::CanStartEpisode() {
  std::lock_guard lock(mutex_);
  return in_flight_ < max_in_flight_;
}

core::Status Runner::MaybeWriteManifest() {
  const fs::path shards = config_.out / "shards";
  json list = json::array();
  std::uint64_t kept = 0, successes = 0, frames = 0, attempted = 0;
  std::vector<RldsShardInfo> rlds_shards;
  std::error_code ec;
  for (std::uint64_t s = 0; s < num_shards_total_; ++s) {
    const fs::path file = shards / ShardName(s) / "shard.json";
    if (!fs::exists(file, ec)) return core::Ok();  // other processes are still at work
    PF_ASSIGN_OR_RETURN(const ShardSummary shard, ReadShardSummary(file));
    kept += shard.kept;
    successes += shard.successes;
    frames += shard.frames;
    attempted += shard.end_episode - shard.first_episode;
    if (rlds_) {
      RldsShardInfo info;
      info.episodes = shard.kept;
      for (const ShardSummary::File& f : shard.files)
        if (f.path == RldsShardFile(labels_)) info.bytes = f.bytes;
      rlds_shards.push_back(info);
    }
    json files = json::array();
    for (const ShardSummary::File& f : shard.files)
      files.push_back({{"path", StrCat("shards/", ShardName(s), "/", f.path)}, {"bytes", f.bytes}, {"sha256", f.sha256}});
    files.push_back({{"path", StrCat("shards/", ShardName(s), "/shard.json")},
                     {"bytes", shard.text.size()},
                     {"sha256", Sha256Hex(shard.text)}});
    list.push_back({{"shard", s},
                    {"episodes", {shard.first_episode, shard.end_episode}},
                    {"kept", shard.kept},
                    {"successes", shard.successes},
                    {"frames", shard.frames},
                    {"files", files}});
  }
  json manifest = RunSettings();
  manifest["parafab_version"] = PF_VERSION;
  manifest["rates"] = {{"physics_hz", 1.0 / model_->physics().timestep}, {"control_hz", 1.0 / context_->control_dt()},
                       {"brain_hz", config_.brain_hz}};
  manifest["task"] = scenarios::TaskKindName(context_->task().kind);
  json cameras = json::array();
  for (const auto& c : scenario_->cameras)
    cameras.push_back({{"name", c.name}, {"width", c.intrinsics.width}, {"height", c.intrinsics.height}});
  manifest["cameras"] = cameras;
  manifest["conventions"] = Conventions();
  manifest["counts"] = {{"episodes_attempted", attempted}, {"episodes_kept", kept}, {"successes", successes}, {"frames", frames},
                        {"shards", num_shards_total_}};
  manifest["shards"] = list;
  if (rlds_) {
    // TFDS's view of the dataset: the features and the split, at the dataset root.
    json root = json::array();
    PF_ASSIGN_OR_RETURN(const std::string features, RldsFeaturesJson(labels_));
    PF_ASSIGN_OR_RETURN(const std::string info, RldsDatasetInfoJson(labels_, rlds_shards));
    for (const auto& [name, text] : {std::pair<std::string, std::string>{"features.json", features}, {"dataset_info.json", info}}) {
      PF_TRY(WriteFileAtomic(config_.out / name, text));
      root.push_back({{"path", name}, {"bytes", text.size()}, {"sha256", Sha256Hex(text)}});
    }
    manifest["root_files"] = root;
  }
  PF_TRY(WriteFileAtomic(config_.out / "manifest.json", manifest.dump(2) + "\n"));
  stats_.manifest_written = true;
  return core::Ok();
}

core::Result<EpisodeRecord> Runner::Replay(std::uint64_t episode) {
  PF_TRY(Prepare());
  replay_ = true;
  queue_ = {episode};
  episodes_total_ = 1;
  PF_TRY(Simulate());
  if (!replayed_) return core::Fail("the episode did not finish", {config_.out.string(), 0, 0, ""});
  return std::move(*replayed_);
}

core::Result<DatagenStats> Runner::Run() {
  PF_TRY(CheckConfig());
  PF_TRY(Prepare());
  PF_TRY(PrepareOutput());
  const sim::Model& m = *model_;
  json env_args = RunSettings();
  env_args["env_name"] = scenario_->model.name;
  env_args["type"] = "parafab";
  env_args["env_kwargs"] = {{"physics_hz", 1.0 / m.physics().timestep}, {"control_hz", 1.0 / context_->control_dt()},
                            {"brain_hz", config_.brain_hz}, {"task", scenarios::TaskKindName(context_->task().kind)}};
  env_args["conventions"] = Conventions();
  json dofs = json::array(), objects = json::array();
  for (const auto& d : m.dofs()) dofs.push_back(d.name);
  for (const auto& o : m.spec().objects) objects.push_back(o.name);
  env_args["dof_names"] = dofs;
  env_args["object_names"] = objects;
  // Which labels belong to which object: the renderer's instance ids (body index + 1) and
  // the semantic class (id and name) of every object, in object_names order.
  json table = json::array();
  for (int o = 0; o < m.num_objects(); ++o) {
    const sim::ObjectSpec& object = m.spec().objects[static_cast<std::size_t>(o)];
    table.push_back({{"name", object.name}, {"instance_ids", {m.object_body(o) + 1}},
                     {"semantic_class", object.semantic_class}, {"semantic_name", object.semantic_name}});
  }
  env_args["objects"] = table;
  layout_.env_args = env_args.dump();
  layout_.num_dofs = m.num_dofs();
  layout_.num_actuated = m.num_actuated();
  layout_.num_objects = m.num_objects();
  layout_.num_gripper = static_cast<int>(gripper_dofs_.size());
  layout_.state_size = model_ ? static_cast<int>(m.state_size()) : 0;

  for (std::uint64_t s : my_shards_) {
    const std::uint64_t first = s * static_cast<std::uint64_t>(config_.episodes_per_shard);
    const std::uint64_t end = std::min(config_.episodes, first + static_cast<std::uint64_t>(config_.episodes_per_shard));
    for (std::uint64_t e = first; e < end; ++e) queue_.push_back(e);
  }
  episodes_total_ = queue_.size();
  core::Status status = core::Ok();
  if (!queue_.empty()) {
    std::thread writer([this] { WriterLoop(); });
    status = Simulate();
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
      cv_.notify_all();
    }
    writer.join();
    if (status && write_error_) status = std::unexpected(*write_error_);
  }
  PF_TRY(status);
  PF_TRY(MaybeWriteManifest());
  stats_.wall_s = Seconds(start_, Clock::now());
  stats_.peak_episodes_held = held_.peak();
  return stats_;
}

}  // namespace

core::Result<ReplayResult> ReplayEpisode(const fs::path& dataset, std::uint64_t episode, assets::AssetLibrary& library,
                                         const std::string& scenario_override) {
  const fs::path run_file = dataset / "run.json";
  PF_ASSIGN_OR_RETURN(const std::string run_text, ReadText(run_file));
  const json run = json::parse(run_text, nullptr, false);
  if (run.is_discarded() || !run.is_object() || run.value("format", "") != "parafab-dataset")
    return core::Fail("not a parafab dataset's run.json", {run_file.string(), 0, 0, ""});
  DatagenConfig config;
  try {
    config.scenario = scenario_override.empty() ? run.at("scenario").at("source").get<std::string>() : scenario_override;
    config.seed = run.at("seed").get<std::uint64_t>();
    config.episodes = run.at("episodes").get<std::uint64_t>();
    config.episodes_per_shard = run.at("episodes_per_shard").get<int>();
    config.brain_hz = run.at("brain_hz").get<double>();
    config.keep_failed = run.at("keep_failed").get<bool>();
  } catch (const json::exception& e) {
    return core::Fail(StrCat("run.json lacks a field: ", e.what()), {run_file.string(), 0, 0, ""});
  }
  if (config.episodes_per_shard < 1)  // the shard number below divides by it
    return core::Fail(StrCat("episodes_per_shard must be positive, got ", config.episodes_per_shard),
                      {run_file.string(), 0, 0, "episodes_per_shard"});
  if (episode >= config.episodes)
    return core::Fail(StrCat("the dataset has episodes 0 to ", config.episodes - 1), {run_file.string(), 0, 0, "--episode"});
  config.out = dataset;
  config.envs = 1;
  const std::uint64_t shard = episode / static_cast<std::uint64_t>(config.episodes_per_shard);
  const fs::path shard_file = dataset / "shards" / ShardName(shard) / "shard.json";
  PF_ASSIGN_OR_RETURN(const ShardSummary summary, ReadShardSummary(shard_file));
  ReplayResult result;
  result.episode = episode;
  bool found = false;
  for (const ShardSummary::Episode& entry : summary.episodes) {
    if (entry.episode != episode) continue;
    result.recorded_hash = entry.trajectory_hash;
    result.recorded_success = entry.success;
    result.recorded_steps = static_cast<int>(entry.control_steps);
    found = true;
  }
  if (!found) return core::Fail(StrCat("episode ", episode, " is not in the shard"), {shard_file.string(), 0, 0, ""});
  Runner runner(config, library, {});
  PF_ASSIGN_OR_RETURN(const EpisodeRecord record, runner.Replay(episode));
  std::string recorded_scenario;  // absent or not a string: no match
  if (const auto it = run.find("scenario"); it != run.end() && it->is_object())
    if (const auto hash = it->find("hash"); hash != it->end() && hash->is_string()) recorded_scenario = hash->get<std::string>();
  result.scenario_hash_matches = recorded_scenario == runner.ScenarioHash();
  result.replayed_hash = core::HexU64(record.trajectory_hash);
  result.replayed_success = record.success;
  result.replayed_steps = record.control_steps;
  result.match = result.replayed_hash == result.recorded_hash && result.scenario_hash_matches;
  return result;
}

core::Result<double> RenderOnlyFramesPerSecond(const DatagenConfig& config, assets::AssetLibrary& library,
                                               double seconds) {
  PF_ASSIGN_OR_RETURN(scenarios::Scenario scenario, scenarios::LoadScenario(config.scenario, library));
  if (scenario.cameras.empty()) return core::Fail("the scenario has no cameras", {config.scenario, 0, 0, "cameras"});
  PF_ASSIGN_OR_RETURN(auto model, sim::Model::Compile(scenario.model));
  PF_ASSIGN_OR_RETURN(auto context, scenarios::TaskContext::Create(scenario, model));
  const int E = std::max(1, config.envs);
  PF_ASSIGN_OR_RETURN(auto sim, sim::BatchSim::Create(model, {E, config.threads, 64}));
  std::vector<scenarios::EpisodeSetup> setups;
  std::vector<const scenarios::EpisodeSetup*> pointers;
  for (int e = 0; e < E; ++e) {
    PF_ASSIGN_OR_RETURN(auto setup, context.DrawEpisode(config.seed, static_cast<std::uint64_t>(e)));
    setups.push_back(std::move(setup));
  }
  for (int e = 0; e < E; ++e) {
    context.ApplyEpisode(*sim, e, setups[static_cast<std::size_t>(e)]);
    pointers.push_back(&setups[static_cast<std::size_t>(e)]);
  }
  std::vector<render::RenderMeshInput> meshes;
  for (const auto& mesh : model->render_meshes()) meshes.emplace_back(*mesh.mesh, mesh.colour, mesh.texture, mesh.specular);
  render::RenderConfig render_config;
  render_config.device_name = config.device;
  PF_ASSIGN_OR_RETURN(auto renderer, render::BatchRenderer::Create(render_config, meshes));
  core::RenderSnapshot snapshot;
  snapshot.num_cameras = static_cast<std::uint32_t>(scenario.cameras.size());
  sim->WriteSnapshot(&snapshot);
  context.WriteCameras(*sim, pointers, &snapshot);
  PF_TRY(renderer->Render(snapshot));  // warm-up
  int renders = 0;
  const auto start = Clock::now();
  while (renders < 3 || Seconds(start, Clock::now()) < seconds) {
    PF_TRY(renderer->Render(snapshot));
    ++renders;
  }
  return static_cast<double>(renders) * E / Seconds(start, Clock::now());
}

core::Result<DatagenStats> RunDatagen(const DatagenConfig& config, assets::AssetLibrary& library,
                                      const ProgressFn& progress) {
  // glibc gives each new thread its own malloc arena, up to 8 per core, and memory freed in
  // one arena serves only that arena. A process that runs datagen again and again (a soak,
  // a service) held more and wandered more with them: bench soak, datagen runs only, 6 min:
  // 120-122 MB resident with two arenas, 126-134 MB without. The per-step paths allocate
  // nothing, so the lock the threads share is not contended.
#if defined(__GLIBC__)
  static std::once_flag arenas;
  std::call_once(arenas, [] { ::mallopt(M_ARENA_MAX, 2); });
#endif
  core::Result<DatagenStats> result = core::Fail("datagen did not run");
  try {
    Runner runner(config, library, progress);
    result = runner.Run();
  } catch (const std::exception& e) {
    result = core::Fail(StrCat("internal error in datagen: ", e.what()), {config.out.string(), 0, 0, ""});
  }
  // The run's memory, freed with the runner (renderer, simulation, buffers), back to the
  // system: a process that runs datagen again (a soak, a service) does not keep the peak.
  ::malloc_trim(0);
  return result;
}

}  // namespace pf::datagen
