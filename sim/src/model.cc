#include "pf/sim/model.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <Eigen/Eigenvalues>

#include "pf/assets/primitives.h"
#include "pf/core/log.h"
#include "pf/core/str.h"
#include "shared_shapes.h"

namespace pf::sim {

using core::Fail;
using core::Mat3;
using core::Pose;
using core::StrCat;
using core::Vec3;
using internal::BodyShape;
using internal::SharedShapes;
using internal::ToBt;

Model::~Model() = default;

namespace {

// Bandwidth of the default joint gains (see Compile).
constexpr double kDefaultBandwidthHz = 10.0;

// Principal frame of an inertial: X_FC (F = link frame) and the principal moments.
void PrincipalFrame(const std::optional<assets::InertialDesc>& inertial, double mass_floor, BodyShape* out) {
  if (!inertial || inertial->mass <= 0.0) {
    out->mass = mass_floor;
    out->inertia = Vec3::Constant(mass_floor * 1e-4);
    out->X_FC = inertial ? inertial->X_LI : Pose::Identity();
    return;
  }
  const Eigen::SelfAdjointEigenSolver<Mat3> solver(inertial->I_I);
  Mat3 R_IP = solver.eigenvectors();
  if (R_IP.determinant() < 0) R_IP.col(2) = -R_IP.col(2);
  out->mass = inertial->mass;
  out->inertia = solver.eigenvalues().cwiseMax(1e-12);
  out->X_FC = inertial->X_LI;
  out->X_FC.linear() = inertial->X_LI.rotation() * R_IP;
}

btCollisionShape* Own(SharedShapes& shapes, std::unique_ptr<btCollisionShape> shape, double margin) {
  if (shape->getShapeType() != STATIC_PLANE_PROXYTYPE && shape->getShapeType() != SPHERE_SHAPE_PROXYTYPE &&
      !shape->isConcave() && !shape->isCompound())
    shape->setMargin(margin);
  shapes.owned.push_back(std::move(shape));
  return shapes.owned.back().get();
}

// The Bullet shape of one primitive or prepared mesh, in its geometry frame G.
btCollisionShape* MakeShape(SharedShapes& shapes, const assets::Geometry& g,
                            const std::shared_ptr<const assets::CollisionMesh>& mesh, double margin) {
  switch (g.type) {
    case assets::GeometryType::kBox:
      return Own(shapes, std::make_unique<btBoxShape>(internal::ToBt(g.size / 2.0)), margin);
    case assets::GeometryType::kSphere:
      return Own(shapes, std::make_unique<btSphereShape>(g.radius), margin);
    case assets::GeometryType::kCylinder:
      return Own(shapes, std::make_unique<btCylinderShapeZ>(btVector3(g.radius, g.radius, g.length / 2.0)), margin);
    case assets::GeometryType::kCapsule:
      return Own(shapes, std::make_unique<btCapsuleShapeZ>(g.radius, g.length), margin);
    case assets::GeometryType::kMesh: break;
  }
  if (!mesh) return nullptr;
  shapes.meshes.push_back(mesh);
  if (mesh->kind == assets::CollisionMeshKind::kTriangleMesh) {
    btIndexedMesh part;
    part.m_numTriangles = static_cast<int>(mesh->indices.size() / 3);
    part.m_triangleIndexBase = reinterpret_cast<const unsigned char*>(mesh->indices.data());
    part.m_triangleIndexStride = 3 * sizeof(std::uint32_t);
    part.m_indexType = PHY_INTEGER;
    part.m_numVertices = static_cast<int>(mesh->positions.size() / 3);
    part.m_vertexBase = reinterpret_cast<const unsigned char*>(mesh->positions.data());
    part.m_vertexStride = 3 * sizeof(float);
    part.m_vertexType = PHY_FLOAT;
    auto array = std::make_unique<btTriangleIndexVertexArray>();
    array->addIndexedMesh(part, PHY_INTEGER);
    auto shape = std::make_unique<btBvhTriangleMeshShape>(array.get(), true);
    shapes.triangle_arrays.push_back(std::move(array));
    return Own(shapes, std::move(shape), margin);
  }
  if (mesh->hulls.size() == 1) {
    const auto& hull = mesh->hulls[0];
    auto shape = std::make_unique<btConvexHullShape>();
    for (const auto& v : hull.vertices) shape->addPoint(btVector3(v.x(), v.y(), v.z()), false);
    shape->recalcLocalAabb();
    shape->setMargin(margin);
    shape->initializePolyhedralFeatures();
    return Own(shapes, std::move(shape), margin);
  }
  auto compound = std::make_unique<btCompoundShape>(false, static_cast<int>(mesh->hulls.size()));
  for (const auto& hull : mesh->hulls) {
    auto shape = std::make_unique<btConvexHullShape>();
    for (const auto& v : hull.vertices) shape->addPoint(btVector3(v.x(), v.y(), v.z()), false);
    shape->recalcLocalAabb();
    shape->setMargin(margin);
    shape->initializePolyhedralFeatures();
    compound->addChildShape(btTransform::getIdentity(), Own(shapes, std::move(shape), margin));
  }
  return Own(shapes, std::move(compound), margin);
}

// Compound of every collision geometry of a link, relative to its COM frame C.
btCollisionShape* LinkShape(SharedShapes& shapes, const assets::LinkDesc& link,
                            const std::vector<std::shared_ptr<const assets::CollisionMesh>>& meshes,
                            const Pose& X_FC, double margin) {
  if (link.collisions.empty()) return nullptr;
  // One convex hull: its points go straight into the COM frame, no compound around it
  // (compound pairs cost Bullet a child-algorithm array every time contacts are rebuilt).
  if (link.collisions.size() == 1 && meshes[0] && meshes[0]->kind == assets::CollisionMeshKind::kConvexHulls &&
      meshes[0]->hulls.size() == 1) {
    shapes.meshes.push_back(meshes[0]);
    const Pose X_CG = X_FC.inverse() * link.collisions[0].X_LG;
    auto shape = std::make_unique<btConvexHullShape>();
    for (const auto& v : meshes[0]->hulls[0].vertices) shape->addPoint(ToBt(X_CG * v.cast<double>()), false);
    shape->recalcLocalAabb();
    shape->setMargin(margin);
    shape->initializePolyhedralFeatures();
    return Own(shapes, std::move(shape), margin);
  }
  auto compound = std::make_unique<btCompoundShape>(false, static_cast<int>(link.collisions.size()));
  for (std::size_t c = 0; c < link.collisions.size(); ++c) {
    btCollisionShape* child = MakeShape(shapes, link.collisions[c].geometry, meshes[c], margin);
    if (child == nullptr) continue;
    compound->addChildShape(internal::ToBt(X_FC.inverse() * link.collisions[c].X_LG), child);
  }
  if (compound->getNumChildShapes() == 0) return nullptr;
  return Own(shapes, std::move(compound), margin);
}

// Joint-space mass matrix of a fixed-base robot at configuration q (one entry per joint,
// fixed ones ignored): M = Σ_k m_k Jv_kᵀ Jv_k + Jw_kᵀ I_k Jw_k over links k.
Eigen::MatrixXd MassMatrix(const assets::RobotDesc& desc, const std::vector<BodyShape>& links,
                           const std::vector<double>& q, const std::vector<int>& dof_of_joint, int num_dofs) {
  const auto X = desc.ForwardKinematics(q);
  Eigen::MatrixXd M = Eigen::MatrixXd::Zero(num_dofs, num_dofs);
  for (std::size_t k = 0; k < desc.links.size(); ++k) {
    const Pose X_WC = X[k] * links[k].X_FC;
    const Vec3 c = X_WC.translation();
    const Mat3 I_W = X_WC.rotation() * links[k].inertia.asDiagonal() * X_WC.rotation().transpose();
    Eigen::MatrixXd Jv = Eigen::MatrixXd::Zero(3, num_dofs), Jw = Eigen::MatrixXd::Zero(3, num_dofs);
    for (int l = static_cast<int>(k); l > 0; l = desc.joints[static_cast<std::size_t>(l - 1)].parent_link) {
      const int j = l - 1;
      const int d = dof_of_joint[static_cast<std::size_t>(j)];
      if (d < 0) continue;
      const auto& joint = desc.joints[static_cast<std::size_t>(j)];
      const Vec3 a = X[static_cast<std::size_t>(l)].rotation() * joint.axis;
      const Vec3 p = X[static_cast<std::size_t>(l)].translation();
      if (joint.type == assets::JointType::kPrismatic) {
        Jv.col(d) = a;
      } else {
        Jw.col(d) = a;
        Jv.col(d) = a.cross(c - p);
      }
    }
    M += links[k].mass * Jv.transpose() * Jv + Jw.transpose() * I_W * Jw;
  }
  return M;
}

}  // namespace

core::Result<std::shared_ptr<const Model>> Model::Compile(ModelSpec spec) {
  std::shared_ptr<Model> model(new Model());
  model->shapes_ = std::make_unique<SharedShapes>();
  SharedShapes& shapes = *model->shapes_;
  const PhysicsConfig& physics = spec.physics;
  const double dt = physics.timestep;
  const core::Location where{spec.name, 0, 0, ""};
  if (!(dt > 0.0) || physics.control_substeps < 1 || physics.solver_iterations < 1)
    return Fail("physics timestep, control_substeps and solver_iterations must be positive", where);
  shapes.ground = std::make_unique<btStaticPlaneShape>(btVector3(0, 0, 1), 0.0);

  // Robots: dofs, bodies, shapes, gains.
  for (std::size_t r = 0; r < spec.robots.size(); ++r) {
    RobotSpec& rs = spec.robots[r];
    if (!rs.robot) return Fail(StrCat("robot '", rs.name, "' has no description"), where);
    const assets::RobotDesc& desc = rs.robot->desc;
    model->robot_first_dof_.push_back(model->num_dofs());
    model->robot_first_body_.push_back(model->num_bodies());
    std::vector<int> dof_of_joint(desc.joints.size(), -1);
    const int first = model->num_dofs();
    for (std::size_t j = 0; j < desc.joints.size(); ++j) {
      const auto& joint = desc.joints[j];
      if (joint.type == assets::JointType::kFloating || joint.type == assets::JointType::kPlanar)
        return Fail(StrCat("robot '", rs.name, "': joint '", joint.name, "' is ", assets::JointTypeName(joint.type),
                           "; only the base may float"),
                    {desc.source.string(), joint.line, 0, "joint[" + joint.name + "]"});
      if (assets::JointDofs(joint.type) != 1) continue;
      DofInfo d;
      d.robot = static_cast<int>(r);
      d.joint = static_cast<int>(j);
      d.link = joint.child_link;
      d.name = rs.name + "/" + joint.name;
      if (joint.limits && joint.type != assets::JointType::kContinuous) {
        d.has_limits = true;
        d.lower = joint.limits->lower;
        d.upper = joint.limits->upper;
      }
      if (joint.limits) {
        d.max_effort = joint.limits->effort;
        d.max_velocity = joint.limits->velocity;
      }
      d.damping = joint.damping;
      d.friction = joint.friction;
      dof_of_joint[j] = model->num_dofs();
      model->dofs_.push_back(d);
    }
    const int num_robot_dofs = model->num_dofs() - first;
    std::vector<int> link_dof(desc.links.size(), -1);
    for (std::size_t j = 0; j < desc.joints.size(); ++j) link_dof[j + 1] = dof_of_joint[j];
    model->robot_link_dof_.push_back(std::move(link_dof));
    std::vector<int> robot_actuated;
    for (int d = first; d < model->num_dofs(); ++d) {
      DofInfo& info = model->dofs_[static_cast<std::size_t>(d)];
      const auto& joint = desc.joints[static_cast<std::size_t>(info.joint)];
      if (joint.mimic) {
        info.mimic_of = dof_of_joint[static_cast<std::size_t>(joint.mimic->joint_index)];
        info.mimic_multiplier = joint.mimic->multiplier;
        info.mimic_offset = joint.mimic->offset;
      } else {
        robot_actuated.push_back(d);
      }
    }
    if (!rs.initial_positions.empty() && rs.initial_positions.size() != robot_actuated.size())
      return Fail(StrCat("robot '", rs.name, "': ", rs.initial_positions.size(), " initial positions for ",
                         robot_actuated.size(), " actuated joints"),
                  where);
    if (!rs.gains.empty() && rs.gains.size() != robot_actuated.size())
      return Fail(StrCat("robot '", rs.name, "': ", rs.gains.size(), " gains for ", robot_actuated.size(),
                         " actuated joints"),
                  where);
    for (std::size_t a = 0; a < robot_actuated.size(); ++a) {
      DofInfo& info = model->dofs_[static_cast<std::size_t>(robot_actuated[a])];
      double q0 = rs.initial_positions.empty() ? 0.0 : rs.initial_positions[a];
      if (info.has_limits) q0 = std::clamp(q0, info.lower, info.upper);
      info.initial_position = q0;
      if (!rs.gains.empty() && rs.gains[a].max_effort > 0.0) info.max_effort = rs.gains[a].max_effort;
      info.action = model->num_actuated();
      model->actuated_.push_back(robot_actuated[a]);
    }
    for (int d = first; d < model->num_dofs(); ++d) {
      DofInfo& info = model->dofs_[static_cast<std::size_t>(d)];
      if (info.mimic_of >= 0)
        info.initial_position = info.mimic_multiplier * model->dofs_[static_cast<std::size_t>(info.mimic_of)].initial_position +
                                info.mimic_offset;
    }

    internal::RobotShapes robot_shapes;
    for (std::size_t l = 0; l < desc.links.size(); ++l) {
      BodyShape body;
      PrincipalFrame(desc.links[l].inertial, 1e-6, &body);
      body.shape = LinkShape(shapes, desc.links[l], rs.robot->collision_meshes[l], body.X_FC, physics.collision_margin);
      if (const auto& contact = desc.links[l].contact) {
        body.friction = contact->lateral_friction.value_or(-1.0);
        body.restitution = contact->restitution.value_or(-1.0);
        body.rolling_friction = contact->rolling_friction.value_or(0.0);
        body.spinning_friction = contact->spinning_friction.value_or(0.0);
      }
      if (rs.lateral_friction >= 0.0) body.friction = rs.lateral_friction;
      robot_shapes.links.push_back(body);
      model->bodies_.push_back({rs.name + "/" + desc.links[l].name, static_cast<int>(r), static_cast<int>(l), -1, 0});
    }
    int ee = static_cast<int>(desc.links.size()) - 1;
    if (!rs.end_effector_link.empty()) {
      ee = desc.FindLink(rs.end_effector_link);
      if (ee < 0) return Fail(StrCat("robot '", rs.name, "': unknown end-effector link '", rs.end_effector_link, "'"), where);
    }
    model->end_effector_body_.push_back(model->robot_first_body_.back() + ee);

    // Gains: given, or derived from the joint-space mass matrix at the initial pose.
    std::vector<double> q0(desc.joints.size(), 0.0);
    for (int d = first; d < model->num_dofs(); ++d)
      q0[static_cast<std::size_t>(model->dofs_[static_cast<std::size_t>(d)].joint)] =
          model->dofs_[static_cast<std::size_t>(d)].initial_position;
    const Eigen::MatrixXd M = MassMatrix(desc, robot_shapes.links, q0, dof_of_joint, num_robot_dofs + first)
                                  .bottomRightCorner(num_robot_dofs, num_robot_dofs);
    // Coordinates: actuated dofs; mimic dofs follow through T (q_all = T q_act).
    Eigen::MatrixXd T = Eigen::MatrixXd::Zero(num_robot_dofs, static_cast<Eigen::Index>(robot_actuated.size()));
    for (std::size_t a = 0; a < robot_actuated.size(); ++a) T(robot_actuated[a] - first, static_cast<Eigen::Index>(a)) = 1.0;
    for (int d = first; d < model->num_dofs(); ++d) {
      const DofInfo& info = model->dofs_[static_cast<std::size_t>(d)];
      if (info.mimic_of < 0) continue;
      const auto leader = std::find(robot_actuated.begin(), robot_actuated.end(), info.mimic_of) - robot_actuated.begin();
      T(d - first, leader) = info.mimic_multiplier;
    }
    const Eigen::MatrixXd Ma = T.transpose() * M * T;
    Eigen::VectorXd damping(num_robot_dofs);
    for (int d = 0; d < num_robot_dofs; ++d) damping[d] = model->dofs_[static_cast<std::size_t>(first + d)].damping;
    const Eigen::MatrixXd Dj = T.transpose() * damping.asDiagonal() * T;
    for (int d = 0; d < num_robot_dofs; ++d) model->dofs_[static_cast<std::size_t>(first + d)].inertia = M(d, d);
    // Default gains: each joint critically damped at a target bandwidth ω on its locked
    // inertia Ma_jj (the inertia it drives while the other joints hold, as their drives make
    // them): kp = Ma_jj·ω², kd = 2·Ma_jj·ω, so light wrist joints get gains in proportion.
    // Position control is an implicit drive (BatchSim's PdDrive), stable for any gains and
    // pose, so ω is a tracking choice, not a stability bound: 10 Hz, or the physics rate
    // (ω·dt = 1) when that is lower, beyond which stiffer gains only add numerical damping.
    const double omega = std::min(2.0 * 3.141592653589793 * kDefaultBandwidthHz, 1.0 / dt);
    for (std::size_t a = 0; a < robot_actuated.size(); ++a) {
      DofInfo& info = model->dofs_[static_cast<std::size_t>(robot_actuated[a])];
      if (!rs.gains.empty()) {
        info.kp = rs.gains[a].kp;
        info.kd = rs.gains[a].kd;
      } else {
        const double m = Ma(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(a));
        info.kp = m * omega * omega;
        info.kd = 2.0 * m * omega;
      }
    }
    // Explicit damping needs dt·λmax(M⁻¹D) < 1 to stay stable: velocity control's kd·(v* - v)
    // and the passive joint damping, both torques computed before the step. Position
    // control is implicit and needs no check: its drives also absorb the passive damping of
    // the joints they drive (a light mode's overshoot from -dt·M⁻¹D·v is damped by the
    // drive's (M + dt·(Kd + dt·Kp))⁻¹M within the same step). Default velocity gains are
    // scaled down until they pass with a margin.
    auto lambda_max = [&](bool with_gains) {
      Eigen::MatrixXd K = Dj;
      for (std::size_t a = 0; with_gains && a < robot_actuated.size(); ++a)
        K(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(a)) +=
            model->dofs_[static_cast<std::size_t>(robot_actuated[a])].kd;
      const Eigen::GeneralizedSelfAdjointEigenSolver<Eigen::MatrixXd> solver(K, Ma, Eigen::EigenvaluesOnly);
      return solver.eigenvalues().maxCoeff();
    };
    if (!robot_actuated.empty() && rs.control_mode != ControlMode::kJointPosition) {
      const bool velocity = rs.control_mode == ControlMode::kJointVelocity;
      core::LogDebug("robot '", rs.name, "': passive dt·λ(M⁻¹D) = ", dt * lambda_max(false),
                     velocity ? StrCat(", with the velocity gains dt·λ(M⁻¹(Kd + D)) = ", dt * lambda_max(true)) : "");
      for (int attempt = 0; attempt < 40 && velocity && rs.gains.empty() && dt * lambda_max(true) >= 0.8; ++attempt)
        for (int a : robot_actuated) model->dofs_[static_cast<std::size_t>(a)].kd *= 0.8;
      const double ld = dt * lambda_max(velocity);
      if (ld >= 1.0)
        return Fail(StrCat("robot '", rs.name, "': ", velocity ? "velocity gains kd and joint damping" : "joint damping",
                           " too stiff for the timestep ", dt, " s: dt·λmax(M⁻¹(", velocity ? "Kd + D" : "D",
                           ")) = ", ld, " must stay below 1 (lower them or the timestep)"),
                    where);
    }
    shapes.robots.push_back(std::move(robot_shapes));
  }

  // Objects.
  model->object_first_body_ = model->num_bodies();
  for (std::size_t o = 0; o < spec.objects.size(); ++o) {
    const ObjectSpec& os = spec.objects[o];
    BodyShape body;
    assets::Geometry g;
    switch (os.shape) {
      case ObjectShape::kBox: g.type = assets::GeometryType::kBox; g.size = os.size; break;
      case ObjectShape::kSphere: g.type = assets::GeometryType::kSphere; g.radius = os.radius; break;
      case ObjectShape::kCylinder: g.type = assets::GeometryType::kCylinder; g.radius = os.radius; g.length = os.length; break;
      case ObjectShape::kUrdf: break;
    }
    if (os.shape == ObjectShape::kUrdf) {
      if (!os.urdf || os.urdf->desc.links.size() != 1)
        return Fail(StrCat("object '", os.name, "' needs a single-link URDF"), where);
      const auto& link = os.urdf->desc.links[0];
      PrincipalFrame(link.inertial, 1e-6, &body);
      const double urdf_mass = link.inertial ? link.inertial->mass : 0.0;
      if (urdf_mass > 0.0 && os.mass > 0.0) body.inertia *= os.mass / urdf_mass;
      body.shape = LinkShape(shapes, link, os.urdf->collision_meshes[0], body.X_FC, physics.collision_margin);
      if (body.shape == nullptr) return Fail(StrCat("object '", os.name, "' has no collision geometry"), where);
      if (link.contact) {
        body.friction = link.contact->lateral_friction.value_or(-1.0);
        body.restitution = link.contact->restitution.value_or(-1.0);
        body.rolling_friction = link.contact->rolling_friction.value_or(0.0);
        body.spinning_friction = link.contact->spinning_friction.value_or(0.0);
      }
    } else {
      body.shape = MakeShape(shapes, g, nullptr, physics.collision_margin);
      btVector3 inertia(0, 0, 0);
      if (os.mass > 0.0) body.shape->calculateLocalInertia(os.mass, inertia);
      body.inertia = internal::FromBt(inertia);
    }
    body.mass = std::max(os.mass, 0.0);
    if (os.friction >= 0.0) body.friction = os.friction;
    if (os.restitution >= 0.0) body.restitution = os.restitution;
    if (os.rolling_friction > 0.0) body.rolling_friction = os.rolling_friction;
    if (os.spinning_friction > 0.0) body.spinning_friction = os.spinning_friction;
    shapes.objects.push_back(body);
    model->bodies_.push_back({os.name, -1, -1, static_cast<int>(o), os.semantic_class});
  }

  // End-effector subtrees, for the wrist wrench.
  model->ee_robot_of_body_.assign(static_cast<std::size_t>(model->num_bodies()), -1);
  for (std::size_t r = 0; r < spec.robots.size(); ++r) {
    const auto& desc = spec.robots[r].robot->desc;
    const int first = model->robot_first_body_[r];
    // The sensed subtree starts at the end-effector link or, when that is a frame without
    // collision geometry (a tool centre point), its nearest ancestor with some (the hand).
    int wrist = model->end_effector_body_[r] - first;
    while (wrist > 0 && desc.links[static_cast<std::size_t>(wrist)].collisions.empty())
      wrist = desc.joints[static_cast<std::size_t>(wrist - 1)].parent_link;
    for (int l = 0; l < desc.num_links(); ++l) {
      int a = l;
      while (a > 0 && a != wrist) a = desc.joints[static_cast<std::size_t>(a - 1)].parent_link;
      if (a == wrist) model->ee_robot_of_body_[static_cast<std::size_t>(first + l)] = static_cast<int>(r);
    }
  }

  // State layout (see BatchSim::StateMask).
  int dynamic_objects = static_cast<int>(spec.objects.size());
  model->state_size_ = 13 * static_cast<int>(spec.robots.size()) + 2 * model->num_dofs() + 13 * dynamic_objects +
                       model->num_actuated() + 1;

  // Render instances: every visual of every link, then every object.
  std::map<std::filesystem::path, std::shared_ptr<const assets::TextureData>> textures;
  auto load_texture = [&](const std::filesystem::path& path) -> std::shared_ptr<const assets::TextureData> {
    if (path.empty()) return nullptr;
    auto [it, fresh] = textures.try_emplace(path);
    if (fresh) {
      auto texture = assets::LoadTexture(path);
      if (texture) it->second = std::make_shared<const assets::TextureData>(std::move(*texture));
      else core::LogWarning("texture left out: ", texture.error().ToString());
    }
    return it->second;
  };
  // The material of a visual: the URDF's material (colour, texture), over the mesh file's
  // own (the material of its first draw range), over `fallback`.
  auto add_material_mesh = [&](std::shared_ptr<const assets::MeshData> mesh, core::Vec4 colour, bool urdf_colour,
                               const assets::MaterialDesc* urdf_material) {
    RenderMesh rm;
    const assets::MeshMaterial* own = nullptr;
    if (!mesh->submeshes.empty() && mesh->submeshes[0].material >= 0 &&
        static_cast<std::size_t>(mesh->submeshes[0].material) < mesh->materials.size())
      own = &mesh->materials[static_cast<std::size_t>(mesh->submeshes[0].material)];
    if (!urdf_colour && own != nullptr) colour = own->base_colour.cast<double>();
    rm.colour = colour;
    rm.texture = load_texture(urdf_material != nullptr && !urdf_material->texture_path.empty()
                                  ? urdf_material->texture_path
                                  : own != nullptr ? own->texture : std::filesystem::path());
    if (own != nullptr) rm.specular = own->specular;
    rm.mesh = std::move(mesh);
    model->render_meshes_.push_back(std::move(rm));
    return core::MeshId{static_cast<std::uint32_t>(model->render_meshes_.size() - 1)};
  };
  std::map<std::pair<const assets::MeshData*, const assets::MaterialDesc*>, core::MeshId> mesh_ids;
  for (std::size_t r = 0; r < spec.robots.size(); ++r) {
    const auto& robot = *spec.robots[r].robot;
    for (std::size_t l = 0; l < robot.desc.links.size(); ++l) {
      const auto& link = robot.desc.links[l];
      for (std::size_t v = 0; v < link.visuals.size(); ++v) {
        const auto& visual = link.visuals[v];
        core::Vec4 colour(0.7, 0.7, 0.7, 1.0);
        const assets::MaterialDesc* material =
            visual.material >= 0 ? &robot.desc.materials[static_cast<std::size_t>(visual.material)] : nullptr;
        if (material != nullptr && material->rgba) colour = *material->rgba;
        const bool urdf_colour = material != nullptr && material->rgba.has_value();
        core::InstanceDesc inst;
        if (visual.geometry.type == assets::GeometryType::kMesh) {
          const auto& mesh = robot.visual_meshes[l][v];
          if (!mesh) continue;
          // Visuals share a mesh's upload when they share its material too.
          const auto key = std::make_pair(mesh.get(), material);
          auto it = mesh_ids.find(key);
          inst.mesh = it != mesh_ids.end() ? it->second
                                           : (mesh_ids[key] = add_material_mesh(mesh, colour, urdf_colour, material));
          inst.scale = visual.geometry.scale;
        } else {
          inst.mesh = add_material_mesh(std::make_shared<const assets::MeshData>(assets::MakePrimitiveMesh(visual.geometry)),
                                        colour, urdf_colour, material);
        }
        inst.material = core::MaterialId{inst.mesh.value};
        inst.X_BG = visual.X_LG;
        inst.body = static_cast<std::uint32_t>(model->robot_first_body_[r] + static_cast<int>(l));
        model->instances_.push_back(inst);
      }
    }
  }
  for (std::size_t o = 0; o < spec.objects.size(); ++o) {
    const ObjectSpec& os = spec.objects[o];
    core::InstanceDesc inst;
    inst.body = static_cast<std::uint32_t>(model->object_first_body_ + static_cast<int>(o));
    inst.semantic_class = os.semantic_class;
    if (os.shape == ObjectShape::kUrdf) {
      const auto& link = os.urdf->desc.links[0];
      for (std::size_t v = 0; v < link.visuals.size(); ++v) {
        const auto& visual = link.visuals[v];
        core::Vec4 colour = os.colour;
        const assets::MaterialDesc* material =
            visual.material >= 0 ? &os.urdf->desc.materials[static_cast<std::size_t>(visual.material)] : nullptr;
        if (material != nullptr && material->rgba) colour = *material->rgba;
        const bool urdf_colour = material != nullptr && material->rgba.has_value();
        const auto mesh = visual.geometry.type == assets::GeometryType::kMesh
                              ? os.urdf->visual_meshes[0][v]
                              : std::make_shared<const assets::MeshData>(assets::MakePrimitiveMesh(visual.geometry));
        if (!mesh) continue;
        core::InstanceDesc vi = inst;
        vi.mesh = add_material_mesh(mesh, colour, urdf_colour, material);
        vi.material = core::MaterialId{vi.mesh.value};
        vi.scale = visual.geometry.type == assets::GeometryType::kMesh ? visual.geometry.scale : Vec3::Ones();
        vi.X_BG = visual.X_LG;
        model->instances_.push_back(vi);
      }
    } else {
      assets::Geometry g;
      g.type = os.shape == ObjectShape::kBox ? assets::GeometryType::kBox
               : os.shape == ObjectShape::kSphere ? assets::GeometryType::kSphere
                                                  : assets::GeometryType::kCylinder;
      g.size = os.size;
      g.radius = os.radius;
      g.length = os.length;
      inst.mesh = add_material_mesh(std::make_shared<const assets::MeshData>(assets::MakePrimitiveMesh(g)), os.colour, true,
                                    nullptr);
      inst.material = core::MaterialId{inst.mesh.value};
      model->instances_.push_back(inst);
    }
  }
  model->spec_ = std::move(spec);
  return std::shared_ptr<const Model>(std::move(model));
}

}  // namespace pf::sim
