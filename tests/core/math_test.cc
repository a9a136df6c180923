#include <catch2/catch.hpp>

#include <numbers>

#include "pf/core/math.h"
#include "pf/core/snapshot.h"

namespace pf::core {
namespace {

TEST_CASE("URDF roll-pitch-yaw composes as Rz(yaw) Ry(pitch) Rx(roll)", "[core][math]") {
  const double r = 0.3, p = -0.7, y = 1.9;
  const Mat3 expected = (AngleAxis(y, Vec3::UnitZ()) * AngleAxis(p, Vec3::UnitY()) *
                         AngleAxis(r, Vec3::UnitX())).toRotationMatrix();
  CHECK((QuatFromRpy(r, p, y).toRotationMatrix() - expected).norm() < 1e-15);
  // Yaw of 90 degrees takes +X to +Y.
  const Vec3 x = QuatFromRpy(0, 0, std::numbers::pi / 2) * Vec3::UnitX();
  CHECK((x - Vec3::UnitY()).norm() < 1e-15);
}

TEST_CASE("poses round-trip through the (x, y, z, qw, qx, qy, qz) layout", "[core][math]") {
  const Pose X_WB = MakePose(Vec3(1, 2, 3), QuatFromRpy(0.1, 0.2, 0.3));
  double a[kPoseSize];
  PoseToArray(X_WB, a);
  CHECK(a[0] == 1.0);
  const Quat q(X_WB.rotation());
  CHECK(a[3] == q.w());
  CHECK(a[4] == q.x());
  const Pose back = PoseFromArray(a);
  CHECK((back.matrix() - X_WB.matrix()).norm() < 1e-14);
}

TEST_CASE("monogram composition: X_WC = X_WB * X_BC", "[core][math]") {
  const Pose X_WB = MakePose(Vec3(1, 0, 0), QuatFromRpy(0, 0, std::numbers::pi / 2));
  const Pose X_BC = MakePose(Vec3(1, 0, 0));
  const Vec3 p_WC = (X_WB * X_BC).translation();
  CHECK((p_WC - Vec3(1, 1, 0)).norm() < 1e-15);
  const Pose X_BW = X_WB.inverse();
  CHECK(((X_BW * X_WB).matrix() - Mat4::Identity()).norm() < 1e-15);
}

TEST_CASE("RenderSnapshot sizes every per-env array for the counts", "[core][snapshot]") {
  RenderSnapshot snapshot;
  snapshot.instances.resize(3);
  snapshot.instances[1].material = MaterialId{5};
  snapshot.Resize(4, 2, 2);
  CHECK(snapshot.body_poses.size() == 4 * 2 * kPoseSize);
  CHECK(snapshot.body_poses[3] == 1.0);  // identity quaternion w
  CHECK(snapshot.instance_materials.size() == 12);
  CHECK(snapshot.instance_materials[4] == MaterialId{5});
  CHECK(snapshot.segmentation_ids.size() == 12);
  CHECK(snapshot.camera_intrinsics.size() == 8);
  CHECK(snapshot.camera_poses.size() == 8 * kPoseSize);
  CHECK(snapshot.lights.size() == 4);
}

}  // namespace
}  // namespace pf::core
