// Math aliases over Eigen and the pose naming rule.
//
// THE MONOGRAM RULE (used everywhere in parafab):
//   X_AB  the pose (rigid transform) of frame B measured in frame A. X_WB is body B in
//         world W; X_WC a camera C in world; X_PJ a joint frame J in its parent link P.
//         Composition cancels inner letters: X_WC = X_WB * X_BC.  Inverse: X_BW = X_WB^-1.
//   p_AQ  the position of point Q in frame A (p_WC: point C in world).
//   R_AB  the rotation part of X_AB; v_AB, w_AB linear/angular velocity of B in A.
// World: Z up, metres, radians. Quaternions are Eigen's in memory, but every array,
// file and snapshot stores them as (w, x, y, z) and says so (see PoseToArray).
#pragma once

#include <array>

#include <Eigen/Core>
#include <Eigen/Geometry>

namespace pf::core {

using Vec2 = Eigen::Vector2d;
using Vec3 = Eigen::Vector3d;
using Vec4 = Eigen::Vector4d;
using Vec3f = Eigen::Vector3f;
using Vec4f = Eigen::Vector4f;
using Mat3 = Eigen::Matrix3d;
using Mat4 = Eigen::Matrix4d;
using Quat = Eigen::Quaterniond;
using AngleAxis = Eigen::AngleAxisd;
using Pose = Eigen::Isometry3d;  // X_AB: rigid transform, rotation + translation

// Pose from a translation and a rotation.
inline Pose MakePose(const Vec3& p, const Quat& q = Quat::Identity()) {
  Pose X = Pose::Identity();
  X.linear() = q.normalized().toRotationMatrix();
  X.translation() = p;
  return X;
}

// URDF/ROS fixed-axis roll-pitch-yaw: R = Rz(yaw) * Ry(pitch) * Rx(roll).
inline Quat QuatFromRpy(double roll, double pitch, double yaw) {
  return Quat(AngleAxis(yaw, Vec3::UnitZ()) * AngleAxis(pitch, Vec3::UnitY()) *
              AngleAxis(roll, Vec3::UnitX()));
}

// Quaternion as stored in files: (w, x, y, z).
inline std::array<double, 4> QuatToWxyz(const Quat& q) { return {q.w(), q.x(), q.y(), q.z()}; }
inline Quat QuatFromWxyz(const double* wxyz) { return Quat(wxyz[0], wxyz[1], wxyz[2], wxyz[3]); }

// The 7-number pose layout of every SoA buffer and file: (x, y, z, qw, qx, qy, qz).
inline constexpr int kPoseSize = 7;
inline void PoseToArray(const Pose& X, double* out7) {
  const Quat q(X.rotation());
  out7[0] = X.translation().x();
  out7[1] = X.translation().y();
  out7[2] = X.translation().z();
  out7[3] = q.w();
  out7[4] = q.x();
  out7[5] = q.y();
  out7[6] = q.z();
}
inline Pose PoseFromArray(const double* in7) {
  return MakePose(Vec3(in7[0], in7[1], in7[2]), QuatFromWxyz(in7 + 3));
}

}  // namespace pf::core
