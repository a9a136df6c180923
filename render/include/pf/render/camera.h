// The camera model shared by the renderer and by every label written from its output.
// OpenCV pinhole (core/snapshot.h): p_C = X_CW * p_W with +X right, +Y down, +Z forward;
// pixel u = fx * x / z + cx, v = fy * y / z + cy, pixel centres at integer + 0.5.
#pragma once

#include "pf/core/math.h"
#include "pf/core/snapshot.h"

namespace pf::render {

// Pixel coordinates of a point in the camera frame (z > 0).
inline core::Vec2 ProjectToPixel(const core::CameraIntrinsics& K, const core::Vec3& p_C) {
  return {K.fx * p_C.x() / p_C.z() + K.cx, K.fy * p_C.y() / p_C.z() + K.cy};
}

// Vulkan clip coordinates from the camera frame, built so that the rasterizer puts p_C
// exactly at ProjectToPixel(K, p_C): Vulkan's framebuffer x = (x_ndc + 1) / 2 * width and
// y = (y_ndc + 1) / 2 * height (NDC +y is down, as OpenCV's v), fragment centres at +0.5.
// Depth: z_ndc = 0 at z = near, 1 at z = far; w_clip = z.
inline core::Mat4 ClipFromCamera(const core::CameraIntrinsics& K) {
  const double w = K.width, h = K.height;
  const double a = K.far / (K.far - K.near), b = -K.far * K.near / (K.far - K.near);
  core::Mat4 P = core::Mat4::Zero();
  P(0, 0) = 2.0 * K.fx / w;
  P(0, 2) = 2.0 * K.cx / w - 1.0;
  P(1, 1) = 2.0 * K.fy / h;
  P(1, 2) = 2.0 * K.cy / h - 1.0;
  P(2, 2) = a;
  P(2, 3) = b;
  P(3, 2) = 1.0;
  return P;
}

// Pose X_WC of a camera at `eye` looking at `target`, in the OpenCV axes of every output
// (+X right, +Y down, +Z forward), keeping world +Z up in the image. Looking straight up or
// down, the image's +X is world +X.
inline core::Pose LookAt(const core::Vec3& eye, const core::Vec3& target) {
  const core::Vec3 z = (target - eye).normalized();
  core::Vec3 x = z.cross(core::Vec3::UnitZ());
  if (x.norm() < 1e-9) x = core::Vec3::UnitX();
  x.normalize();
  core::Pose X_WC = core::Pose::Identity();
  X_WC.linear().col(0) = x;
  X_WC.linear().col(1) = z.cross(x);
  X_WC.linear().col(2) = z;
  X_WC.translation() = eye;
  return X_WC;
}

}  // namespace pf::render
