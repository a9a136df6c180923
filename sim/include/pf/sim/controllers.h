// Controllers above the joint level.
//
// End-effector delta pose: damped-least-squares differential IK. A commanded change of the
// end-effector pose (world frame) becomes joint position targets for the joints on the
// chain from the robot's base to its end-effector link; the robot's joint PD controller
// then tracks them. Used at the control rate (brain-stream actions: xyz, rotation, gripper).
#pragma once

#include <span>
#include <vector>

#include "pf/sim/batch_sim.h"

namespace pf::sim {

struct IkConfig {
  double damping = 0.05;          // λ of (J Jᵀ + λ² I)⁻¹, metres / radians
  double max_joint_step = 0.2;    // largest change of one joint target per call (rad or m)
  // Redundant arms: a preferred posture, [num_actuated] like actions (entries off the chain
  // are ignored); empty = none. Each call moves the chain's joints towards it by
  // posture_gain of the way, within the null space of the end-effector task, so the tool
  // motion is unchanged while the elbow does not drift.
  std::span<const double> posture;
  double posture_gain = 0.05;
};

// Joint position targets that move robot `robot` of env `env` by delta_W = (dx, dy, dz,
// rx, ry, rz): a translation of the end-effector origin and a rotation vector (axis·angle),
// both in world coordinates. Writes the targets of the chain's actuated joints into
// `actions` ([num_actuated] of this env, as in BatchSim::actions()) and leaves the other
// entries (gripper) untouched. Targets are clamped into the joint limits.
void EndEffectorDeltaToJointTargets(const BatchSim& sim, int env, int robot, std::span<const double, 6> delta_W,
                                    std::span<double> actions, const IkConfig& config = {});

// Differential IK on the commanded configuration (kinematics only, no measured state):
// `actions` ([num_actuated], one env's joint targets) are read as the current command and
// moved by `iterations` damped-least-squares steps so the end effector, at the commanded
// configuration, approaches X_WE_target. Joint friction and tracking lag do not feed back
// into the command, so it does not drift; the joint PD then tracks it. Fixed-base robots
// only (the base is at the model's X_WB). Gripper entries are left untouched.
void JointTargetsTowardsPose(const Model& model, int robot, const core::Pose& X_WE_target, std::span<double> actions,
                             const IkConfig& config = {}, int iterations = 1);

// Pose X_WE of robot's end effector at the configuration given by joint targets `actions`.
core::Pose CommandedEndEffectorPose(const Model& model, int robot, std::span<const double> actions);

// Pose X_WE of a robot's end-effector body in env `env`.
core::Pose EndEffectorPose(const BatchSim& sim, int env, int robot);

// A gripper finger: an actuated prismatic joint of the robot off the chain from its base to
// its end effector.
struct GripperJoint {
  int action = -1;      // index into an env's actions
  int dof = -1;         // index into Model::dofs
  double open = 0.04;   // position target when open (the upper limit, when limited)
  double closed = 0.0;  // fully closed (the lower limit, when limited)
};
std::vector<GripperJoint> GripperJoints(const Model& model, int robot);

}  // namespace pf::sim
