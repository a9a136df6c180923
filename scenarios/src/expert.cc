#include "pf/scenarios/expert.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "pf/core/check.h"
#include "pf/scenarios/scenario.h"
#include "pf/sim/controllers.h"

namespace pf::scenarios {
namespace {

core::Pose BodyPose(const sim::BatchSim& sim, int env, int body) {
  return core::PoseFromArray(sim.body_poses().data() +
                             (static_cast<std::size_t>(env) * static_cast<std::size_t>(sim.model().num_bodies()) +
                              static_cast<std::size_t>(body)) * 7);
}

// Rotation vector of R (axis · angle).
core::Vec3 RotationVector(const core::Mat3& R) {
  const core::AngleAxis aa(R);
  return aa.axis() * aa.angle();
}

}  // namespace

const char* ExpertPhaseName(ExpertPhase phase) {
  switch (phase) {
    case ExpertPhase::kMoveAbove: return "move_above";
    case ExpertPhase::kDescend: return "descend";
    case ExpertPhase::kGrasp: return "grasp";
    case ExpertPhase::kLift: return "lift";
    case ExpertPhase::kTransport: return "transport";
    case ExpertPhase::kLower: return "lower";
    case ExpertPhase::kRelease: return "release";
    case ExpertPhase::kRetreat: return "retreat";
    case ExpertPhase::kReach: return "reach";
    case ExpertPhase::kDone: return "done";
  }
  return "unknown";
}

Expert::Expert(const TaskContext& context, int num_envs, const ExpertConfig& config)
    : context_(context), config_(config), slots_(static_cast<std::size_t>(num_envs)) {
  const sim::Model& m = context.model();
  const int robot = context.task().robot;
  posture_.assign(static_cast<std::size_t>(m.num_actuated()), 0.0);
  for (int a = 0; a < m.num_actuated(); ++a)
    posture_[static_cast<std::size_t>(a)] = m.dofs()[static_cast<std::size_t>(m.actuated()[static_cast<std::size_t>(a)])].initial_position;
  // The gripper: the robot's actuated prismatic dofs off the chain from base to tool.
  grippers_ = sim::GripperJoints(m, robot);
}

int Expert::PartToPick(const Slot& slot) const {
  return context_.task().kind == TaskKind::kStack ? slot.setup->stack[static_cast<std::size_t>(slot.part)]
                                                  : slot.setup->object;
}

// Tool orientation for a top-down grasp of `object`: the home orientation turned about
// world z so that the fingers close across the part. Collision-aware: each candidate
// closing direction (a box's two horizontal axes, its narrower one preferred; any
// direction in 15° steps for round parts) is scored by how far the two open fingers,
// beside the part, stay from the other parts' footprints and from static obstacles
// standing above the part's support (bin walls); the narrower axis of a box wins unless
// its fingers would come within 1.5 cm of something the other axis keeps clear of.
core::Pose Expert::GraspRotation(const sim::BatchSim& sim, int env, const Slot& slot, int object) const {
  const sim::ModelSpec& spec = context_.scenario().model;
  const sim::ObjectSpec& part = spec.objects[static_cast<std::size_t>(object)];
  const sim::Model& m = context_.model();
  const core::Pose X_WO = BodyPose(sim, env, m.object_body(object));
  const core::Vec3 h = context_.ObjectHalfExtents(object);
  const core::Vec3 closing_W = slot.R_home * slot.closing_axis_T;
  const double closing_yaw = std::atan2(closing_W.y(), closing_W.x());
  // The fingers' reach beyond the part's centre when open, and their own half thickness.
  double open_half = 0.04;
  if (!grippers_.empty()) open_half = std::abs(grippers_.front().open - grippers_.front().closed);
  constexpr double kFingerHalf = 0.01;
  const core::Vec2 centre = X_WO.translation().head<2>();
  const double bottom = X_WO.translation().z() - (X_WO.rotation().cwiseAbs() * h).z();
  // Clearance of a finger at p from everything else.
  auto clearance = [&](const core::Vec2& p) {
    double best = 1e9;
    for (int o = 0; o < m.num_objects(); ++o) {
      if (o == object) continue;
      const sim::ObjectSpec& other = spec.objects[static_cast<std::size_t>(o)];
      const core::Pose X = BodyPose(sim, env, m.object_body(o));
      const core::Vec3 e = X.rotation().cwiseAbs() * context_.ObjectHalfExtents(o);
      if (other.mass > 0.0) {
        best = std::min(best, (p - X.translation().head<2>()).norm() - std::hypot(e.x(), e.y()));
      } else if (X.translation().z() + e.z() > bottom + 0.005 && X.translation().z() - e.z() < bottom + 0.005) {
        const double dx = std::max({X.translation().x() - e.x() - p.x(), 0.0, p.x() - X.translation().x() - e.x()});
        const double dy = std::max({X.translation().y() - e.y() - p.y(), 0.0, p.y() - X.translation().y() - e.y()});
        best = std::min(best, std::hypot(dx, dy));
      }
    }
    return best - kFingerHalf;
  };
  struct Candidate {
    double yaw;      // closing direction in the world
    double width;    // part half width along it
    bool preferred;  // a box's narrower axis
  };
  std::vector<Candidate> candidates;
  if (part.shape == sim::ObjectShape::kBox) {
    for (int axis = 0; axis < 2; ++axis) {
      const core::Vec3 a = X_WO.rotation().col(axis);
      const double width = axis == 0 ? h.x() : h.y();
      if (width >= open_half - 0.003) continue;  // too wide for the open fingers
      const double other = axis == 0 ? h.y() : h.x();
      const double yaw = std::atan2(a.y(), a.x());
      // Square footprint: either axis, the one the hand turns less to.
      const bool preferred = width < other - 1e-6 ||
                             (std::abs(width - other) <= 1e-6 &&
                              std::abs(std::remainder(yaw - closing_yaw, std::numbers::pi)) <= std::numbers::pi / 4 + 1e-9);
      candidates.push_back({yaw, width, preferred});
    }
  } else {
    for (int k = 0; k < 12; ++k) candidates.push_back({closing_yaw + k * std::numbers::pi / 12.0, h.x(), k == 0});
  }
  core::Pose X = core::Pose::Identity();
  X.linear() = slot.R_home;
  if (candidates.empty()) return X;
  double best_score = -1e9, best_yaw = candidates.front().yaw;
  for (const Candidate& c : candidates) {
    const core::Vec2 d(std::cos(c.yaw), std::sin(c.yaw));
    const double reach = std::max(open_half, c.width + 0.005) + kFingerHalf;
    const double free = std::min(clearance(centre + reach * d), clearance(centre - reach * d));
    // Preferred candidates win while they leave 1.5 cm, the others must do better.
    const double score = std::min(free, 0.015) + (c.preferred ? 1e-3 : 0.0);
    if (score > best_score + 1e-12) {
      best_score = score;
      best_yaw = c.yaw;
    }
  }
  // Closing along +a or -a is the same grasp: keep the turn within ±90°.
  const double turn = std::remainder(best_yaw - closing_yaw, std::numbers::pi);
  X.linear() = core::AngleAxis(turn, core::Vec3::UnitZ()).toRotationMatrix() * slot.R_home;
  return X;
}

void Expert::Reset(const sim::BatchSim& sim, int env, const EpisodeSetup& setup) {
  Slot& slot = slots_[static_cast<std::size_t>(env)];
  slot = Slot{};
  slot.setup = &setup;
  const sim::Model& m = context_.model();
  const int robot = context_.task().robot;
  const core::Pose X_WT = sim::EndEffectorPose(sim, env, robot);
  slot.R_home = X_WT.rotation();
  // The fingers' closing direction, in the tool frame (from the first finger's joint axis).
  if (!grippers_.empty()) {
    const int dof = grippers_.front().dof;
    const sim::DofInfo& info = m.dofs()[static_cast<std::size_t>(dof)];
    const assets::RobotDesc& desc = m.spec().robots[static_cast<std::size_t>(robot)].robot->desc;
    const core::Pose X_WF = BodyPose(sim, env, m.robot_first_body(robot) + info.link);
    slot.closing_axis_T = X_WT.rotation().transpose() * (X_WF.rotation() * desc.joints[static_cast<std::size_t>(info.joint)].axis);
  }
  // Transport height: clear of every movable part at the start, carrying the tallest.
  double top = 0.0, tallest = 0.0;
  for (int o = 0; o < m.num_objects(); ++o) {
    const sim::ObjectSpec& spec = context_.scenario().model.objects[static_cast<std::size_t>(o)];
    if (spec.mass <= 0.0) continue;
    const core::Vec3 e = setup.object_poses[static_cast<std::size_t>(o)].rotation().cwiseAbs() * context_.ObjectHalfExtents(o);
    top = std::max(top, setup.object_poses[static_cast<std::size_t>(o)].translation().z() + e.z());
    tallest = std::max(tallest, 2.0 * e.z());
  }
  if (context_.task().kind == TaskKind::kPickPlace) top = std::max(top, context_.task().target.max.z());
  if (context_.task().kind == TaskKind::kBinPick) {
    // Over the bins' walls too (and whatever else is static: tables lie below them).
    for (int o = 0; o < m.num_objects(); ++o) {
      const sim::ObjectSpec& spec = context_.scenario().model.objects[static_cast<std::size_t>(o)];
      if (spec.mass > 0.0) continue;
      const core::Vec3 e = spec.X_WO.rotation().cwiseAbs() * context_.ObjectHalfExtents(o);
      top = std::max(top, spec.X_WO.translation().z() + e.z());
    }
  }
  slot.transport_z = top + config_.clearance + tallest;
  slot.gripper = 0.0;
  slot.command = X_WT;
  // Stacking moves the cubes above the bottom one (stack[0] stays), in order.
  slot.part = context_.task().kind == TaskKind::kStack ? 1 : 0;
  Enter(sim, env, slot, context_.task().kind == TaskKind::kReach ? ExpertPhase::kReach : ExpertPhase::kMoveAbove);
}

void Expert::Enter(const sim::BatchSim& sim, int env, Slot& slot, ExpertPhase phase) {
  slot.phase = phase;
  slot.steps_in_phase = 0;
  slot.still_steps = 0;
  const TaskSpec& task = context_.task();
  const sim::Model& m = context_.model();
  const core::Pose X_WT = sim::EndEffectorPose(sim, env, task.robot);
  switch (phase) {
    case ExpertPhase::kReach:
      slot.target = core::Pose::Identity();
      slot.target.linear() = slot.R_home;
      slot.target.translation() = slot.setup->goal;
      break;
    case ExpertPhase::kMoveAbove:
    case ExpertPhase::kDescend: {
      const int part = PartToPick(slot);
      const core::Pose X_WO = BodyPose(sim, env, m.object_body(part));
      const core::Vec3 e = X_WO.rotation().cwiseAbs() * context_.ObjectHalfExtents(part);
      slot.target = GraspRotation(sim, env, slot, part);
      // Grasp the part's middle, but keep the finger tips off the surface below it.
      const double grasp_z = X_WO.translation().z() + std::max(0.0, std::min(e.z() - 0.02, 0.01));
      const double z = phase == ExpertPhase::kMoveAbove ? std::max(X_WO.translation().z() + e.z() + config_.approach_height,
                                                                   std::min(slot.transport_z, X_WT.translation().z()))
                                                        : grasp_z;
      slot.target.translation() = core::Vec3(X_WO.translation().x(), X_WO.translation().y(), z);
      slot.gripper = 0.0;
      break;
    }
    case ExpertPhase::kGrasp: {
      const core::Pose X_WO = BodyPose(sim, env, m.object_body(PartToPick(slot)));
      slot.grasp_offset_z = X_WT.translation().z() - X_WO.translation().z();
      slot.target = slot.command;
      slot.gripper = 1.0;
      break;
    }
    case ExpertPhase::kLift:
      slot.target.translation().z() = slot.transport_z;
      break;
    case ExpertPhase::kTransport:
    case ExpertPhase::kLower: {
      if (phase == ExpertPhase::kTransport) {
        // Where the part sits in the hand now that it hangs there (it may have slipped).
        slot.grasp_offset_z = X_WT.translation().z() - BodyPose(sim, env, m.object_body(PartToPick(slot))).translation().z();
      }
      core::Vec3 goal = slot.setup->goal;
      double rest_z = task.target.min.z();  // the support the part ends on
      const int part = PartToPick(slot);
      const core::Vec3 h = context_.ObjectHalfExtents(part);
      const core::Pose X_WO0 = slot.setup->object_poses[static_cast<std::size_t>(part)];
      const double half_z = (X_WO0.rotation().cwiseAbs() * h).z();
      if (task.kind == TaskKind::kStack) {
        const int below = slot.setup->stack[static_cast<std::size_t>(slot.part - 1)];
        const core::Pose X_WB = BodyPose(sim, env, m.object_body(below));
        goal = X_WB.translation();
        rest_z = X_WB.translation().z() + (X_WB.rotation().cwiseAbs() * context_.ObjectHalfExtents(below)).z();
        // Align the carried cube's faces with the one below (square parts: any multiple of 90°).
        const core::Vec3 below_x = X_WB.rotation().col(0);
        const core::Pose X_WP = BodyPose(sim, env, m.object_body(part));
        const core::Vec3 part_x = X_WP.rotation().col(0);
        const double turn = std::remainder(std::atan2(below_x.y(), below_x.x()) - std::atan2(part_x.y(), part_x.x()),
                                           std::numbers::pi / 2);
        if (phase == ExpertPhase::kTransport)
          slot.target.linear() = core::AngleAxis(turn, core::Vec3::UnitZ()).toRotationMatrix() * X_WT.rotation();
      }
      const double place_z = rest_z + half_z + 0.004 + slot.grasp_offset_z;
      slot.target.translation() = core::Vec3(goal.x(), goal.y(), phase == ExpertPhase::kTransport ? slot.transport_z : place_z);
      break;
    }
    case ExpertPhase::kRelease:
      slot.target = slot.command;
      slot.gripper = 0.0;
      break;
    case ExpertPhase::kRetreat:
      slot.target.translation().z() = X_WT.translation().z() + config_.approach_height;
      break;
    case ExpertPhase::kDone:
      break;
  }
}

ExpertAction Expert::Act(sim::BatchSim& sim, int env) {
  Slot& slot = slots_[static_cast<std::size_t>(env)];
  PF_CHECK(slot.setup != nullptr, "Expert::Act before Reset on env ", env);
  const TaskSpec& task = context_.task();
  const sim::Model& m = sim.model();
  const double dt = context_.control_dt();
  const core::Pose X_WT = sim::EndEffectorPose(sim, env, task.robot);
  const core::Vec3 error_p = slot.target.translation() - X_WT.translation();
  const core::Vec3 error_r = RotationVector(slot.target.rotation() * X_WT.rotation().transpose());
  const bool reached = error_p.norm() < config_.position_tolerance && error_r.norm() < config_.rotation_tolerance &&
                       (slot.target.translation() - slot.command.translation()).norm() < 1e-9;
  ++slot.steps_in_phase;
  const bool timed_out = slot.steps_in_phase > config_.max_waypoint_steps;
  // Stalled: the command is at the target and the tool has stopped within a centimetre and
  // a half of it, blocked by contact (a part set down on its support, fingers on the table).
  if ((X_WT.translation() - slot.last_p).norm() < 2e-4) ++slot.still_steps;
  else slot.still_steps = 0;
  slot.last_p = X_WT.translation();
  const bool stalled = slot.still_steps > 15 && error_p.norm() < 0.015 &&
                       (slot.target.translation() - slot.command.translation()).norm() < 1e-9;
  const int grasp_steps = static_cast<int>(std::ceil(config_.grasp_time / dt));
  const int release_steps = static_cast<int>(std::ceil(config_.release_time / dt));

  // Phase transitions.
  switch (slot.phase) {
    case ExpertPhase::kMoveAbove: if (reached || timed_out) Enter(sim, env, slot, ExpertPhase::kDescend); break;
    case ExpertPhase::kDescend: if (reached || stalled || timed_out) Enter(sim, env, slot, ExpertPhase::kGrasp); break;
    case ExpertPhase::kGrasp: if (slot.steps_in_phase >= grasp_steps) Enter(sim, env, slot, ExpertPhase::kLift); break;
    case ExpertPhase::kLift: if (reached || timed_out) Enter(sim, env, slot, ExpertPhase::kTransport); break;
    case ExpertPhase::kTransport: if (reached || timed_out) Enter(sim, env, slot, ExpertPhase::kLower); break;
    case ExpertPhase::kLower: if (reached || stalled || timed_out) Enter(sim, env, slot, ExpertPhase::kRelease); break;
    case ExpertPhase::kRelease: if (slot.steps_in_phase >= release_steps) Enter(sim, env, slot, ExpertPhase::kRetreat); break;
    case ExpertPhase::kRetreat:
      if (reached || timed_out) {
        if (task.kind == TaskKind::kStack && slot.part + 1 < static_cast<int>(slot.setup->stack.size())) {
          ++slot.part;
          Enter(sim, env, slot, ExpertPhase::kMoveAbove);
        } else {
          slot.phase = ExpertPhase::kDone;
        }
      }
      break;
    case ExpertPhase::kReach:
      if (reached) slot.phase = ExpertPhase::kDone;  // and keeps holding the target
      break;
    case ExpertPhase::kDone:
      break;
  }

  // The commanded tool pose moves towards the target at a limited speed (slower close to
  // parts); the IK then pulls the tool to the commanded pose. The brain-stream action is
  // the commanded pose's motion.
  ExpertAction action;
  action.phase = static_cast<int>(slot.phase);
  action.gripper = slot.gripper;
  {
    const core::Vec3 ep = slot.target.translation() - slot.command.translation();
    const core::Vec3 er = RotationVector(slot.target.rotation() * slot.command.rotation().transpose());
    const bool careful = slot.phase == ExpertPhase::kDescend || slot.phase == ExpertPhase::kLower;
    const core::Vec3 to_go = slot.target.translation() - X_WT.translation();
    const double speed = careful && to_go.norm() < 0.04 ? config_.slow_speed : config_.max_speed;
    core::Vec3 step_p = ep;
    if (step_p.norm() > speed * dt) step_p *= speed * dt / step_p.norm();
    core::Vec3 step_r = er;
    if (step_r.norm() > config_.max_rotation_speed * dt) step_r *= config_.max_rotation_speed * dt / step_r.norm();
    slot.command.translation() += step_p;
    slot.command.linear() = (core::AngleAxis(step_r.norm(), step_r.norm() > 0 ? core::Vec3(step_r.normalized()) : core::Vec3::UnitZ()) *
                             slot.command.rotation()).eval();
    action.delta_W = {step_p.x(), step_p.y(), step_p.z(), step_r.x(), step_r.y(), step_r.z()};
  }
  std::span<double> actions = sim.actions().subspan(static_cast<std::size_t>(env) * static_cast<std::size_t>(m.num_actuated()),
                                                    static_cast<std::size_t>(m.num_actuated()));
  sim::IkConfig ik;
  ik.posture = posture_;
  sim::JointTargetsTowardsPose(m, task.robot, slot.command, actions, ik, 3);
  for (const sim::GripperJoint& g : grippers_)
    actions[static_cast<std::size_t>(g.action)] = slot.gripper > 0.5 ? g.closed - config_.grip_squeeze : g.open;
  return action;
}

}  // namespace pf::scenarios
