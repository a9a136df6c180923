// Bullet shapes and mass properties shared read-only by every env of a Model.
// Internal to sim/.
#pragma once

#include <memory>
#include <vector>

#include <btBulletDynamicsCommon.h>

#include "pf/assets/collision.h"
#include "pf/core/math.h"

namespace pf::sim::internal {

// A body's collision shape, relative to its centre-of-mass principal frame C.
struct BodyShape {
  btCollisionShape* shape = nullptr;            // null = no collision geometry
  core::Pose X_FC = core::Pose::Identity();     // COM principal frame C in the body frame F (URDF link / object)
  double mass = 0.0;                            // kg
  core::Vec3 inertia = core::Vec3::Zero();      // principal moments about C (kg m²)
  double friction = -1.0, restitution = -1.0, rolling_friction = 0.0, spinning_friction = 0.0;
};

struct RobotShapes {
  std::vector<BodyShape> links;  // [num_links]
};

struct SharedShapes {
  std::vector<RobotShapes> robots;
  std::vector<BodyShape> objects;
  std::unique_ptr<btStaticPlaneShape> ground;
  // Owners of every shape and of the triangle data the mesh shapes point into.
  std::vector<std::unique_ptr<btCollisionShape>> owned;
  std::vector<std::unique_ptr<btTriangleIndexVertexArray>> triangle_arrays;
  std::vector<std::shared_ptr<const assets::CollisionMesh>> meshes;
};

inline btVector3 ToBt(const core::Vec3& v) { return btVector3(v.x(), v.y(), v.z()); }
inline core::Vec3 FromBt(const btVector3& v) { return core::Vec3(v.x(), v.y(), v.z()); }
inline btQuaternion ToBtQuat(const core::Quat& q) { return btQuaternion(q.x(), q.y(), q.z(), q.w()); }
inline btTransform ToBt(const core::Pose& X) {
  return btTransform(ToBtQuat(core::Quat(X.rotation())), ToBt(X.translation()));
}

}  // namespace pf::sim::internal
