#include "pf/sim/controllers.h"

#include <algorithm>
#include <array>

#include <Eigen/Dense>

#include "pf/core/check.h"

namespace pf::sim {

core::Pose EndEffectorPose(const BatchSim& sim, int env, int robot) {
  const Model& m = sim.model();
  const double* p = sim.body_poses().data() +
                    (static_cast<std::size_t>(env) * static_cast<std::size_t>(m.num_bodies()) +
                     static_cast<std::size_t>(m.end_effector_body(robot))) * 7;
  return core::PoseFromArray(p);
}

namespace {

// Chains have at most this many actuated joints: the IK's matrices then have fixed
// capacities and live on the stack, and a call allocates nothing (scratch vectors are per
// thread and keep their capacity).
constexpr int kMaxChain = 32;
using Jacobian = Eigen::Matrix<double, 6, Eigen::Dynamic, 0, 6, kMaxChain>;
using ChainVector = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, kMaxChain, 1>;
using Columns = std::array<int, kMaxChain>;

// Geometric Jacobian of robot's end-effector origin over the actuated dofs on its chain,
// from the link poses X_WL [num_links] (a joint's frame is its child link's frame). A mimic
// dof on the chain adds its column, times its multiplier, to its leader's. columns[c] is
// the action index of column c; returns the number of columns.
int ChainJacobian(const Model& m, int robot, const std::vector<core::Pose>& X_WL, Jacobian* jacobian, Columns* columns) {
  const assets::RobotDesc& desc = m.spec().robots[static_cast<std::size_t>(robot)].robot->desc;
  const int ee_link = m.end_effector_body(robot) - m.robot_first_body(robot);
  const core::Vec3 p_E = X_WL[static_cast<std::size_t>(ee_link)].translation();
  std::array<Eigen::Matrix<double, 6, 1>, kMaxChain> J;
  int n = 0;
  for (int l = ee_link; l > 0; l = desc.joints[static_cast<std::size_t>(l - 1)].parent_link) {
    const auto& joint = desc.joints[static_cast<std::size_t>(l - 1)];
    if (assets::JointDofs(joint.type) != 1) continue;
    const int dof = m.link_dof(robot, l);
    if (dof < 0) continue;
    const DofInfo& info = m.dofs()[static_cast<std::size_t>(dof)];
    const double scale = info.mimic_of >= 0 ? info.mimic_multiplier : 1.0;
    const int leader = info.mimic_of >= 0 ? info.mimic_of : dof;
    const core::Pose& X = X_WL[static_cast<std::size_t>(l)];
    const core::Vec3 a = X.rotation() * joint.axis;
    Eigen::Matrix<double, 6, 1> column;
    if (joint.type == assets::JointType::kPrismatic) column << a, core::Vec3::Zero();
    else column << a.cross(p_E - X.translation()), a;
    column *= scale;
    const int action = m.dofs()[static_cast<std::size_t>(leader)].action;
    const auto found = std::find(columns->begin(), columns->begin() + n, action);
    if (found != columns->begin() + n) {
      J[static_cast<std::size_t>(found - columns->begin())] += column;
    } else {
      PF_CHECK(n < kMaxChain, "IK chains have at most ", kMaxChain, " actuated joints");
      (*columns)[static_cast<std::size_t>(n)] = action;
      J[static_cast<std::size_t>(n++)] = column;
    }
  }
  jacobian->resize(6, n);
  for (int c = 0; c < n; ++c) jacobian->col(c) = J[static_cast<std::size_t>(c)];
  return n;
}

// One damped-least-squares step for the task-space error (translation, rotation vector),
// plus (with_posture) a pull towards config.posture in the exact null space of the task.
// current(a) is the position the step starts from for action a. Writes the clamped targets.
template <class Current>
void DlsStep(const Model& m, const Jacobian& jacobian, const Columns& columns, const Eigen::Matrix<double, 6, 1>& error,
             const Current& current, const IkConfig& config, bool with_posture, std::span<double> actions) {
  const auto n = jacobian.cols();
  const Eigen::Matrix<double, 6, 6> JJt = jacobian * jacobian.transpose() +
                                          config.damping * config.damping * Eigen::Matrix<double, 6, 6>::Identity();
  const Eigen::Matrix<double, 6, 1> w = JJt.ldlt().solve(error);
  ChainVector dq = jacobian.transpose() * w;
  if (with_posture && !config.posture.empty()) {
    PF_CHECK(static_cast<int>(config.posture.size()) == m.num_actuated(), "posture must have ", m.num_actuated(),
             " entries");
    ChainVector towards(n);
    for (Eigen::Index c = 0; c < n; ++c) {
      const int action = columns[static_cast<std::size_t>(c)];
      towards[c] = config.posture_gain * (config.posture[static_cast<std::size_t>(action)] - current(action));
    }
    // The exact null space (not the damped one, which would leak into the task).
    const Eigen::CompleteOrthogonalDecomposition<Jacobian> cod(jacobian);
    const Eigen::Matrix<double, 6, 1> task = jacobian * towards;
    const ChainVector leak = cod.solve(task);  // the minimum-norm J⁺ (J towards)
    dq += towards - leak;
  }
  for (Eigen::Index c = 0; c < n; ++c) {
    const int action = columns[static_cast<std::size_t>(c)];
    const DofInfo& info = m.dofs()[static_cast<std::size_t>(m.actuated()[static_cast<std::size_t>(action)])];
    double target = current(action) + std::clamp(dq[c], -config.max_joint_step, config.max_joint_step);
    if (info.has_limits) target = std::clamp(target, info.lower, info.upper);
    actions[static_cast<std::size_t>(action)] = target;
  }
}

// Per-thread scratch: joint values and link poses.
struct Scratch {
  std::vector<double> q;
  std::vector<core::Pose> X;
};
Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Link poses X_WL of `robot` at the configuration the actions command, into *X.
void CommandedLinkPoses(const Model& m, int robot, std::span<const double> actions, std::vector<double>* q,
                        std::vector<core::Pose>* X) {
  const RobotSpec& rs = m.spec().robots[static_cast<std::size_t>(robot)];
  const assets::RobotDesc& desc = rs.robot->desc;
  q->assign(desc.joints.size(), 0.0);
  for (int d = m.robot_first_dof(robot); d < m.robot_end_dof(robot); ++d) {
    const DofInfo& dof = m.dofs()[static_cast<std::size_t>(d)];
    double value = 0.0;
    if (dof.mimic_of >= 0) {
      const DofInfo& leader = m.dofs()[static_cast<std::size_t>(dof.mimic_of)];
      value = dof.mimic_multiplier * actions[static_cast<std::size_t>(leader.action)] + dof.mimic_offset;
    } else {
      value = actions[static_cast<std::size_t>(dof.action)];
    }
    (*q)[static_cast<std::size_t>(dof.joint)] = value;
  }
  desc.ForwardKinematics(*q, X);
  for (core::Pose& pose : *X) pose = rs.X_WB * pose;
}

}  // namespace

void EndEffectorDeltaToJointTargets(const BatchSim& sim, int env, int robot, std::span<const double, 6> delta_W,
                                    std::span<double> actions, const IkConfig& config) {
  const Model& m = sim.model();
  PF_CHECK(static_cast<int>(actions.size()) == m.num_actuated(), "actions must hold one env's ", m.num_actuated(),
           " entries");
  const int first_body = m.robot_first_body(robot);
  const int num_links = static_cast<int>(m.spec().robots[static_cast<std::size_t>(robot)].robot->desc.links.size());
  const std::size_t nd = static_cast<std::size_t>(m.num_dofs());
  const double* q = sim.joint_positions().data() + static_cast<std::size_t>(env) * nd;
  const double* poses = sim.body_poses().data() + static_cast<std::size_t>(env) * static_cast<std::size_t>(m.num_bodies()) * 7;
  std::vector<core::Pose>& X_WL = ThreadScratch().X;
  X_WL.resize(static_cast<std::size_t>(num_links));
  for (int l = 0; l < num_links; ++l) X_WL[static_cast<std::size_t>(l)] = core::PoseFromArray(poses + 7 * (first_body + l));
  Jacobian jacobian;
  Columns columns;
  if (ChainJacobian(m, robot, X_WL, &jacobian, &columns) == 0) return;
  Eigen::Matrix<double, 6, 1> error;
  error << delta_W[0], delta_W[1], delta_W[2], delta_W[3], delta_W[4], delta_W[5];
  // The step starts from the measured joint positions.
  DlsStep(m, jacobian, columns, error, [&](int action) { return q[m.actuated()[static_cast<std::size_t>(action)]]; },
          config, true, actions);
}

core::Pose CommandedEndEffectorPose(const Model& model, int robot, std::span<const double> actions) {
  Scratch& scratch = ThreadScratch();
  CommandedLinkPoses(model, robot, actions, &scratch.q, &scratch.X);
  return scratch.X[static_cast<std::size_t>(model.end_effector_body(robot) - model.robot_first_body(robot))];
}

void JointTargetsTowardsPose(const Model& m, int robot, const core::Pose& X_WE_target, std::span<double> actions,
                             const IkConfig& config, int iterations) {
  PF_CHECK(static_cast<int>(actions.size()) == m.num_actuated(), "actions must hold one env's ", m.num_actuated(),
           " entries");
  const int ee_link = m.end_effector_body(robot) - m.robot_first_body(robot);
  Scratch& scratch = ThreadScratch();
  Jacobian jacobian;
  Columns columns;
  for (int it = 0; it < iterations; ++it) {
    CommandedLinkPoses(m, robot, actions, &scratch.q, &scratch.X);
    const core::Pose X_WE = scratch.X[static_cast<std::size_t>(ee_link)];
    if (ChainJacobian(m, robot, scratch.X, &jacobian, &columns) == 0) return;
    Eigen::Matrix<double, 6, 1> error;
    const Eigen::AngleAxisd rotation(X_WE_target.rotation() * X_WE.rotation().transpose());
    error << X_WE_target.translation() - X_WE.translation(), rotation.axis() * rotation.angle();
    // The step starts from the commanded targets; the posture pull once per call.
    DlsStep(m, jacobian, columns, error, [&](int action) { return actions[static_cast<std::size_t>(action)]; }, config,
            it == 0, actions);
  }
}

std::vector<GripperJoint> GripperJoints(const Model& m, int robot) {
  const assets::RobotDesc& desc = m.spec().robots[static_cast<std::size_t>(robot)].robot->desc;
  const int first_body = m.robot_first_body(robot);
  std::vector<bool> on_chain(desc.links.size(), false);
  for (int l = m.end_effector_body(robot) - first_body; l >= 0;
       l = l == 0 ? -1 : desc.joints[static_cast<std::size_t>(l - 1)].parent_link)
    on_chain[static_cast<std::size_t>(l)] = true;
  std::vector<GripperJoint> grippers;
  for (int d = m.robot_first_dof(robot); d < m.robot_end_dof(robot); ++d) {
    const DofInfo& dof = m.dofs()[static_cast<std::size_t>(d)];
    if (dof.action < 0 || on_chain[static_cast<std::size_t>(dof.link)]) continue;
    if (desc.joints[static_cast<std::size_t>(dof.joint)].type != assets::JointType::kPrismatic) continue;
    grippers.push_back({dof.action, d, dof.has_limits ? dof.upper : 0.04, dof.has_limits ? dof.lower : 0.0});
  }
  return grippers;
}

}  // namespace pf::sim
