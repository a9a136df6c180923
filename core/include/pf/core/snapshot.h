// RenderSnapshot: the only contract between sim/ (which writes it after a step) and
// render/ (which draws it). Plain data, no Bullet and no Vulkan types.
//
// Layout is structure-of-arrays with the env index first. Every env of a batch has the
// same instances (the Model is shared); what changes per env is poses, materials,
// visibility, cameras and lights. Instance ids are stable for the lifetime of a Model:
// segmentation id of instance k in env e is `segmentation_ids[e * num_instances + k]`,
// 0 is reserved for background.
#pragma once

#include <cstdint>
#include <vector>

#include "pf/core/ids.h"
#include "pf/core/math.h"

namespace pf::core {

// Pinhole camera, OpenCV convention: +X right, +Y down, +Z forward (into the scene).
// Pixel (u, v) of a point p_C in camera frame: u = fx * x / z + cx, v = fy * y / z + cy,
// where pixel centres are at integer + 0.5 (the top-left pixel covers [0, 1) x [0, 1)).
struct CameraIntrinsics {
  std::uint32_t width = 640;   // pixels
  std::uint32_t height = 480;  // pixels
  double fx = 600.0;           // focal length in pixels, x
  double fy = 600.0;           // focal length in pixels, y
  double cx = 320.0;           // principal point, pixels
  double cy = 240.0;           // principal point, pixels
  double near = 0.01;          // near clip plane, metres (z-depth)
  double far = 10.0;           // far clip plane, metres (z-depth)
};

// Static description of one drawable instance (same for every env).
struct InstanceDesc {
  MeshId mesh;                       // geometry to draw
  MaterialId material;               // default material (env overrides below)
  Vec3 scale = Vec3::Ones();         // mesh scale, applied in the body frame
  Pose X_BG = Pose::Identity();      // visual geometry G in its body B
  std::uint32_t body = 0;            // index into the per-env body poses
  std::uint32_t semantic_class = 0;  // semantic class id (0 = background/unlabelled)
};

struct DirectionalLight {
  Vec3 direction_W = Vec3(-0.3, -0.2, -1.0).normalized();  // direction light travels, world
  Vec3 colour = Vec3::Ones();                               // linear RGB
  double intensity = 1.0;
  double ambient = 0.3;                                     // ambient term, fraction
};

struct RenderSnapshot {
  std::uint32_t num_envs = 0;
  std::uint32_t num_bodies = 0;     // bodies with a pose per env (links and objects)
  std::uint32_t num_cameras = 0;    // cameras per env

  std::vector<InstanceDesc> instances;  // [num_instances]

  // Per env state, env index first.
  std::vector<double> body_poses;                 // [num_envs × num_bodies × 7] X_WB (x,y,z,qw,qx,qy,qz)
  std::vector<MaterialId> instance_materials;     // [num_envs × num_instances]
  std::vector<std::uint32_t> segmentation_ids;    // [num_envs × num_instances], 0 = background
  // Per env colours, linear RGBA, [num_envs × num_instances]; empty = every instance in its
  // mesh's own colour (domain randomization of colours fills it; Resize leaves it empty).
  std::vector<Vec4> instance_colours;
  std::vector<std::uint8_t> instance_visible;     // [num_envs × num_instances], 0 or 1
  std::vector<CameraIntrinsics> camera_intrinsics;  // [num_envs × num_cameras]
  std::vector<double> camera_poses;               // [num_envs × num_cameras × 7] X_WC, OpenCV axes
  std::vector<DirectionalLight> lights;           // [num_envs]
  std::uint64_t step = 0;                          // physics step the snapshot was taken at

  std::uint32_t num_instances() const { return static_cast<std::uint32_t>(instances.size()); }
  // Resizes every per-env array for the current counts.
  void Resize(std::uint32_t envs, std::uint32_t bodies, std::uint32_t cameras);
};

}  // namespace pf::core
