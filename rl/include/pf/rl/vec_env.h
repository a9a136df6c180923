// pf::VecEnv: a batched environment for training loops (reinforcement learning, behaviour
// cloning roll-outs, evaluation), over one scenario's task.
//
//   auto env = pf::VecEnv::Create("builtin://reach", {.num_envs = 64, .threads = 2});
//   pf::StepResult r = env->Reset();
//   while (...) {
//     policy(r.state, actions);                 // [num_envs × action_dim]
//     r = env->Step(actions).value();           // or Send(actions, ids) + Recv()
//   }
//
// Semantics are Gymnasium's vector environments (same-step auto-reset):
//  * terminated: the task's success predicate holds (the task's terminal state);
//    truncated: the episode reached max_episode_steps, or the simulation faulted.
//  * With auto_reset, an env whose episode ended starts its next episode in the same step:
//    its row of `state`/`pixels` is the new episode's first observation, and the finished
//    episode's last observation is in `final_state`/`final_pixels` (rows of envs that did not
//    end hold their current observation there too). Without auto_reset, an ended env must
//    be given to ResetEnvs before it is stepped again.
//  * Episodes are seeded, never drawn from time: env i's k-th episode (k = 0, 1, ... since
//    the last Reset) is episode i + k·num_envs of (scenario, seed), drawn by
//    scenarios::TaskContext::DrawEpisode. A rollout therefore depends only on the scenario,
//    the seed and the actions each env received, whatever the thread count, the batch size
//    or whether it ran synchronously or asynchronously.
//
// Buffers are contiguous with the env (or batch row) first and returned as views into
// memory the VecEnv owns; a view stays valid until the next call that returns a StepResult.
// Steady-state Step/Send/Recv allocate nothing; an episode reset draws a new episode and
// rebuilds that env's physics world (that allocates, once per episode).
//
// Threads: `threads` workers step the envs (the physics, the action transform, the task's
// reward and success). Send returns at once; the workers step the envs while the caller
// computes the next actions for others (EnvPool's asynchronous mode). The VecEnv itself is
// not thread-safe: one caller thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pf/core/result.h"

namespace pf::rl {

enum class ObservationMode { kState, kPixels, kBoth };
enum class ActionMode {
  kJointPosition,     // absolute joint position targets, [num_actuated], within the joint limits
  kJointVelocity,     // joint velocities (rad/s, m/s) integrated into the position targets
  kEndEffectorDelta,  // (dx, dy, dz, rx, ry, rz, gripper) in [-1, 1], scaled (see VecEnvConfig)
};
enum class RewardMode { kDense, kSparse };

const char* ObservationModeName(ObservationMode mode);  // "state", "pixels", "both"
const char* ActionModeName(ActionMode mode);            // "joint_position", "joint_velocity", "ee_delta"

struct VecEnvConfig {
  int num_envs = 1;                 // environments stepped together
  int threads = 1;                  // worker threads stepping envs (0 = hardware concurrency)
  std::uint64_t seed = 0;           // episode draws (see the header comment)
  int max_episode_steps = 0;        // control steps before truncation (0 = the task's time limit)
  ObservationMode observation = ObservationMode::kState;
  ActionMode action = ActionMode::kEndEffectorDelta;
  // dense: a per-step cost in [-1, 0], the task's shaped reward (in [0, 1]) minus 1, and 0
  // at success, so succeeding sooner is always better; sparse: 1 at success, else 0.
  RewardMode reward = RewardMode::kDense;
  bool auto_reset = true;           // ended envs start their next episode in the same step
  int batch_size = 0;               // envs per Recv in asynchronous use (0 = num_envs)
  double max_translation = 0.02;    // kEndEffectorDelta: metres per control step at |action| = 1
  double max_rotation = 0.1;        // kEndEffectorDelta: radians per control step at |action| = 1
  double max_lead = 0.05;           // kEndEffectorDelta: how far (m) the commanded tool may lead the measured one
  double max_joint_velocity = 1.0;  // kJointVelocity: bound (rad/s or m/s) where the URDF gives none lower
  std::string render_device;        // pixels: Vulkan device name substring ("" = best available)
  bool render_validation = false;   // pixels: Vulkan validation layer on (messages are counted)
  std::vector<std::string> asset_roots;  // folders scenario files may reference assets in
};

enum class DType { kFloat32, kUInt8 };
const char* DTypeName(DType dtype);  // "float32", "uint8"

// A named slice of a flat per-env vector.
struct FieldSpec {
  std::string name;
  int offset = 0;  // first element
  int size = 0;    // elements
};

// Shape, dtype and bounds of one per-env tensor (the batch dimension is not included).
struct TensorSpec {
  std::string name;
  std::vector<std::int64_t> shape;
  DType dtype = DType::kFloat32;
  std::vector<double> low, high;  // per element (flattened), ±inf where unbounded; empty for images (0..255)
  std::vector<FieldSpec> fields;  // what the elements of a flat vector mean, in order
  std::int64_t size() const;      // elements per env
};

// One env's statistics of its last finished episode.
struct EpisodeStats {
  std::uint64_t episode = 0;  // episode index (the draw)
  double total_reward = 0.0;
  int length = 0;             // control steps
  bool success = false;       // the success predicate held at the end
  bool truncated = false;
};

// What a Reset, Step or Recv returns: `batch` rows, row r being env env_ids[r]. Views into
// buffers the VecEnv owns, valid until the next Reset, ResetEnvs, Step or Recv.
struct StepResult {
  int batch = 0;
  std::span<const std::int32_t> env_ids;     // [batch]
  std::span<const float> state;              // [batch × state_dim] (empty without state observations)
  std::span<const std::uint8_t> pixels;      // [batch × num_cameras × H × W × 3] RGB (empty without pixels)
  std::span<const float> reward;             // [batch]
  std::span<const std::uint8_t> terminated;  // [batch] 0 or 1
  std::span<const std::uint8_t> truncated;   // [batch] 0 or 1
  std::span<const std::uint8_t> success;     // [batch] the task's success predicate after this step
  std::span<const float> final_state;        // [batch × state_dim] last observation of an ended episode
  std::span<const std::uint8_t> final_pixels;  // [batch × num_cameras × H × W × 3]
  std::span<const std::uint64_t> episode;    // [batch] episode index of the observation in `state`
  std::span<const std::int32_t> elapsed_steps;  // [batch] control steps into that episode
  // Rows that ended (terminated or truncated): that episode's statistics.
  std::span<const EpisodeStats> finished;    // [batch], meaningful where terminated or truncated
};

class VecEnv {
 public:
  // Loads the scenario (a file or builtin://NAME; URDF paths resolve inside the asset
  // roots: the file's folder, PARAFAB_ASSET_PATH and config.asset_roots) and checks the
  // config. The scenario must have a task; pixel observations need at least one camera.
  // Every env is then in its first episode, as after Reset(): stepping may begin at once.
  //
  // The state observation (float32, see state_spec().fields): joint_positions,
  // joint_velocities [num_dofs]; ee_pose (x y z qw qx qy qz, world); goal_position and
  // goal_minus_ee (3 each); for tasks that move objects (pick_place, stack) also
  // task_object_pose (the part to pick next, 7) and object_poses (every movable object, 7
  // each); time_fraction (elapsed / max_episode_steps, in [0, 1]).
  static core::Result<std::unique_ptr<VecEnv>> Create(const std::string& scenario, const VecEnvConfig& config);
  ~VecEnv();
  VecEnv(const VecEnv&) = delete;
  VecEnv& operator=(const VecEnv&) = delete;

