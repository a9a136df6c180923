// Tasks, cameras, lights and domain randomization of a scenario (scenario.proto, fields
// task, cameras, lights, randomization), compiled into plain C++.
//
// An episode is everything drawn for one (scenario, seed, episode index): the initial
// state, the physical parameters, camera and light jitter, colours, the task's goal and its
// instruction. DrawEpisode makes it from the counter-based generator only, so the same
// triple gives the same episode in any batch, on any thread, on any shard.
//
// A task's success is judged from the simulated state (EvaluateTask), never from what the
// scripted expert (expert.h) believes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pf/core/math.h"
#include "pf/core/result.h"
#include "pf/core/snapshot.h"
#include "pf/sim/batch_sim.h"

namespace pf::scenarios {

struct Scenario;

// A closed interval.
struct RangeSpec {
  double min = 0.0;
  double max = 0.0;
};

// An axis-aligned box in the world frame.
struct RegionSpec {
  core::Vec3 min = core::Vec3::Zero();
  core::Vec3 max = core::Vec3::Zero();
  bool Contains(const core::Vec3& p, double margin = 0.0) const {
    return (p.array() >= min.array() - margin).all() && (p.array() <= max.array() + margin).all();
  }
};

enum class TaskKind { kReach, kPickPlace, kStack, kBinPick };
const char* TaskKindName(TaskKind kind);  // "reach", "pick_place", "stack", "bin_pick"

struct TaskSpec {
  TaskKind kind = TaskKind::kReach;
  int robot = 0;               // robot index
  double time_limit = 6.0;     // seconds of simulated time
  int max_steps = 0;           // control steps in the time limit (rounded up)
  double tolerance = 0.02;     // reach: success radius (m)
  RegionSpec target;           // reach: target region; pick_place: goal region (when tray < 0)
  int tray = -1;               // pick_place: object index of the tray, or -1; bin_pick: the goal bin
  int source = -1;             // bin_pick: object index of the bin the objects start in
  std::string goal_description;  // pick_place: how instructions name the goal ("" = derived)
  std::vector<int> objects;    // pick_place, bin_pick: candidates; stack: the cubes (object indices)
  int height = 2;              // stack: cubes in the finished stack
  std::vector<std::string> instructions;  // templates ({object}, {goal}, {source}, {base}, {target})
};

struct CameraSpec {
  std::string name;
  core::CameraIntrinsics intrinsics;  // width, height, fx, fy, cx, cy, near, far
  core::Pose X_PC = core::Pose::Identity();  // camera (OpenCV axes) in its parent: world or a link
  int attach_robot = -1;              // robot index of the link it rides, or -1 (world)
  int attach_link = -1;               // link index in that robot
};

struct LightSpec {
  core::Vec3 direction = core::Vec3(0.3, 0.2, -1.0).normalized();  // from the light into the scene
  core::Vec3 colour = core::Vec3::Ones();
  double intensity = 1.0;
  double ambient = 0.3;
};

struct PlacementSpec {
  std::vector<int> objects;  // object indices
  RegionSpec region;
  RangeSpec yaw{-3.141592653589793, 3.141592653589793};
  double clearance = 0.01;
};

struct ObjectPhysicsSpec {
  std::vector<int> objects;  // object indices (every movable one when the file listed none)
  std::optional<RangeSpec> mass_scale, friction, restitution;
};

struct RandomizationSpec {
  std::vector<PlacementSpec> placements;
  std::vector<ObjectPhysicsSpec> object_physics;
  std::optional<RangeSpec> gain_scale;     // multiplies kp, kd
  std::optional<RangeSpec> joint_damping;  // added passive damping
  double camera_position = 0.0;            // metres per axis
  double camera_rotation = 0.0;            // radians
  std::optional<RangeSpec> fov_scale;
  double light_direction = 0.0;            // radians
  std::optional<RangeSpec> light_intensity, light_ambient;
  double light_colour = 0.0;
  std::vector<int> colour_objects;         // objects whose colours vary
  double hue = 0.0;                        // turns
  std::optional<RangeSpec> saturation, value;
};

// One episode's draws. Provenance: `draws` lists every drawn value by name, in draw order.
struct EpisodeSetup {
  std::uint64_t seed = 0;
  std::uint64_t episode = 0;
  std::vector<double> initial_state;  // full sim state (kStateAll) to start from
  sim::EnvParams params;
  std::vector<core::Pose> object_poses;        // [num_objects] X_WO at the start
  std::vector<core::Vec4> object_colours;      // [num_objects] linear RGBA
  std::vector<CameraSpec> cameras;             // jittered
  std::vector<LightSpec> lights;               // jittered
  // Task: the object to pick (pick_place), the stack order (stack: bottom first), the goal
  // point (reach target; pick_place: centre of the goal on its support surface).
  int object = -1;
  std::vector<int> stack;
  core::Vec3 goal = core::Vec3::Zero();
  std::string instruction;
  std::vector<std::pair<std::string, double>> draws;
};

// Everything fixed about a task for one Model: the specs plus derived geometry.
class TaskContext {
 public:
  // Checks the scenario's task against the compiled model (sizes, indices).
  static core::Result<TaskContext> Create(const Scenario& scenario, std::shared_ptr<const sim::Model> model);

  const Scenario& scenario() const { return *scenario_; }
  const sim::Model& model() const { return *model_; }
  const TaskSpec& task() const { return task_; }
  double control_dt() const;

  // The episode for (seed, episode index). Fails only when a placement cannot be found
  // (the regions are too small for the objects) after many attempts.
  core::Result<EpisodeSetup> DrawEpisode(std::uint64_t seed, std::uint64_t episode) const;

  // Puts env `env` of `sim` into the episode's initial state and parameters.
  void ApplyEpisode(sim::BatchSim& sim, int env, const EpisodeSetup& setup) const;

  // Half extents of object o's bounding box in its own frame (primitives), metres.
  core::Vec3 ObjectHalfExtents(int object) const;
  // How instructions name object o with its drawn colour: "red cube".
  std::string ObjectPhrase(int object, const core::Vec4& colour) const;

  // Fills the cameras (intrinsics, X_WC for every env's episode) and lights of a snapshot.
  // snapshot must already be Resize()d to the sim's envs, bodies and this scenario's cameras.
  void WriteCameras(const sim::BatchSim& sim, const std::vector<const EpisodeSetup*>& episodes,
                    core::RenderSnapshot* snapshot) const;
  // The same for some envs (see BatchSim::WriteSnapshot with env ids): snapshot env r is
  // sim env env_ids[r] in episode *episodes[r].
  void WriteCameras(const sim::BatchSim& sim, std::span<const int> env_ids,
                    std::span<const EpisodeSetup* const> episodes, core::RenderSnapshot* snapshot) const;

 private:
  const Scenario* scenario_ = nullptr;
  std::shared_ptr<const sim::Model> model_;
  TaskSpec task_;
  std::unique_ptr<sim::BatchSim> probe_;  // one env: the state layout for initial states
};

// The task's view of an env after a step.
struct TaskStatus {
  double dense_reward = 0.0;   // shaped progress, higher is better, in [0, 1] per step
  double sparse_reward = 0.0;  // 1 when successful, else 0
  bool success = false;        // the predicate holds now
  bool timeout = false;        // step >= max_steps
};

// step = control steps since the episode started.
TaskStatus EvaluateTask(const TaskContext& context, const sim::BatchSim& sim, int env, const EpisodeSetup& setup,
                        int step);

}  // namespace pf::scenarios
