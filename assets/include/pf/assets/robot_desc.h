// RobotDesc: a robot or object description as plain data, independent of the file format
// it came from (URDF today) and of the simulator that will build it.
//
// Tree order: links[0] is the root; every other link l has exactly one parent joint,
// joints[l - 1], and a parent link with a smaller index (parents before children), so
// simulators can build the tree in one pass.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pf/core/math.h"

namespace pf::assets {

enum class JointType { kRevolute, kContinuous, kPrismatic, kFixed, kFloating, kPlanar };
const char* JointTypeName(JointType type);
// Degrees of freedom the joint adds: 1, 1, 1, 0, 6, 3.
int JointDofs(JointType type);

enum class GeometryType { kBox, kCylinder, kSphere, kCapsule, kMesh };
const char* GeometryTypeName(GeometryType type);

struct Geometry {
  GeometryType type = GeometryType::kBox;
  core::Vec3 size = core::Vec3::Zero();   // box: full extents along x, y, z (metres)
  double radius = 0.0;                    // cylinder, sphere, capsule (metres)
  double length = 0.0;                    // cylinder, capsule: along the geometry's z axis
  std::string mesh_reference;             // mesh: the filename as written in the file
  std::filesystem::path mesh_path;        // mesh: resolved path inside the asset roots
  core::Vec3 scale = core::Vec3::Ones();  // mesh: per-axis scale
};

struct MaterialDesc {
  std::string name;
  std::optional<core::Vec4> rgba;             // colour, linear RGBA in [0, 1]
  std::string texture_reference;              // as written
  std::filesystem::path texture_path;         // resolved; empty if none or missing
};

struct VisualDesc {
  std::string name;
  core::Pose X_LG = core::Pose::Identity();  // geometry frame G in link L
  Geometry geometry;
  int material = -1;  // index into RobotDesc::materials, -1 = none
  int line = 0;       // line in the source file
};

struct CollisionDesc {
  std::string name;
  core::Pose X_LG = core::Pose::Identity();
  Geometry geometry;
  int line = 0;
};

struct InertialDesc {
  double mass = 0.0;                          // kg
  core::Pose X_LI = core::Pose::Identity();   // inertia frame I (at the centre of mass) in L
  core::Mat3 I_I = core::Mat3::Zero();        // rotational inertia about the COM, in frame I (kg m²)
  // The file's inertia is singular (a zero principal moment, common in generated URDFs);
  // ImportRobot replaces I_I by the inertia of the collision geometry at this mass.
  bool derive_from_collision = false;
};

// Bullet's URDF <contact> extension.
struct ContactDesc {
  std::optional<double> lateral_friction;
  std::optional<double> rolling_friction;
  std::optional<double> spinning_friction;
  std::optional<double> restitution;
  std::optional<double> stiffness;
  std::optional<double> damping;
  std::optional<double> inertia_scaling;
};

struct LinkDesc {
  std::string name;
  std::optional<InertialDesc> inertial;  // absent = massless link
  std::vector<VisualDesc> visuals;
  std::vector<CollisionDesc> collisions;
  std::optional<ContactDesc> contact;
  int parent_joint = -1;                 // index into RobotDesc::joints; -1 for the root
  int line = 0;
};

struct JointLimits {
  double lower = 0.0;     // rad or m
  double upper = 0.0;     // rad or m
  double effort = 0.0;    // N m or N; 0 = not given
  double velocity = 0.0;  // rad/s or m/s; 0 = not given
};

struct MimicDesc {
  std::string joint;        // the joint this one follows
  int joint_index = -1;     // index into RobotDesc::joints
  double multiplier = 1.0;  // q = multiplier * q_joint + offset
  double offset = 0.0;
};

struct JointDesc {
  std::string name;
  JointType type = JointType::kFixed;
  int parent_link = -1;
  int child_link = -1;
  core::Pose X_PJ = core::Pose::Identity();  // joint frame J (= child link frame at q = 0) in parent P
  core::Vec3 axis = core::Vec3::UnitX();     // unit axis in J
  std::optional<JointLimits> limits;         // required for revolute and prismatic
  double damping = 0.0;                      // N m s/rad or N s/m
  double friction = 0.0;                     // N m or N
  std::optional<MimicDesc> mimic;
  int line = 0;
};

struct RobotDesc {
  std::string name;
  std::filesystem::path source;      // file it came from ("" when built in memory)
  std::vector<LinkDesc> links;       // [num_links], tree order, root first
  std::vector<JointDesc> joints;     // [num_links - 1], joints[l - 1] is the parent joint of link l
  std::vector<MaterialDesc> materials;

  int num_links() const { return static_cast<int>(links.size()); }
  int num_joints() const { return static_cast<int>(joints.size()); }
  // Sum of the DOFs of all joints (mimic joints included).
  int NumDofs() const;
  // DOFs that can be commanded independently (mimic joints excluded).
  int NumIndependentDofs() const;
  int NumJointsOfType(JointType type) const;
  double TotalMass() const;
  int FindLink(std::string_view name) const;   // -1 if absent
  int FindJoint(std::string_view name) const;  // -1 if absent
  // Pose of every link in the root frame at configuration q: one value per joint, in joint
  // order (used by 1-DOF joints, ignored by fixed ones; floating and planar joints stay at
  // identity). Returns [num_links] poses X_RL.
  std::vector<core::Pose> ForwardKinematics(const std::vector<double>& q) const;
  // The same into X_RL (resized to num_links; no allocation once it has the capacity).
  void ForwardKinematics(std::span<const double> q, std::vector<core::Pose>* X_RL) const;
};

}  // namespace pf::assets