  const VecEnvConfig& config() const;
  int num_envs() const;
  int batch_size() const;          // envs per Recv
  const TensorSpec& state_spec() const;   // float32 [state_dim] (see its fields)
  const TensorSpec& pixels_spec() const;  // uint8 [num_cameras, H, W, 3]
  const TensorSpec& action_spec() const;  // float32 [action_dim]
  int state_dim() const;
  int action_dim() const;
  double control_dt() const;       // simulated seconds per Step
  int max_episode_steps() const;
  std::string task_name() const;   // "reach", "pick_place", "stack"
  // The language instruction of env's current episode.
  const std::string& instruction(int env) const;
  // Statistics of env's last finished episode (episode 0, length 0 before any).
  const EpisodeStats& last_episode(int env) const;
  std::uint64_t episodes_finished() const;  // since the last Reset, all envs
  std::uint64_t faults() const;             // simulation faults since Create
  // Pixels with render_validation: Vulkan validation warnings + errors since Create (-1 when
  // the layer is not loaded or nothing renders).
  std::int64_t validation_messages() const;

  // Starts every env's first episode (episode indices restart at env i = episode i). Waits
  // for envs still in flight. Rows are in env order.
  StepResult Reset();
  // Same with a new seed.
  StepResult Reset(std::uint64_t seed);
  // Starts the next episode of the listed envs (none may be in flight). Rows follow env_ids.
  core::Result<StepResult> ResetEnvs(std::span<const std::int32_t> env_ids);

  // Synchronous: one control step of every env. actions: [num_envs × action_dim]. Refused
  // (nothing stepped) when the size is wrong, a value is NaN or infinite, or an env is still
  // in flight from a Send. Rows are in env order.
  core::Result<StepResult> Step(std::span<const float> actions);

  // Asynchronous: queues one control step of each listed env with its row of actions
  // ([env_ids.size() × action_dim]) and returns at once. Refused (nothing queued) on a wrong
  // size, a non-finite value, an env id out of range, repeated or already in flight.
  core::Status Send(std::span<const float> actions, std::span<const std::int32_t> env_ids);
  // Waits for the first batch_size envs to finish their steps and returns them, in the
  // order they finished. Fails when fewer than batch_size envs are in flight or ready.
  core::Result<StepResult> Recv();
  int in_flight() const;  // envs sent and not yet returned by Recv

 private:
  struct Impl;
  explicit VecEnv(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pf::rl

namespace pf {
using rl::ActionMode;
using rl::EpisodeStats;
using rl::ObservationMode;
using rl::RewardMode;
using rl::StepResult;
using rl::TensorSpec;
using rl::VecEnv;
using rl::VecEnvConfig;
}  // namespace pf
