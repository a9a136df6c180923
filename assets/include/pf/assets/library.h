// AssetLibrary: loads every mesh file and collision preparation once and shares the
// results (read-only) between all robots, objects and envs that use them. ImportRobot
// turns a URDF (a file or builtin://NAME) into a RobotDesc with its meshes loaded and its
// collision shapes prepared.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "pf/assets/collision.h"
#include "pf/assets/mesh.h"
#include "pf/assets/robot_desc.h"
#include "pf/assets/urdf.h"

namespace pf::assets {

class AssetLibrary {
 public:
  explicit AssetLibrary(AssetResolver resolver = AssetResolver::FromEnvironment(),
                        MeshLoadConfig mesh_config = {}, CollisionConfig collision_config = {});

  const AssetResolver& resolver() const { return meshes_.resolver(); }
  core::Result<std::shared_ptr<const MeshData>> Mesh(const fs::path& path, Warnings* warnings = nullptr);
  core::Result<std::shared_ptr<const CollisionMesh>> Collision(const fs::path& path, const core::Vec3& scale,
                                                               bool is_static, Warnings* warnings = nullptr);
  std::size_t num_meshes() const { return meshes_.size(); }

 private:
  MeshCache meshes_;
  CollisionConfig collision_config_;
  std::mutex mutex_;
  std::map<std::tuple<std::string, double, double, double, bool>, std::shared_ptr<const CollisionMesh>>
      collisions_;
};

struct ImportConfig {
  // Whether the root link is welded to the world. Unset: fixed when the root has no mass
  // (the URDF convention for static objects), floating otherwise.
  std::optional<bool> fixed_base;
  bool load_visual_meshes = true;
  bool load_collision_meshes = true;
  UrdfConfig urdf;
};

struct ImportedRobot {
  RobotDesc desc;
  bool fixed_base = false;
  std::vector<bool> link_is_static;  // [num_links] welded to a fixed base through fixed joints
  // [num_links][num_visuals]: the visual's mesh, null for primitives.
  std::vector<std::vector<std::shared_ptr<const MeshData>>> visual_meshes;
  // [num_links][num_collisions]: the prepared collision mesh, null for primitives.
  std::vector<std::vector<std::shared_ptr<const CollisionMesh>>> collision_meshes;
  Warnings warnings;

  // Distinct mesh files referenced; triangles summed over the visual and collision references.
  std::size_t NumMeshFiles() const;
  std::size_t NumVisualTriangles() const;
  std::size_t NumCollisionTriangles() const;
  std::size_t NumConvexHulls() const;
  std::size_t NumPrimitiveShapes() const;
};

// `source` is a URDF path or builtin://NAME.
core::Result<ImportedRobot> ImportRobot(const std::string& source, AssetLibrary& library,
                                        const ImportConfig& config = {});

}  // namespace pf::assets
