#include "pf/assets/robot_desc.h"

#include "pf/core/check.h"

namespace pf::assets {

const char* JointTypeName(JointType type) {
  switch (type) {
    case JointType::kRevolute: return "revolute";
    case JointType::kContinuous: return "continuous";
    case JointType::kPrismatic: return "prismatic";
    case JointType::kFixed: return "fixed";
    case JointType::kFloating: return "floating";
    case JointType::kPlanar: return "planar";
  }
  return "?";
}

int JointDofs(JointType type) {
  switch (type) {
    case JointType::kRevolute:
    case JointType::kContinuous:
    case JointType::kPrismatic: return 1;
    case JointType::kFixed: return 0;
    case JointType::kFloating: return 6;
    case JointType::kPlanar: return 3;
  }
  return 0;
}

const char* GeometryTypeName(GeometryType type) {
  switch (type) {
    case GeometryType::kBox: return "box";
    case GeometryType::kCylinder: return "cylinder";
    case GeometryType::kSphere: return "sphere";
    case GeometryType::kCapsule: return "capsule";
    case GeometryType::kMesh: return "mesh";
  }
  return "?";
}

int RobotDesc::NumDofs() const {
  int dofs = 0;
  for (const auto& j : joints) dofs += JointDofs(j.type);
  return dofs;
}

int RobotDesc::NumIndependentDofs() const {
  int dofs = 0;
  for (const auto& j : joints)
    if (!j.mimic) dofs += JointDofs(j.type);
  return dofs;
}

int RobotDesc::NumJointsOfType(JointType type) const {
  int n = 0;
  for (const auto& j : joints) n += j.type == type ? 1 : 0;
  return n;
}

double RobotDesc::TotalMass() const {
  double mass = 0.0;
  for (const auto& l : links)
    if (l.inertial) mass += l.inertial->mass;
  return mass;
}

int RobotDesc::FindLink(std::string_view name) const {
  for (int i = 0; i < num_links(); ++i)
    if (links[static_cast<std::size_t>(i)].name == name) return i;
  return -1;
}

int RobotDesc::FindJoint(std::string_view name) const {
  for (int i = 0; i < num_joints(); ++i)
    if (joints[static_cast<std::size_t>(i)].name == name) return i;
  return -1;
}

std::vector<core::Pose> RobotDesc::ForwardKinematics(const std::vector<double>& q) const {
  std::vector<core::Pose> X_RL;
  ForwardKinematics(q, &X_RL);
  return X_RL;
}

void RobotDesc::ForwardKinematics(std::span<const double> q, std::vector<core::Pose>* out) const {
  PF_CHECK(q.size() == joints.size(), "ForwardKinematics wants one value per joint: ", joints.size(),
           ", got ", q.size());
  std::vector<core::Pose>& X_RL = *out;
  X_RL.assign(links.size(), core::Pose::Identity());
  for (std::size_t l = 1; l < links.size(); ++l) {
    const JointDesc& joint = joints[l - 1];
    core::Pose motion = core::Pose::Identity();
    switch (joint.type) {
      case JointType::kRevolute:
      case JointType::kContinuous:
        motion.linear() = core::AngleAxis(q[l - 1], joint.axis).toRotationMatrix();
        break;
      case JointType::kPrismatic:
        motion.translation() = q[l - 1] * joint.axis;
        break;
      default:
        break;
    }
    X_RL[l] = X_RL[static_cast<std::size_t>(joint.parent_link)] * joint.X_PJ * motion;
  }
}

}  // namespace pf::assets
