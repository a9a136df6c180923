// Scripted experts: one per task kind, closed-loop on the simulated state.
//
// Each control step the expert reads the env's state, picks the current waypoint of its
// plan (pre-grasp, approach, grasp, lift, transport, place, release, retreat; for reach
// just the target) and commands a Cartesian step towards it, limited in speed, through
// damped-least-squares IK (sim/controllers.h). It writes the joint targets (the
// cerebellum stream) into the sim's actions and returns the end-effector action (the
// brain stream). Grasps come from above with the fingers closing across the part's
// narrower horizontal extent; transport runs at a height clear of every object.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pf/scenarios/task.h"
#include "pf/sim/batch_sim.h"
#include "pf/sim/controllers.h"

namespace pf::scenarios {

struct ExpertConfig {
  double max_speed = 0.25;          // m/s of the tool point
  double max_rotation_speed = 1.5;  // rad/s of the tool
  double slow_speed = 0.12;         // m/s for the last centimetres of approach and placing
  double approach_height = 0.08;    // m above a part's top before descending onto it
  double clearance = 0.08;          // m over the tallest movable object while transporting
  double position_tolerance = 0.004;  // m: a waypoint is reached within this ...
  double rotation_tolerance = 0.05;   // rad: ... and this
  double grasp_time = 0.35;         // s the gripper closes before lifting
  double release_time = 0.3;        // s the gripper opens before retreating
  double grip_squeeze = 0.06;       // m the closing finger target goes past the part (sets the force)
  int max_waypoint_steps = 400;     // control steps before an unreached waypoint is given up
};

// The brain-stream action of one control step: the commanded tool motion and the gripper.
struct ExpertAction {
  std::array<double, 6> delta_W{};  // translation (m) and rotation vector (rad) this step, world frame
  double gripper = 0.0;             // 0 = open, 1 = closed
  int phase = 0;                    // the plan's phase (ExpertPhase)
};

enum class ExpertPhase : int {
  kMoveAbove = 0, kDescend = 1, kGrasp = 2, kLift = 3, kTransport = 4, kLower = 5, kRelease = 6, kRetreat = 7,
  kReach = 8, kDone = 9,
};
const char* ExpertPhaseName(ExpertPhase phase);

class Expert {
 public:
  // One slot per env of the sim the expert drives.
  Expert(const TaskContext& context, int num_envs, const ExpertConfig& config = {});

  // Starts env's plan for an episode (call after TaskContext::ApplyEpisode).
  void Reset(const sim::BatchSim& sim, int env, const EpisodeSetup& setup);
  // Writes env's joint targets into sim.actions() and returns what it commanded. Reads and
  // writes only env's slot and env's part of the sim: calls for distinct envs may run
  // concurrently (e.g. as BatchSim::Step hooks).
  ExpertAction Act(sim::BatchSim& sim, int env);
  // The plan is through (the task may or may not have succeeded: EvaluateTask judges).
  bool done(int env) const { return slots_[static_cast<std::size_t>(env)].phase == ExpertPhase::kDone; }
  ExpertPhase phase(int env) const { return slots_[static_cast<std::size_t>(env)].phase; }

 private:
  struct Slot {
    const EpisodeSetup* setup = nullptr;
    ExpertPhase phase = ExpertPhase::kDone;
    int part = 0;           // pick index: 0 for pick_place, 1.. for stack layers
    int steps_in_phase = 0;
    core::Pose target = core::Pose::Identity();   // tool target of the phase
    core::Pose command = core::Pose::Identity();  // commanded tool pose, moving towards the target
    double gripper = 0.0;
    double grasp_offset_z = 0.0;  // tool z minus part z while carried
    core::Vec3 last_p = core::Vec3::Zero();  // tool position at the last stall check
    int still_steps = 0;                     // control steps the tool has barely moved
    // Set by Reset from the env's own episode (per slot, so envs never see each other's).
    core::Mat3 R_home = core::Mat3::Identity();        // tool orientation at the initial state
    core::Vec3 closing_axis_T = core::Vec3::UnitY();   // finger closing direction in the tool frame
    double transport_z = 0.0;                          // carrying height clear of every part
  };
  void Enter(const sim::BatchSim& sim, int env, Slot& slot, ExpertPhase phase);
  int PartToPick(const Slot& slot) const;
  core::Pose GraspRotation(const sim::BatchSim& sim, int env, const Slot& slot, int object) const;

  const TaskContext& context_;
  ExpertConfig config_;
  std::vector<Slot> slots_;
  std::vector<sim::GripperJoint> grippers_;  // the robot's finger joints
  std::vector<double> posture_;       // [num_actuated] preferred posture: the initial joint positions
};

// The expert on `episodes` episodes (0, 1, ... of `seed`), `envs` at a time: an episode
// succeeds when the task predicate holds for 10 consecutive control steps once the
// expert's plan is through, and fails at the time limit or on a simulation fault.
struct ExpertEvaluation {
  int episodes = 0;
  int successes = 0;
  double mean_steps = 0.0;                 // control steps per episode
  double control_dt = 0.0;                 // seconds per control step
  std::vector<std::uint64_t> failed;       // episode indices
  std::vector<std::string> failed_phases;  // the expert's phase when each failed
};
core::Result<ExpertEvaluation> EvaluateExpert(const Scenario& scenario, int episodes, int envs, std::uint64_t seed,
                                              int threads = 0);

}  // namespace pf::scenarios
