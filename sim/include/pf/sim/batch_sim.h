// BatchSim: N independent environments of one Model, each its own double-precision
// btMultiBodyDynamicsWorld, stepped in parallel. State is mirrored into structure-of-arrays
// buffers with the env index first after every step.
//
// Determinism: env e's trajectory depends only on the Model, its actions and its own
// history, never on the number of envs, threads or where it sits in the batch. At every
// control-step boundary the contact caches are dropped and the overlapping pairs sorted,
// so the full state of an env is exactly what GetState returns: SetState (which builds a
// fresh world) followed by the same actions reproduces a trajectory bit for bit.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "pf/core/result.h"
#include "pf/core/snapshot.h"
#include "pf/sim/model.h"

namespace pf::sim {

struct BatchSimConfig {
  int num_envs = 1;        // environments in the batch
  int threads = 1;         // worker threads for Step (0 = hardware concurrency)
  int max_contacts = 64;   // contacts recorded per env per step (the rest are counted only)
};

// Sections of an env's state, in the order they appear in a state vector.
enum StateMask : std::uint32_t {
  // Poses here are of each body's centre-of-mass principal frame (what Bullet integrates),
  // so a state round-trips bit for bit; body_poses() gives the URDF/object frames.
  kStateRobotBase = 1u << 0,  // per robot: base pose (7: x y z qw qx qy qz) and twist (6: v_W, w_W)
  kStateJoints = 1u << 1,     // per dof: positions [num_dofs], then velocities [num_dofs]
  kStateObjects = 1u << 2,    // per object: pose (7) and twist (6); static objects included
  kStateControl = 1u << 3,    // actions [num_actuated] and the step counter (1)
  kStateAll = 0xFu,
};

// Physical parameters of one env that domain randomization varies. Each vector is either
// empty (keep the Model's values) or has exactly the size given. They take effect when the
// env's world is next built (ResetEnv, SetState) and stay until changed: a fault reset
// keeps them.
struct EnvParams {
  std::vector<double> object_mass;         // [num_objects] kg; static objects (mass 0) stay static
  std::vector<double> object_friction;     // [num_objects] lateral friction, >= 0
  std::vector<double> object_restitution;  // [num_objects] in [0, 1]
  std::vector<double> gain_scale;          // [num_actuated] multiplies the joint's kp and kd
  std::vector<double> joint_damping;       // [num_dofs] passive damping, N m s/rad or N s/m
};

struct Contact {
  int body_a = -1;          // body index (Model::bodies), -1 = ground plane
  int body_b = -1;
  double p_W[3] = {0, 0, 0};     // contact point on body b, world
  double n_W[3] = {0, 0, 1};     // normal pointing from b to a, world
  double normal_force = 0.0;     // N (impulse over the physics step)
  double distance = 0.0;         // m (negative = penetration)
};

class BatchSim {
 public:
  static core::Result<std::unique_ptr<BatchSim>> Create(std::shared_ptr<const Model> model,
                                                        const BatchSimConfig& config);
  ~BatchSim();
  BatchSim(const BatchSim&) = delete;
  BatchSim& operator=(const BatchSim&) = delete;

  const Model& model() const { return *model_; }
  int num_envs() const { return config_.num_envs; }

  // Control targets for the next Step, [num_envs × num_actuated]: positions, velocities or
  // torques per each robot's control mode. Initialised to the initial positions (or zero).
  std::span<double> actions() { return actions_; }
  // One control step (physics.control_substeps physics steps) of every env, in parallel.
  void Step();
  // Per-env work run on the worker thread that steps the env, so a caller's per-env logic
  // (a policy, recording) runs in parallel with no extra pass over the batch.
  using EnvFn = std::function<void(int env)>;
  // Step with hooks: for each env e, before(e) runs right before e's physics (it may write
  // e's row of actions()), after(e) right after e's sensors are read (and, for a faulted
  // env, after its reset to the initial state, so it sees what Step() would leave). A hook
  // may read and write only env e's part of the sim (its rows of actions() and the sensor
  // arrays, contacts(e), GetState(e, ...)) and the caller's own per-env data: hooks of
  // different envs run concurrently, in no defined order. Empty hooks are skipped. The
  // results are the same as calling before(e) for every e, Step(), then after(e).
  void Step(const EnvFn& before, const EnvFn& after);
  // Runs fn(e) for every env on the sim's worker threads (the same rules as Step's hooks).
  void ForEachEnv(const EnvFn& fn);
  // One control step of env `env` alone, on the calling thread, exactly as Step does it
  // (a faulted env is reset and flagged). Calls for distinct envs may run concurrently:
  // each touches only its own world and its own rows of the buffers. Not concurrently with
  // Step, StepRaw, ResetAll or WriteSnapshot.
  void StepEnv(int env);
  // Benchmark baseline: the same worlds stepped through Bullet alone: addJointTorque with
  // the given torques and stepSimulation for every substep; no control law (the position
  // drives are off), no sensors, no fault checks, no contact canonicalization.
  // torques: [num_envs × substeps × num_dofs].
  void StepRaw(std::span<const double> torques);
  // Back to the initial state (a fresh world). Other envs are untouched.
  void ResetEnv(int env);
  void ResetAll();
  // Sets env's physical parameters (see EnvParams); applied at its next world build.
  void SetEnvParams(int env, const EnvParams& params);

