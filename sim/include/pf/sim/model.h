// Model: a ModelSpec compiled once into everything the envs share read-only: collision
// shapes (Bullet), link mass properties and joint frames, the layout of the state
// buffers, and the list of drawable instances for the renderer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pf/assets/texture.h"
#include "pf/core/result.h"
#include "pf/core/snapshot.h"
#include "pf/sim/model_spec.h"

namespace pf::sim {

namespace internal {
struct SharedShapes;  // Bullet shapes; defined in sim/src, never seen by users
}  // namespace internal

// One movable joint of a robot (a 1-DOF joint: revolute, continuous or prismatic).
struct DofInfo {
  int robot = 0;             // robot index
  int joint = 0;             // index into the robot's RobotDesc::joints
  int link = 0;              // child link index (= joint + 1)
  int mimic_of = -1;         // global dof index this one follows, -1 if actuated
  int action = -1;           // index into an env's actions, -1 for mimic dofs
  double mimic_multiplier = 1.0;
  double mimic_offset = 0.0;
  bool has_limits = false;
  double lower = 0.0, upper = 0.0;  // limits (rad or m)
  double max_effort = 0.0;          // torque/force limit; 0 = unlimited
  double max_velocity = 0.0;        // 0 = not given
  double damping = 0.0;             // joint damping (URDF <dynamics>)
  double friction = 0.0;            // joint Coulomb friction (URDF <dynamics>)
  double kp = 0.0, kd = 0.0;        // PD gains (actuated dofs): N m/rad, N m s/rad (or N/m, N s/m)
  double inertia = 0.0;             // diagonal of the joint-space mass matrix at the initial pose
  double initial_position = 0.0;
  std::string name;                 // "robot/joint"
};

// A body with a pose in the snapshot: robot links, then objects.
struct BodyInfo {
  std::string name;   // "robot/link" or object name
  int robot = -1;     // robot index, or -1 for objects
  int link = -1;      // link index in the robot, or -1
  int object = -1;    // object index, or -1
  std::uint32_t semantic_class = 0;
};

// A render mesh the Model's instances refer to: a loaded mesh or a primitive.
// A drawable mesh and its material. Colour: the URDF material's rgba, else the mesh file's
// own material, else the object's colour (primitives) or light grey. Texture: the URDF
// material's, else the mesh file's diffuse map. Specular: the mesh file's, else a default.
struct RenderMesh {
  std::shared_ptr<const assets::MeshData> mesh;  // the geometry (primitives are generated)
  core::Vec4 colour = core::Vec4(0.7, 0.7, 0.7, 1.0);
  std::shared_ptr<const assets::TextureData> texture;  // decoded diffuse texture, or null
  double specular = 0.2;                               // highlight strength, [0, 1]
};

class Model {
 public:
  // Builds shapes, derives default gains, checks the explicit damping against the timestep
  // (velocity control's kd and passive joint damping: dt · λmax(M⁻¹ (Kd + D)) < 1; position
  // control is implicit and needs no check) and lays out state.
  static core::Result<std::shared_ptr<const Model>> Compile(ModelSpec spec);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelSpec& spec() const { return spec_; }
  const PhysicsConfig& physics() const { return spec_.physics; }

  int num_robots() const { return static_cast<int>(spec_.robots.size()); }
  int num_objects() const { return static_cast<int>(spec_.objects.size()); }
  int num_dofs() const { return static_cast<int>(dofs_.size()); }           // all movable joints
  int num_actuated() const { return static_cast<int>(actuated_.size()); }   // action size
  int num_bodies() const { return static_cast<int>(bodies_.size()); }
  const std::vector<DofInfo>& dofs() const { return dofs_; }
  const std::vector<int>& actuated() const { return actuated_; }             // dof index per action entry
  const std::vector<BodyInfo>& bodies() const { return bodies_; }
  // First dof and body of robot r; bodies of object o start at object_body(0).
  int robot_first_dof(int r) const { return robot_first_dof_[static_cast<std::size_t>(r)]; }
  int robot_end_dof(int r) const {  // one past robot r's last dof
    return r + 1 < num_robots() ? robot_first_dof_[static_cast<std::size_t>(r + 1)] : num_dofs();
  }
  // The dof moved by the parent joint of link `link` of robot r, or -1 (fixed joint, root).
  int link_dof(int r, int link) const {
    return robot_link_dof_[static_cast<std::size_t>(r)][static_cast<std::size_t>(link)];
  }
  int robot_first_body(int r) const { return robot_first_body_[static_cast<std::size_t>(r)]; }
  int object_body(int o) const { return object_first_body_ + o; }
  int end_effector_body(int r) const { return end_effector_body_[static_cast<std::size_t>(r)]; }
  // The robot whose end-effector subtree (the end-effector link and its descendants)
  // contains body b, or -1. [num_bodies]
  int end_effector_robot_of_body(int b) const { return ee_robot_of_body_[static_cast<std::size_t>(b)]; }

  // Number of doubles in a full state vector of one env (see BatchSim::GetState).
  int state_size() const { return state_size_; }

  // Drawable instances and their meshes, for RenderSnapshot.
  const std::vector<core::InstanceDesc>& instances() const { return instances_; }
  const std::vector<RenderMesh>& render_meshes() const { return render_meshes_; }

  const internal::SharedShapes& shapes() const { return *shapes_; }

 private:
  Model() = default;
  ModelSpec spec_;
  std::vector<DofInfo> dofs_;
  std::vector<int> actuated_;
  std::vector<BodyInfo> bodies_;
  std::vector<int> robot_first_dof_, robot_first_body_, end_effector_body_, ee_robot_of_body_;
  std::vector<std::vector<int>> robot_link_dof_;  // [num_robots][num_links]
  int object_first_body_ = 0;
  int state_size_ = 0;
  std::vector<core::InstanceDesc> instances_;
  std::vector<RenderMesh> render_meshes_;
  std::unique_ptr<internal::SharedShapes> shapes_;
};

}  // namespace pf::sim
