#include "pf/core/snapshot.h"

namespace pf::core {

void RenderSnapshot::Resize(std::uint32_t envs, std::uint32_t bodies, std::uint32_t cameras) {
  num_envs = envs;
  num_bodies = bodies;
  num_cameras = cameras;
  const std::size_t e = envs;
  body_poses.assign(e * bodies * kPoseSize, 0.0);
  for (std::size_t i = 0; i < e * bodies; ++i) body_poses[i * kPoseSize + 3] = 1.0;  // qw
  instance_materials.resize(e * instances.size());
  for (std::size_t i = 0; i < instance_materials.size(); ++i)
    instance_materials[i] = instances[i % instances.size()].material;
  segmentation_ids.assign(e * instances.size(), 0);
  instance_visible.assign(e * instances.size(), 1);
  camera_intrinsics.assign(e * cameras, CameraIntrinsics{});
  camera_poses.assign(e * cameras * kPoseSize, 0.0);
  for (std::size_t i = 0; i < e * cameras; ++i) camera_poses[i * kPoseSize + 3] = 1.0;
  lights.assign(e, DirectionalLight{});
}

}  // namespace pf::core