  // The Model's initial full state (kStateAll): a template to edit and pass to SetState.
  std::vector<double> InitialState() const;
  // Where a section starts in a full state vector.
  int StateOffset(StateMask section) const;
  // Writes object `object`'s frame pose X_WO (at rest) into a full state vector.
  void SetObjectPoseInState(std::span<double> state, int object, const core::Pose& X_WO) const;

  // Sensors, valid after Create, Step, ResetEnv and SetState.
  std::span<const double> joint_positions() const { return q_; }     // [num_envs × num_dofs]
  std::span<const double> joint_velocities() const { return qd_; }   // [num_envs × num_dofs]
  // The joint torque (N m, or N for prismatic joints) actually applied in the last physics
  // step: controller output (for position control the drive's constraint impulse / dt),
  // gravity compensation, passive damping and friction. [num_envs × num_dofs]
  std::span<const double> applied_torques() const { return tau_; }
  // The same for every physics step of the last Step. [num_envs × control_substeps × num_dofs]
  std::span<const double> substep_torques() const { return substep_tau_; }
  // Joint positions and velocities after every physics step of the last Step.
  // [num_envs × control_substeps × num_dofs]
  std::span<const double> substep_positions() const { return substep_q_; }
  std::span<const double> substep_velocities() const { return substep_qd_; }
  // Pose X_WF of every body frame F (URDF link frame, object frame). [num_envs × num_bodies × 7]
  std::span<const double> body_poses() const { return body_poses_; }
  // Objects' centre-of-mass linear and angular velocity, world frame. [num_envs × num_objects × 6]
  std::span<const double> object_velocities() const { return object_velocities_; }
  std::span<const Contact> contacts(int env) const;   // this step's contacts of env
  // Wrist force/torque: the wrench that contacts exert on each robot's hand (the end-effector
  // link, or its nearest ancestor with collision geometry when it is a bare tool frame) and
  // the links beyond it (fingers), about the end-effector origin, world frame: (f_W, τ_W).
  // Normal and friction forces of the last physics step; the hand's own weight and inertia
  // are not included. [num_envs × num_robots × 6]
  std::span<const double> end_effector_wrenches() const { return ee_wrench_; }
  std::uint64_t step_count(int env) const { return steps_[static_cast<std::size_t>(env)]; }

  // Faults: NaN, inf or a velocity above physics.fault_velocity. The env is reset, flagged
  // for this step, and counted; other envs are untouched.
  std::span<const std::uint8_t> faulted() const { return faulted_; }  // [num_envs], this step
  std::uint64_t fault_count() const { return fault_count_.load(std::memory_order_relaxed); }

  // The first collision shape a ray from p_W to q_W meets in env `env`: an independent
  // truth for labels (the renderer draws visual meshes, this sees collision shapes).
  struct RayHit {
    bool hit = false;
    int body = -1;          // Model::bodies index; -1 = ground plane or no hit
    double fraction = 1.0;  // along the segment, 0 = p_W, 1 = q_W
    core::Vec3 p_W = core::Vec3::Zero();
    core::Vec3 n_W = core::Vec3::Zero();
  };
  RayHit RayCast(int env, const core::Vec3& p_W, const core::Vec3& q_W) const;

  int StateSize(std::uint32_t mask) const;
  void GetState(int env, std::uint32_t mask, std::span<double> out) const;
  void SetState(int env, std::uint32_t mask, std::span<const double> in);
  // Hash of every env's full state (kStateAll), in env order.
  std::uint64_t StateHash() const;
  std::uint64_t EnvStateHash(int env) const;

  // Fills the per-env parts of a RenderSnapshot (instances, poses, segmentation ids).
  void WriteSnapshot(core::RenderSnapshot* snapshot) const;
  // The same for some envs: snapshot env r is env env_ids[r] (the snapshot's env count
  // becomes env_ids.size()). Reads only those envs, so others may be stepping (StepEnv).
  void WriteSnapshot(std::span<const int> env_ids, core::RenderSnapshot* snapshot) const;

 private:
  struct Env;
  BatchSim(std::shared_ptr<const Model> model, const BatchSimConfig& config);
  void BuildEnv(int env, const std::vector<double>& state);  // a fresh world in `state` (kStateAll)
  void PhysicsStep(int env);
  void ReadEnv(int env);
  void CanonicalizeEnv(int env);
  bool EnvIsHealthy(int env) const;

  std::shared_ptr<const Model> model_;
  BatchSimConfig config_;
  std::vector<std::unique_ptr<Env>> envs_;
  std::vector<double> actions_, q_, qd_, tau_, substep_tau_, substep_q_, substep_qd_, body_poses_, object_velocities_, ee_wrench_;
  std::vector<Contact> contacts_;
  std::vector<int> num_contacts_;
  std::vector<std::uint64_t> steps_;
  std::vector<std::uint8_t> faulted_;
  // Per-env physical parameters (EnvParams resolved against the Model).
  std::vector<double> kp_, kd_, damping_;                          // [num_envs × num_dofs]
  std::vector<double> object_mass_, object_friction_, object_restitution_;  // [num_envs × num_objects]
  std::atomic<std::uint64_t> fault_count_{0};
  std::vector<double> initial_state_;  // InitialState(), for fault resets during Step
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

}  // namespace pf::sim
