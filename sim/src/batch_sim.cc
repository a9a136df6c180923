#include "pf/sim/batch_sim.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include <BulletDynamics/Featherstone/btMultiBody.h>
#include <BulletDynamics/Featherstone/btMultiBodyConstraintSolver.h>
#include <BulletDynamics/Featherstone/btMultiBodyDynamicsWorld.h>
#include <BulletDynamics/Featherstone/btMultiBodyGearConstraint.h>
#include <BulletDynamics/Featherstone/btMultiBodyJointLimitConstraint.h>
#include <BulletDynamics/Featherstone/btMultiBodyJointMotor.h>
#include <BulletDynamics/Featherstone/btMultiBodyLinkCollider.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include "pf/core/check.h"
#include "pf/core/hash.h"
#include "shared_shapes.h"

namespace pf::sim {

using core::Pose;
using core::Vec3;
using internal::FromBt;
using internal::ToBt;

namespace {

constexpr int kBaseState = 13;    // pose 7 + twist 6
constexpr int kObjectState = 13;  // pose 7 + twist 6

void PutPose(const btVector3& p, const btQuaternion& q_WC, double* out) {
  out[0] = p.x();
  out[1] = p.y();
  out[2] = p.z();
  out[3] = q_WC.w();
  out[4] = q_WC.x();
  out[5] = q_WC.y();
  out[6] = q_WC.z();
}

btQuaternion GetQuat(const double* in7) { return btQuaternion(in7[4], in7[5], in7[6], in7[3]); }

void PoseToArray(const Pose& X, double* out) { core::PoseToArray(X, out); }

Pose FromBtTransform(const btTransform& t) {
  const btQuaternion q = t.getRotation();
  return core::MakePose(FromBt(t.getOrigin()), core::Quat(q.w(), q.x(), q.y(), q.z()));
}

// The joint position controller: an implicit PD drive solved by Bullet's constraint solver
// together with contacts and limits, stable for any gains and any pose (what PyBullet's
// POSITION_CONTROL and Isaac's joint drives do).
//
// Bullet's btMultiBodyJointMotor is a velocity constraint on the joint: at row creation it
// reads the joint's position q and its velocity v (after gravity and the explicit torques
// of this step: v = v0 + dt·M⁻¹(τ - c)) and asks for the end-of-step velocity
//   v_t = kp_m·erp·(q* - q)/dt + v + kd_m·(v* - v)
// exactly, with an impulse within ±max. As it stands that makes a stiff velocity servo
// whose response does not depend on the joint's inertia and which, when the joint is
// blocked (a finger on a part), pushes with its full effort whatever the gains.
//
// PdDrive makes the row compliant so that it is the implicit-Euler PD law itself:
//   λ = dt·(kp·(q* - q - dt·v') - kd·v'),   v' = the end-of-step velocity,
// i.e. the spring and damper evaluated at the end of the step. With erp = 1, kd_m = 1,
// v* = 0 and kp_m = dt·kp / (kd + dt·kp) the motor's target is v_t = kp·(q* - q)/(kd + dt·kp),
// and the row gets the compliance s = 1 / (dt·(kd + dt·kp)): the solver then finds
// λ = (v_t - v')/s, which is the law above. For one free joint of inertia I this gives
//   v' = (I·v + dt·kp·(q* - q)) / (I + dt·kd + dt²·kp),
// and for a robot the solver couples the rows through the true M(q): (M + dt·Kd + dt²·Kp)·v'
// = M·v + dt·Kp·(q* - q), unconditionally stable, with kp and kd the physical N m/rad and
// N m s/rad (a blocked joint pushes with kp·(q* - q), holding against a load sags by
// load / kp). Both the motor's formula and this law reproduce Bullet 3.24's results to
// round-off on a single joint. The impulse is bounded by [lower, upper] (the effort limit
// less the explicit torque the actuator also makes, see PhysicsStep).
class PdDrive final : public btMultiBodyJointMotor {
 public:
  PdDrive(btMultiBody* body, int link) : btMultiBodyJointMotor(body, link, 0.0, 0.0) { setErp(1.0); }

  // This physics step's target, gains and impulse bounds (lower <= 0 <= upper; infinite = unlimited).
  void Set(double target, double kp, double kd, double dt, double lower, double upper) {
    solved_ = false;
    const double damping = kd + dt * kp;  // the implicit law's total velocity gain
    lower_ = lower;
    upper_ = upper;
    // Bullet creates no row for a zero max impulse: no gains or no effort left, no drive.
    setMaxAppliedImpulse(damping > 0.0 ? std::max(-lower, upper) : 0.0);
    if (!(damping > 0.0)) return;
    setPositionTarget(target, dt * kp / damping);
    setVelocityTarget(0.0, 1.0);
    compliance_ = 1.0 / (dt * damping);
  }
  void Disable() {
    solved_ = false;
    setMaxAppliedImpulse(0.0);
  }
  // The impulse the drive applied in the last physics step (N m s or N s).
  double Impulse() { return solved_ ? getAppliedImpulse(0) : 0.0; }

  // The joint's island. Bullet's motor takes it from the joint's child link collider and is
  // dropped from the solve when that link has no collision geometry; every dynamic link
  // collider of a multibody is in the same island, so any of them will do.
  int getIslandIdA() const override { return IslandId(); }
  int getIslandIdB() const override { return IslandId(); }

  void createConstraintRows(btMultiBodyConstraintArray& rows, btMultiBodyJacobianData& data,
                            const btContactSolverInfo& info) override {
    const int before = rows.size();
    btMultiBodyJointMotor::createConstraintRows(rows, data, info);
    solved_ = rows.size() > before;
    if (!solved_) return;
    // Bullet's rigid row: m_rhs = D·(v_t - v), D = 1 / (J M⁻¹ Jᵀ), no compliance. The solver
    // iterates Δλ = m_rhs - λ·m_cfm - D'·J·Δv, so with D' = 1 / (J M⁻¹ Jᵀ + s) and m_cfm = D'·s
    // it converges to v_t - v' = s·λ.
    btMultiBodySolverConstraint& row = rows[rows.size() - 1];
    const double rigid = row.m_jacDiagABInv;
    const double soft = 1.0 / (1.0 / rigid + compliance_);
    row.m_rhs *= soft / rigid;
    row.m_jacDiagABInv = soft;
    row.m_cfm = soft * compliance_;
    row.m_lowerLimit = lower_;
    row.m_upperLimit = upper_;
  }

 private:
  int IslandId() const {
    const btMultiBodyLinkCollider* own = m_bodyA->getLink(m_linkA).m_collider;
    if (own != nullptr) return own->getIslandTag();
    for (int l = 0; l < m_bodyA->getNumLinks(); ++l) {
      const btMultiBodyLinkCollider* c = m_bodyA->getLink(l).m_collider;
      if (c != nullptr && !c->isStaticOrKinematicObject()) return c->getIslandTag();
    }
    return m_bodyA->getBaseCollider() != nullptr ? m_bodyA->getBaseCollider()->getIslandTag() : -1;
  }

  double compliance_ = 0.0;           // s: end-of-step velocity error per unit impulse
  double lower_ = 0.0, upper_ = 0.0;  // impulse bounds of this step
  bool solved_ = false;               // a row went to the solver this step (its impulse is valid)
};

constexpr double kUnlimited = std::numeric_limits<double>::infinity();

}  // namespace

struct BatchSim::Env {
  btDefaultCollisionConfiguration config;
  btCollisionDispatcher dispatcher;
  btSimpleBroadphase broadphase;
  btMultiBodyConstraintSolver solver;
  btMultiBodyDynamicsWorld world;
  std::vector<std::unique_ptr<btMultiBody>> robots;
  std::vector<std::unique_ptr<btMultiBodyLinkCollider>> colliders;
  std::vector<std::unique_ptr<btMultiBodyConstraint>> constraints;
  std::vector<PdDrive*> drives;  // [num_dofs], the position drive of each actuated dof (in constraints), or null
  std::unique_ptr<btRigidBody> ground;
  std::vector<std::unique_ptr<btRigidBody>> objects;
  std::vector<btQuaternion> object_rotations;  // canonical rotation of each object at the step boundary
  // Scratch, sized once.
  btAlignedObjectArray<btQuaternion> scratch_q;
  btAlignedObjectArray<btVector3> scratch_m;
  std::vector<double> subtree_mass;
  std::vector<btVector3> subtree_moment;
  std::vector<double> generalized_gravity;

  Env(const btDefaultCollisionConstructionInfo& info, int max_proxies)
      : config(info), dispatcher(&config), broadphase(max_proxies), world(&dispatcher, &broadphase, &solver, &config) {}

  ~Env() {
    for (auto& c : constraints) world.removeMultiBodyConstraint(c.get());
    for (auto& o : objects) world.removeRigidBody(o.get());
    if (ground) world.removeRigidBody(ground.get());
    for (auto& c : colliders) world.removeCollisionObject(c.get());
    for (auto& r : robots) world.removeMultiBody(r.get());
  }
};

// The threads a BatchSim steps its envs on: a TBB task arena of the configured size, one per
// size for the whole process. Arenas are shared rather than made per BatchSim because oneTBB
// keeps some memory each time an arena with worker threads is made and destroyed (about
// 2-8 KB a time here): a process that makes BatchSims again and again (datagen runs in one
// process, an editor rebuilding its scene) grew without bound. BatchSims that step at the
// same moment from different threads share the arena's workers; results do not depend on
// the thread count.
struct BatchSim::Pool {
  explicit Pool(int threads) : arena(SharedArena(threads)) {}
  tbb::task_arena& arena;

  static tbb::task_arena& SharedArena(int threads) {
    static std::mutex mutex;
    static std::map<int, std::unique_ptr<tbb::task_arena>>* arenas = new std::map<int, std::unique_ptr<tbb::task_arena>>;
    std::lock_guard lock(mutex);
    auto& arena = (*arenas)[threads];
    if (!arena) arena = std::make_unique<tbb::task_arena>(threads);
    return *arena;
  }
};

BatchSim::BatchSim(std::shared_ptr<const Model> model, const BatchSimConfig& config)
    : model_(std::move(model)), config_(config) {}

BatchSim::~BatchSim() = default;

core::Result<std::unique_ptr<BatchSim>> BatchSim::Create(std::shared_ptr<const Model> model,
                                                         const BatchSimConfig& config) {
  if (!model) return core::Fail("BatchSim needs a model");
  if (config.num_envs < 1) return core::Fail("num_envs must be at least 1", {"", 0, 0, "num_envs"});
  if (config.threads < 0) return core::Fail("threads must not be negative", {"", 0, 0, "threads"});
  if (config.max_contacts < 0) return core::Fail("max_contacts must not be negative", {"", 0, 0, "max_contacts"});
  std::unique_ptr<BatchSim> sim(new BatchSim(std::move(model), config));
  const int threads = config.threads == 0 ? tbb::this_task_arena::max_concurrency() : config.threads;
  sim->pool_ = std::make_unique<Pool>(threads);
  const std::size_t E = static_cast<std::size_t>(config.num_envs);
  const Model& m = *sim->model_;
  sim->actions_.assign(E * static_cast<std::size_t>(m.num_actuated()), 0.0);
  sim->q_.assign(E * static_cast<std::size_t>(m.num_dofs()), 0.0);
  sim->qd_.assign(E * static_cast<std::size_t>(m.num_dofs()), 0.0);
  sim->tau_.assign(E * static_cast<std::size_t>(m.num_dofs()), 0.0);
  sim->substep_tau_.assign(E * static_cast<std::size_t>(m.physics().control_substeps) * static_cast<std::size_t>(m.num_dofs()), 0.0);
  sim->substep_q_.assign(sim->substep_tau_.size(), 0.0);
  sim->substep_qd_.assign(sim->substep_tau_.size(), 0.0);
  sim->body_poses_.assign(E * static_cast<std::size_t>(m.num_bodies()) * 7, 0.0);
  sim->object_velocities_.assign(E * static_cast<std::size_t>(m.num_objects()) * 6, 0.0);
  sim->ee_wrench_.assign(E * static_cast<std::size_t>(m.num_robots()) * 6, 0.0);
  sim->contacts_.assign(E * static_cast<std::size_t>(config.max_contacts), Contact{});
  sim->num_contacts_.assign(E, 0);
  sim->steps_.assign(E, 0);
  sim->faulted_.assign(E, 0);
  sim->envs_.resize(E);
  for (int e = 0; e < config.num_envs; ++e) sim->SetEnvParams(e, EnvParams{});
  sim->initial_state_ = sim->InitialState();
  const std::vector<double>& initial = sim->initial_state_;
  sim->pool_->arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<int>(0, config.num_envs), [&](const tbb::blocked_range<int>& range) {
      for (int e = range.begin(); e != range.end(); ++e) sim->BuildEnv(e, initial);
    });
  });
  return sim;
}

std::vector<double> BatchSim::InitialState() const {
  const Model& m = *model_;
  const ModelSpec& spec = m.spec();
  const auto& shapes = m.shapes();
  std::vector<double> state(static_cast<std::size_t>(m.state_size()), 0.0);
  double* s = state.data();
  for (std::size_t r = 0; r < spec.robots.size(); ++r, s += kBaseState) {
    const Pose X_WC = spec.robots[r].X_WB * shapes.robots[r].links[0].X_FC;
    core::PoseToArray(X_WC, s);
  }
  for (int d = 0; d < m.num_dofs(); ++d) s[d] = m.dofs()[static_cast<std::size_t>(d)].initial_position;
  s += 2 * m.num_dofs();
  for (std::size_t o = 0; o < spec.objects.size(); ++o, s += kObjectState)
    core::PoseToArray(spec.objects[o].X_WO * shapes.objects[o].X_FC, s);
  for (int a = 0; a < m.num_actuated(); ++a) {
    const DofInfo& dof = m.dofs()[static_cast<std::size_t>(m.actuated()[static_cast<std::size_t>(a)])];
    const ControlMode mode = spec.robots[static_cast<std::size_t>(dof.robot)].control_mode;
    s[a] = mode == ControlMode::kJointPosition ? dof.initial_position : 0.0;
  }
  return state;
}

void BatchSim::BuildEnv(int e, const std::vector<double>& state) {
  const Model& m = *model_;
  const ModelSpec& spec = m.spec();
  const PhysicsConfig& physics = spec.physics;
  const auto& shapes = m.shapes();
  envs_[static_cast<std::size_t>(e)].reset();  // the old world goes first
  btDefaultCollisionConstructionInfo info;
  info.m_defaultMaxPersistentManifoldPoolSize = 64;
  info.m_defaultMaxCollisionAlgorithmPoolSize = 64;
  int proxies = 2 + m.num_objects();
  for (const auto& r : shapes.robots) proxies += static_cast<int>(r.links.size());
  auto env = std::make_unique<Env>(info, proxies);
  btMultiBodyDynamicsWorld& world = env->world;
  world.setGravity(ToBt(physics.gravity));
  env->drives.assign(static_cast<std::size_t>(m.num_dofs()), nullptr);
  btContactSolverInfo& solver = world.getSolverInfo();
  solver.m_numIterations = physics.solver_iterations;
  solver.m_leastSquaresResidualThreshold = physics.solver_residual;
  world.getDispatchInfo().m_deterministicOverlappingPairs = true;
  const double default_friction = physics.default_friction;
  const double default_restitution = physics.default_restitution;
  auto surface = [&](btCollisionObject* object, const internal::BodyShape& body) {
    object->setFriction(body.friction >= 0.0 ? body.friction : default_friction);
    object->setRestitution(body.restitution >= 0.0 ? body.restitution : default_restitution);
    object->setRollingFriction(body.rolling_friction);
    object->setSpinningFriction(body.spinning_friction);
    object->setActivationState(DISABLE_DEACTIVATION);
  };

  if (spec.ground_plane) {
    btRigidBody::btRigidBodyConstructionInfo ci(0.0, nullptr, shapes.ground.get());
    env->ground = std::make_unique<btRigidBody>(ci);
    env->ground->setFriction(default_friction);
    env->ground->setRestitution(default_restitution);
    env->ground->setUserIndex(0);
    world.addRigidBody(env->ground.get(), btBroadphaseProxy::StaticFilter,
                       btBroadphaseProxy::AllFilter ^ btBroadphaseProxy::StaticFilter);
  }

  const double* s = state.data();
  const double* q = s + kBaseState * m.num_robots();
  const double* qd = q + m.num_dofs();
  const double* objects = qd + m.num_dofs();
  const double* control = objects + kObjectState * m.num_objects();
  for (std::size_t r = 0; r < spec.robots.size(); ++r) {
    const RobotSpec& rs = spec.robots[r];
    const assets::RobotDesc& desc = rs.robot->desc;
    const auto& links = shapes.robots[r].links;
    const int n = static_cast<int>(desc.links.size()) - 1;
    auto mb = std::make_unique<btMultiBody>(n, links[0].mass, ToBt(links[0].inertia), rs.fixed_base, false);
    for (int l = 1; l <= n; ++l) {
      const auto& joint = desc.joints[static_cast<std::size_t>(l - 1)];
      const auto& parent = links[static_cast<std::size_t>(joint.parent_link)];
      const auto& child = links[static_cast<std::size_t>(l)];
      const Pose X_PcJ = parent.X_FC.inverse() * joint.X_PJ;
      const Pose X_PcC = X_PcJ * child.X_FC;
      const core::Quat q_CPc(X_PcC.rotation().transpose());
      const btQuaternion rot_parent_to_this = internal::ToBtQuat(q_CPc);
      const Vec3 parent_com_to_pivot = X_PcJ.translation();
      const Vec3 pivot_to_com = child.X_FC.rotation().transpose() * child.X_FC.translation();
      const Vec3 axis = child.X_FC.rotation().transpose() * joint.axis;
      switch (joint.type) {
        case assets::JointType::kRevolute:
        case assets::JointType::kContinuous:
          mb->setupRevolute(l - 1, child.mass, ToBt(child.inertia), joint.parent_link - 1, rot_parent_to_this,
                            ToBt(axis), ToBt(parent_com_to_pivot), ToBt(pivot_to_com), true);
          break;
        case assets::JointType::kPrismatic:
          mb->setupPrismatic(l - 1, child.mass, ToBt(child.inertia), joint.parent_link - 1, rot_parent_to_this,
                             ToBt(axis), ToBt(parent_com_to_pivot), ToBt(pivot_to_com), true);
          break;
        default:
          mb->setupFixed(l - 1, child.mass, ToBt(child.inertia), joint.parent_link - 1, rot_parent_to_this,
                         ToBt(parent_com_to_pivot), ToBt(pivot_to_com), true);
          break;
      }
    }
    mb->finalizeMultiDof();
    mb->setLinearDamping(0.0);
    mb->setAngularDamping(0.0);
    mb->setMaxCoordinateVelocity(physics.max_joint_velocity);
    mb->setHasSelfCollision(rs.self_collision);
    mb->setCanSleep(false);
    const double* base = s + kBaseState * static_cast<int>(r);
    mb->setBasePos(btVector3(base[0], base[1], base[2]));
    mb->setWorldToBaseRot(GetQuat(base).inverse());
    mb->setBaseVel(btVector3(base[7], base[8], base[9]));
    mb->setBaseOmega(btVector3(base[10], base[11], base[12]));
    world.addMultiBody(mb.get());

    const int first_body = m.robot_first_body(static_cast<int>(r));
    for (int l = 0; l <= n; ++l) {
      const auto& body = links[static_cast<std::size_t>(l)];
      if (body.shape == nullptr) continue;
      auto collider = std::make_unique<btMultiBodyLinkCollider>(mb.get(), l - 1);
      collider->setCollisionShape(body.shape);
      surface(collider.get(), body);
      collider->setUserIndex(first_body + l + 1);
      const bool is_static = rs.fixed_base && l == 0;
      if (l == 0) mb->setBaseCollider(collider.get());
      else mb->getLink(l - 1).m_collider = collider.get();
      world.addCollisionObject(collider.get(),
                               is_static ? btBroadphaseProxy::StaticFilter : btBroadphaseProxy::DefaultFilter,
                               is_static ? btBroadphaseProxy::AllFilter ^ btBroadphaseProxy::StaticFilter
                                         : btBroadphaseProxy::AllFilter);
      env->colliders.push_back(std::move(collider));
    }
    const int first_dof = m.robot_first_dof(static_cast<int>(r));
    for (int d = first_dof; d < m.robot_end_dof(static_cast<int>(r)); ++d) {
      const DofInfo& dof = m.dofs()[static_cast<std::size_t>(d)];
      mb->setJointPos(dof.link - 1, q[d]);
      mb->setJointVel(dof.link - 1, qd[d]);
      if (rs.control_mode == ControlMode::kJointPosition && dof.mimic_of < 0) {
        // Inactive until PhysicsStep sets its target and gains.
        auto drive = std::make_unique<PdDrive>(mb.get(), dof.link - 1);
        world.addMultiBodyConstraint(drive.get());
        env->drives[static_cast<std::size_t>(d)] = drive.get();
        env->constraints.push_back(std::move(drive));
      }
      if (dof.has_limits) {
        auto limit = std::make_unique<btMultiBodyJointLimitConstraint>(mb.get(), dof.link - 1, dof.lower, dof.upper);
        world.addMultiBodyConstraint(limit.get());
        env->constraints.push_back(std::move(limit));
      }
      if (dof.mimic_of >= 0) {
        const DofInfo& leader = m.dofs()[static_cast<std::size_t>(dof.mimic_of)];
        auto gear = std::make_unique<btMultiBodyGearConstraint>(mb.get(), leader.link - 1, mb.get(), dof.link - 1,
                                                                btVector3(0, 0, 0), btVector3(0, 0, 0),
                                                                btMatrix3x3::getIdentity(), btMatrix3x3::getIdentity());
        // Velocity coupling qd_follower = multiplier · qd_leader, with position drift
        // corrected towards q_follower = multiplier · q_leader + offset.
        gear->setGearRatio(-dof.mimic_multiplier);
        gear->setRelativePositionTarget(dof.mimic_offset);
        gear->setErp(0.2);
        gear->setMaxAppliedImpulse(1e3);
        world.addMultiBodyConstraint(gear.get());
        env->constraints.push_back(std::move(gear));
      }
    }
    env->robots.push_back(std::move(mb));
  }

  for (std::size_t o = 0; o < spec.objects.size(); ++o) {
    const auto& body = shapes.objects[o];
    const double* x = objects + kObjectState * static_cast<int>(o);
    const std::size_t eo = static_cast<std::size_t>(e) * spec.objects.size() + o;
    const double mass = object_mass_[eo];
    // Same shape, other mass: the inertia scales with it.
    const Vec3 inertia = body.mass > 0.0 ? Vec3(body.inertia * (mass / body.mass)) : Vec3(body.inertia);
    btRigidBody::btRigidBodyConstructionInfo ci(mass, nullptr, body.shape, ToBt(inertia));
    auto rigid = std::make_unique<btRigidBody>(ci);
    const btQuaternion rotation = GetQuat(x);
    rigid->setCenterOfMassTransform(btTransform(rotation, btVector3(x[0], x[1], x[2])));
    rigid->setLinearVelocity(btVector3(x[7], x[8], x[9]));
    rigid->setAngularVelocity(btVector3(x[10], x[11], x[12]));
    rigid->setDamping(0.0, 0.0);
    rigid->setSleepingThresholds(0.0, 0.0);
    surface(rigid.get(), body);
    rigid->setFriction(object_friction_[eo]);
    rigid->setRestitution(object_restitution_[eo]);
    rigid->setUserIndex(m.object_body(static_cast<int>(o)) + 1);
    if (mass > 0.0) {
      world.addRigidBody(rigid.get());
    } else {
      world.addRigidBody(rigid.get(), btBroadphaseProxy::StaticFilter,
                         btBroadphaseProxy::AllFilter ^ btBroadphaseProxy::StaticFilter);
    }
    env->object_rotations.push_back(rotation);
    env->objects.push_back(std::move(rigid));
  }
  for (auto& mb : env->robots) {
    mb->forwardKinematics(env->scratch_q, env->scratch_m);
    mb->updateCollisionObjectWorldTransforms(env->scratch_q, env->scratch_m);
  }
  std::size_t max_links = 1;
  for (const auto& r : shapes.robots) max_links = std::max(max_links, r.links.size());
  env->subtree_mass.assign(max_links, 0.0);
  env->subtree_moment.assign(max_links, btVector3(0, 0, 0));
  env->generalized_gravity.assign(static_cast<std::size_t>(m.num_dofs()), 0.0);

  const std::size_t E = static_cast<std::size_t>(e);
  std::copy(control, control + m.num_actuated(), actions_.begin() + static_cast<std::ptrdiff_t>(E * static_cast<std::size_t>(m.num_actuated())));
  steps_[E] = static_cast<std::uint64_t>(control[m.num_actuated()]);
  envs_[E] = std::move(env);
  num_contacts_[E] = 0;
  std::fill(tau_.begin() + static_cast<std::ptrdiff_t>(E * static_cast<std::size_t>(m.num_dofs())),
            tau_.begin() + static_cast<std::ptrdiff_t>((E + 1) * static_cast<std::size_t>(m.num_dofs())), 0.0);
  ReadEnv(e);
}

void BatchSim::PhysicsStep(int e) {
  const Model& m = *model_;
  const ModelSpec& spec = m.spec();
  const PhysicsConfig& physics = spec.physics;
  const auto& shapes = m.shapes();
  Env& env = *envs_[static_cast<std::size_t>(e)];
  const std::size_t E = static_cast<std::size_t>(e);
  const double* action = actions_.data() + E * static_cast<std::size_t>(m.num_actuated());
  double* tau_last = tau_.data() + E * static_cast<std::size_t>(m.num_dofs());
  const std::size_t nd = static_cast<std::size_t>(m.num_dofs());
  const double dt = physics.timestep;
  const btVector3 gravity = ToBt(physics.gravity);

  for (int sub = 0; sub < physics.control_substeps; ++sub) {
    double* tau_out = substep_tau_.data() + (E * static_cast<std::size_t>(physics.control_substeps) + static_cast<std::size_t>(sub)) * nd;
    for (std::size_t r = 0; r < env.robots.size(); ++r) {
      btMultiBody& mb = *env.robots[r];
      const RobotSpec& rs = spec.robots[r];
      const auto& links = shapes.robots[r].links;
      const int first_dof = m.robot_first_dof(static_cast<int>(r));
      const int end_dof = m.robot_end_dof(static_cast<int>(r));
      // Gravity compensation: generalized gravity from subtree masses and centres of mass.
      if (rs.gravity_compensation) {
        mb.forwardKinematics(env.scratch_q, env.scratch_m);
        const int n = mb.getNumLinks();
        for (int l = n; l >= 1; --l) {
          env.subtree_mass[static_cast<std::size_t>(l)] = links[static_cast<std::size_t>(l)].mass;
          env.subtree_moment[static_cast<std::size_t>(l)] =
              links[static_cast<std::size_t>(l)].mass * mb.getLink(l - 1).m_cachedWorldTransform.getOrigin();
        }
        for (int l = n; l >= 1; --l) {
          const int parent = mb.getLink(l - 1).m_parent + 1;
          if (parent >= 1) {
            env.subtree_mass[static_cast<std::size_t>(parent)] += env.subtree_mass[static_cast<std::size_t>(l)];
            env.subtree_moment[static_cast<std::size_t>(parent)] += env.subtree_moment[static_cast<std::size_t>(l)];
          }
        }
        for (int d = first_dof; d < end_dof; ++d) {
          const DofInfo& dof = m.dofs()[static_cast<std::size_t>(d)];
          const btMultibodyLink& link = mb.getLink(dof.link - 1);
          const btTransform& X_WC = link.m_cachedWorldTransform;
          const double M = env.subtree_mass[static_cast<std::size_t>(dof.link)];
          const btVector3& S = env.subtree_moment[static_cast<std::size_t>(dof.link)];
          double Q;
          if (link.m_jointType == btMultibodyLink::ePrismatic) {
            const btVector3 axis = X_WC.getBasis() * link.getAxisBottom(0);
            Q = M * gravity.dot(axis);
          } else {
            const btVector3 axis = X_WC.getBasis() * link.getAxisTop(0);
            const btVector3 pivot = X_WC.getOrigin() - X_WC.getBasis() * link.m_dVector;
            Q = axis.dot((S - M * pivot).cross(gravity));
          }
          env.generalized_gravity[static_cast<std::size_t>(d)] = Q;
        }
        for (int d = first_dof; d < end_dof; ++d) {
          const DofInfo& dof = m.dofs()[static_cast<std::size_t>(d)];
          if (dof.mimic_of >= 0) {
            env.generalized_gravity[static_cast<std::size_t>(dof.mimic_of)] +=
                dof.mimic_multiplier * env.generalized_gravity[static_cast<std::size_t>(d)];
            env.generalized_gravity[static_cast<std::size_t>(d)] = 0.0;
          }
        }
      }
      for (int d = first_dof; d < end_dof; ++d) {
        const DofInfo& dof = m.dofs()[static_cast<std::size_t>(d)];
        const double qd = mb.getJointVel(dof.link - 1);
        const double kp = kp_[E * nd + static_cast<std::size_t>(d)], kd = kd_[E * nd + static_cast<std::size_t>(d)];
        double tau = 0.0;
        if (dof.mimic_of < 0) {
          const double target = action[dof.action];
          switch (rs.control_mode) {
            case ControlMode::kJointPosition: break;  // the drive (below) makes the PD torque
            case ControlMode::kJointVelocity: tau = kd * (target - qd); break;
            case ControlMode::kJointTorque: tau = target; break;
          }
          if (rs.gravity_compensation) tau -= env.generalized_gravity[static_cast<std::size_t>(d)];
          if (dof.max_effort > 0.0) tau = std::clamp(tau, -dof.max_effort, dof.max_effort);
          if (PdDrive* drive = env.drives[static_cast<std::size_t>(d)]) {
            // Gravity compensation stays an explicit feed-forward torque, so the PD sees a
            // weightless arm and holds a pose without sagging (without it the drive absorbs
            // gravity and sags by g(q) / kp). The drive's impulse bounds are what the effort
            // limit leaves of it on either side, so compensation plus drive can use, and
            // never exceed, the whole ±max_effort (a symmetric ±(max_effort - |g|) budget
            // would lose 2|g| of authority in the direction of gravity).
            const double lower = dof.max_effort > 0.0 ? (-dof.max_effort - tau) * dt : -kUnlimited;
            const double upper = dof.max_effort > 0.0 ? (dof.max_effort - tau) * dt : kUnlimited;
            drive->Set(target, kp, kd, dt, lower, upper);
          }
        }
        // Passive joint damping and Coulomb friction (Bullet ignores the URDF values). The
        // friction torque never exceeds what would stop the joint within half a step.
        tau -= damping_[E * nd + static_cast<std::size_t>(d)] * qd;
        if (dof.friction > 0.0 && qd != 0.0)
          tau -= std::copysign(std::min(dof.friction, 0.5 * dof.inertia * std::abs(qd) / dt), qd);
        mb.addJointTorque(dof.link - 1, tau);
        tau_out[d] = tau;
      }
    }
    env.world.stepSimulation(dt, 0, dt);
    // The applied torque of a driven joint: its explicit torques plus the drive's impulse.
    for (std::size_t d = 0; d < nd; ++d)
      if (PdDrive* drive = env.drives[d]) tau_out[d] += drive->Impulse() / dt;
    if (sub + 1 == physics.control_substeps) std::copy_n(tau_out, nd, tau_last);
    // Joint state after every physics step (the cerebellum stream's rate).
    const std::size_t row = (E * static_cast<std::size_t>(physics.control_substeps) + static_cast<std::size_t>(sub)) * nd;
    for (std::size_t d = 0; d < nd; ++d) {
      const DofInfo& dof = m.dofs()[d];
      const btMultiBody& body = *env.robots[static_cast<std::size_t>(dof.robot)];
      substep_q_[row + d] = body.getJointPos(dof.link - 1);
      substep_qd_[row + d] = body.getJointVel(dof.link - 1);
    }
  }
}

void BatchSim::ReadEnv(int e) {
  const Model& m = *model_;
  const auto& shapes = m.shapes();
  Env& env = *envs_[static_cast<std::size_t>(e)];
  const std::size_t E = static_cast<std::size_t>(e);
  double* q = q_.data() + E * static_cast<std::size_t>(m.num_dofs());
  double* qd = qd_.data() + E * static_cast<std::size_t>(m.num_dofs());
  double* poses = body_poses_.data() + E * static_cast<std::size_t>(m.num_bodies()) * 7;
  for (std::size_t r = 0; r < env.robots.size(); ++r) {
    btMultiBody& mb = *env.robots[r];
    mb.forwardKinematics(env.scratch_q, env.scratch_m);
    const auto& links = shapes.robots[r].links;
    const int first_body = m.robot_first_body(static_cast<int>(r));
    PoseToArray(FromBtTransform(mb.getBaseWorldTransform()) * links[0].X_FC.inverse(), poses + 7 * first_body);
    for (int l = 1; l <= mb.getNumLinks(); ++l)
      PoseToArray(FromBtTransform(mb.getLink(l - 1).m_cachedWorldTransform) * links[static_cast<std::size_t>(l)].X_FC.inverse(),
                  poses + 7 * (first_body + l));
  }
  for (int d = 0; d < m.num_dofs(); ++d) {
    const DofInfo& dof = m.dofs()[static_cast<std::size_t>(d)];
    q[d] = env.robots[static_cast<std::size_t>(dof.robot)]->getJointPos(dof.link - 1);
    qd[d] = env.robots[static_cast<std::size_t>(dof.robot)]->getJointVel(dof.link - 1);
  }
  double* velocities = object_velocities_.data() + E * static_cast<std::size_t>(m.num_objects()) * 6;
  for (std::size_t o = 0; o < env.objects.size(); ++o) {
    btRigidBody& body = *env.objects[o];
    PoseToArray(FromBtTransform(btTransform(env.object_rotations[o], body.getCenterOfMassPosition())) *
                    shapes.objects[o].X_FC.inverse(),
                poses + 7 * m.object_body(static_cast<int>(o)));
    const btVector3 v = body.getLinearVelocity(), w = body.getAngularVelocity();
    double* out = velocities + 6 * o;
    out[0] = v.x(); out[1] = v.y(); out[2] = v.z();
    out[3] = w.x(); out[4] = w.y(); out[5] = w.z();
  }
  // Contacts of the last physics step, in the dispatcher's (canonical) order, and the
  // end-effector wrenches they make.
  Contact* contacts = contacts_.data() + E * static_cast<std::size_t>(config_.max_contacts);
  int count = 0;
  const double dt = m.physics().timestep;
  double* wrench = ee_wrench_.data() + E * static_cast<std::size_t>(m.num_robots()) * 6;
  std::fill(wrench, wrench + 6 * m.num_robots(), 0.0);
  for (int i = 0; i < env.dispatcher.getNumManifolds(); ++i) {
    const btPersistentManifold* manifold = env.dispatcher.getManifoldByIndexInternal(i);
    const int body0 = manifold->getBody0()->getUserIndex() - 1;
    const int body1 = manifold->getBody1()->getUserIndex() - 1;
    const int robot0 = body0 >= 0 ? m.end_effector_robot_of_body(body0) : -1;
    const int robot1 = body1 >= 0 ? m.end_effector_robot_of_body(body1) : -1;
    if (robot0 != robot1) {
      for (int p = 0; p < manifold->getNumContacts(); ++p) {
        const btManifoldPoint& point = manifold->getContactPoint(p);
        // Force on body 0 (the normal points from body 1 to body 0).
        const btVector3 f = (point.m_normalWorldOnB * point.getAppliedImpulse() +
                             point.m_lateralFrictionDir1 * point.m_appliedImpulseLateral1 +
                             point.m_lateralFrictionDir2 * point.m_appliedImpulseLateral2) /
                            dt;
        for (const auto& [robot, sign, at] : {std::tuple{robot0, 1.0, point.getPositionWorldOnA()},
                                              std::tuple{robot1, -1.0, point.getPositionWorldOnB()}}) {
          if (robot < 0) continue;
          const double* ee = poses + 7 * m.end_effector_body(robot);
          const btVector3 force = sign * f;
          const btVector3 torque = (at - btVector3(ee[0], ee[1], ee[2])).cross(force);
          double* w = wrench + 6 * robot;
          w[0] += force.x(); w[1] += force.y(); w[2] += force.z();
          w[3] += torque.x(); w[4] += torque.y(); w[5] += torque.z();
        }
      }
    }
    for (int p = 0; p < manifold->getNumContacts() && count < config_.max_contacts; ++p) {
      const btManifoldPoint& point = manifold->getContactPoint(p);
      Contact& c = contacts[count++];
      c.body_a = manifold->getBody0()->getUserIndex() - 1;
      c.body_b = manifold->getBody1()->getUserIndex() - 1;
      const btVector3 pw = point.getPositionWorldOnB();
      c.p_W[0] = pw.x(); c.p_W[1] = pw.y(); c.p_W[2] = pw.z();
      c.n_W[0] = point.m_normalWorldOnB.x(); c.n_W[1] = point.m_normalWorldOnB.y(); c.n_W[2] = point.m_normalWorldOnB.z();
      c.normal_force = point.getAppliedImpulse() / dt;
      c.distance = point.getDistance();
    }
  }
  num_contacts_[E] = count;
  // Drop contact caches at the step boundary (see the header): algorithms and manifolds are
  // recreated next step in the sorted pair order, as they would be in a fresh world.
  btOverlappingPairCache* pairs = env.broadphase.getOverlappingPairCache();
  btBroadphasePairArray& array = pairs->getOverlappingPairArray();
  for (int i = 0; i < array.size(); ++i) pairs->cleanOverlappingPair(array[i], &env.dispatcher);
}

void BatchSim::CanonicalizeEnv(int e) {
  // Each object's basis is rebuilt from its quaternion, so the state (position,
  // quaternion) describes the world exactly and SetState can rebuild it bit for bit.
  Env& env = *envs_[static_cast<std::size_t>(e)];
  for (std::size_t o = 0; o < env.objects.size(); ++o) {
    btRigidBody& body = *env.objects[o];
    const btTransform& X = body.getCenterOfMassTransform();
    const btQuaternion rotation = X.getRotation().normalized();
    body.setCenterOfMassTransform(btTransform(rotation, X.getOrigin()));
    env.object_rotations[o] = rotation;
  }
}

bool BatchSim::EnvIsHealthy(int e) const {
  const Model& m = *model_;
  const double limit = m.physics().fault_velocity;
  const std::size_t E = static_cast<std::size_t>(e);
  for (int d = 0; d < m.num_dofs(); ++d) {
    const double q = q_[E * static_cast<std::size_t>(m.num_dofs()) + static_cast<std::size_t>(d)];
    const double qd = qd_[E * static_cast<std::size_t>(m.num_dofs()) + static_cast<std::size_t>(d)];
    if (!std::isfinite(q) || !std::isfinite(qd) || std::abs(qd) > limit) return false;
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(m.num_bodies()) * 7; ++i)
    if (!std::isfinite(body_poses_[E * static_cast<std::size_t>(m.num_bodies()) * 7 + i])) return false;
  for (std::size_t i = 0; i < static_cast<std::size_t>(m.num_objects()) * 6; ++i) {
    const double v = object_velocities_[E * static_cast<std::size_t>(m.num_objects()) * 6 + i];
    if (!std::isfinite(v) || std::abs(v) > limit) return false;
  }
  return true;
}

void BatchSim::Step() { Step(EnvFn{}, EnvFn{}); }

void BatchSim::Step(const EnvFn& before, const EnvFn& after) {
  pool_->arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int>(0, config_.num_envs),
        [&](const tbb::blocked_range<int>& range) {
          for (int e = range.begin(); e != range.end(); ++e) {
            if (before) before(e);
            StepEnv(e);
            if (after) after(e);
          }
        },
        tbb::static_partitioner());
  });
}

void BatchSim::StepEnv(int e) {
  PF_CHECK(e >= 0 && e < config_.num_envs, "env ", e, " out of range");
  const std::size_t E = static_cast<std::size_t>(e);
  PhysicsStep(e);
  CanonicalizeEnv(e);
  ++steps_[E];
  ReadEnv(e);
  faulted_[E] = EnvIsHealthy(e) ? 0 : 1;
  // A faulted env restarts from the initial state; the rest are untouched.
  if (faulted_[E]) {
    fault_count_.fetch_add(1, std::memory_order_relaxed);
    BuildEnv(e, initial_state_);
  }
}

void BatchSim::ForEachEnv(const EnvFn& fn) {
  pool_->arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int>(0, config_.num_envs),
        [&](const tbb::blocked_range<int>& range) {
          for (int e = range.begin(); e != range.end(); ++e) fn(e);
        },
        tbb::static_partitioner());
  });
}

void BatchSim::StepRaw(std::span<const double> torques) {
  const double dt = model_->physics().timestep;
  const int substeps = model_->physics().control_substeps;
  const std::size_t nd = static_cast<std::size_t>(model_->num_dofs());
  PF_CHECK(torques.size() == static_cast<std::size_t>(config_.num_envs) * static_cast<std::size_t>(substeps) * nd,
           "StepRaw wants [num_envs × substeps × num_dofs] torques");
  pool_->arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int>(0, config_.num_envs),
        [&](const tbb::blocked_range<int>& range) {
          for (int e = range.begin(); e != range.end(); ++e) {
            Env& env = *envs_[static_cast<std::size_t>(e)];
            for (PdDrive* drive : env.drives)
              if (drive != nullptr) drive->Disable();  // raw torques only (Step sets them again)
            for (int s = 0; s < substeps; ++s) {
              const double* tau = torques.data() + (static_cast<std::size_t>(e) * static_cast<std::size_t>(substeps) + static_cast<std::size_t>(s)) * nd;
              for (std::size_t d = 0; d < nd; ++d) {
                const DofInfo& dof = model_->dofs()[d];
                env.robots[static_cast<std::size_t>(dof.robot)]->addJointTorque(dof.link - 1, tau[d]);
              }
              env.world.stepSimulation(dt, 0, dt);
            }
          }
        },
        tbb::static_partitioner());
  });
}

void BatchSim::ResetEnv(int env) {
  PF_CHECK(env >= 0 && env < config_.num_envs, "env ", env, " out of range");
  BuildEnv(env, InitialState());
}

void BatchSim::SetEnvParams(int env, const EnvParams& params) {
  const Model& m = *model_;
  PF_CHECK(env >= 0 && env < config_.num_envs, "env ", env, " out of range");
  const std::size_t nd = static_cast<std::size_t>(m.num_dofs()), no = static_cast<std::size_t>(m.num_objects());
  auto sized = [](const std::vector<double>& v, std::size_t n, const char* name) {
    PF_CHECK(v.empty() || v.size() == n, "EnvParams::", name, " has ", v.size(), " entries, want 0 or ", n);
    return !v.empty();
  };
  const bool mass = sized(params.object_mass, no, "object_mass");
  const bool friction = sized(params.object_friction, no, "object_friction");
  const bool restitution = sized(params.object_restitution, no, "object_restitution");
  const bool gains = sized(params.gain_scale, static_cast<std::size_t>(m.num_actuated()), "gain_scale");
  const bool damping = sized(params.joint_damping, nd, "joint_damping");
  if (kp_.empty()) {
    const std::size_t E = static_cast<std::size_t>(config_.num_envs);
    kp_.resize(E * nd); kd_.resize(E * nd); damping_.resize(E * nd);
    object_mass_.resize(E * no); object_friction_.resize(E * no); object_restitution_.resize(E * no);
  }
  const std::size_t e = static_cast<std::size_t>(env);
  for (std::size_t d = 0; d < nd; ++d) {
    const DofInfo& dof = m.dofs()[d];
    const double scale = gains && dof.action >= 0 ? params.gain_scale[static_cast<std::size_t>(dof.action)] : 1.0;
    kp_[e * nd + d] = dof.kp * scale;
    kd_[e * nd + d] = dof.kd * scale;
    damping_[e * nd + d] = damping ? params.joint_damping[d] : dof.damping;
  }
  const PhysicsConfig& physics = m.physics();
  for (std::size_t o = 0; o < no; ++o) {
    const internal::BodyShape& body = m.shapes().objects[o];
    object_mass_[e * no + o] = mass && body.mass > 0.0 ? params.object_mass[o] : body.mass;
    object_friction_[e * no + o] = friction ? params.object_friction[o]
                                   : body.friction >= 0.0 ? body.friction : physics.default_friction;
    object_restitution_[e * no + o] = restitution ? params.object_restitution[o]
                                      : body.restitution >= 0.0 ? body.restitution : physics.default_restitution;
  }
}

int BatchSim::StateOffset(StateMask section) const {
  int offset = 0;
  const std::uint32_t sections[] = {kStateRobotBase, kStateJoints, kStateObjects, kStateControl};
  for (std::uint32_t s : sections) {
    if (s == static_cast<std::uint32_t>(section)) return offset;
    offset += StateSize(s);
  }
  PF_CHECK(false, "StateOffset wants a single section");
  return 0;
}

void BatchSim::SetObjectPoseInState(std::span<double> state, int object, const core::Pose& X_WO) const {
  const Model& m = *model_;
  PF_CHECK(static_cast<int>(state.size()) == StateSize(kStateAll), "SetObjectPoseInState wants a full state");
  PF_CHECK(object >= 0 && object < m.num_objects(), "object ", object, " out of range");
  double* x = state.data() + StateOffset(kStateObjects) + kObjectState * object;
  core::PoseToArray(X_WO * m.shapes().objects[static_cast<std::size_t>(object)].X_FC, x);
  std::fill(x + 7, x + kObjectState, 0.0);
}

void BatchSim::ResetAll() {
  const std::vector<double> initial = InitialState();
  pool_->arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<int>(0, config_.num_envs), [&](const tbb::blocked_range<int>& range) {
      for (int e = range.begin(); e != range.end(); ++e) BuildEnv(e, initial);
    });
  });
}

std::span<const Contact> BatchSim::contacts(int env) const {
  return {contacts_.data() + static_cast<std::size_t>(env) * static_cast<std::size_t>(config_.max_contacts),
          static_cast<std::size_t>(num_contacts_[static_cast<std::size_t>(env)])};
}

BatchSim::RayHit BatchSim::RayCast(int env, const Vec3& p_W, const Vec3& q_W) const {
  PF_CHECK(env >= 0 && env < config_.num_envs, "env ", env, " out of range");
  const btVector3 from = ToBt(p_W), to = ToBt(q_W);
  btCollisionWorld::ClosestRayResultCallback callback(from, to);
  envs_[static_cast<std::size_t>(env)]->world.rayTest(from, to, callback);
  RayHit hit;
  if (!callback.hasHit()) return hit;
  hit.hit = true;
  hit.body = callback.m_collisionObject->getUserIndex() - 1;
  hit.fraction = callback.m_closestHitFraction;
  hit.p_W = FromBt(callback.m_hitPointWorld);
  hit.n_W = FromBt(callback.m_hitNormalWorld);
  return hit;
}

int BatchSim::StateSize(std::uint32_t mask) const {
  const Model& m = *model_;
  int size = 0;
  if (mask & kStateRobotBase) size += kBaseState * m.num_robots();
  if (mask & kStateJoints) size += 2 * m.num_dofs();
  if (mask & kStateObjects) size += kObjectState * m.num_objects();
  if (mask & kStateControl) size += m.num_actuated() + 1;
  return size;
}

void BatchSim::GetState(int e, std::uint32_t mask, std::span<double> out) const {
  PF_CHECK(static_cast<int>(out.size()) == StateSize(mask), "state buffer has ", out.size(), " entries, want ",
           StateSize(mask));
  const Model& m = *model_;
  const Env& env = *envs_[static_cast<std::size_t>(e)];
  const std::size_t E = static_cast<std::size_t>(e);
  double* s = out.data();
  if (mask & kStateRobotBase) {
    for (const auto& mb : env.robots) {
      PutPose(mb->getBasePos(), mb->getWorldToBaseRot().inverse(), s);
      const btVector3 v = mb->getBaseVel(), w = mb->getBaseOmega();
      s[7] = v.x(); s[8] = v.y(); s[9] = v.z(); s[10] = w.x(); s[11] = w.y(); s[12] = w.z();
      s += kBaseState;
    }
  }
  if (mask & kStateJoints) {
    std::copy_n(q_.data() + E * static_cast<std::size_t>(m.num_dofs()), m.num_dofs(), s);
    std::copy_n(qd_.data() + E * static_cast<std::size_t>(m.num_dofs()), m.num_dofs(), s + m.num_dofs());
    s += 2 * m.num_dofs();
  }
  if (mask & kStateObjects) {
    for (std::size_t o = 0; o < env.objects.size(); ++o) {
      const btRigidBody& body = *env.objects[o];
      PutPose(body.getCenterOfMassPosition(), env.object_rotations[o], s);
      const btVector3 v = body.getLinearVelocity(), w = body.getAngularVelocity();
      s[7] = v.x(); s[8] = v.y(); s[9] = v.z(); s[10] = w.x(); s[11] = w.y(); s[12] = w.z();
      s += kObjectState;
    }
  }
  if (mask & kStateControl) {
    std::copy_n(actions_.data() + E * static_cast<std::size_t>(m.num_actuated()), m.num_actuated(), s);
    s[m.num_actuated()] = static_cast<double>(steps_[E]);
  }
}

void BatchSim::SetState(int e, std::uint32_t mask, std::span<const double> in) {
  PF_CHECK(static_cast<int>(in.size()) == StateSize(mask), "state has ", in.size(), " entries, want ", StateSize(mask));
  std::vector<double> full(static_cast<std::size_t>(StateSize(kStateAll)));
  GetState(e, kStateAll, full);
  const double* src = in.data();
  double* dst = full.data();
  const std::uint32_t sections[] = {kStateRobotBase, kStateJoints, kStateObjects, kStateControl};
  for (std::uint32_t section : sections) {
    const int size = StateSize(section);
    if (mask & section) {
      std::copy_n(src, size, dst);
      src += size;
    }
    dst += size;
  }
  BuildEnv(e, full);
}

std::uint64_t BatchSim::EnvStateHash(int e) const {
  std::vector<double> state(static_cast<std::size_t>(StateSize(kStateAll)));
  GetState(e, kStateAll, state);
  core::Hasher h;
  h.Span(std::span<const double>(state));
  return h.Digest();
}

std::uint64_t BatchSim::StateHash() const {
  core::Hasher h;
  for (int e = 0; e < config_.num_envs; ++e) h.U64(EnvStateHash(e));
  return h.Digest();
}

void BatchSim::WriteSnapshot(core::RenderSnapshot* snapshot) const {
  const Model& m = *model_;
  snapshot->instances = m.instances();
  snapshot->Resize(static_cast<std::uint32_t>(config_.num_envs), static_cast<std::uint32_t>(m.num_bodies()),
                   snapshot->num_cameras);
  snapshot->body_poses = body_poses_;
  const std::size_t n = m.instances().size();
  for (int e = 0; e < config_.num_envs; ++e)
    for (std::size_t i = 0; i < n; ++i)
      snapshot->segmentation_ids[static_cast<std::size_t>(e) * n + i] = m.instances()[i].body + 1;
  snapshot->step = steps_.empty() ? 0 : steps_[0];
}

void BatchSim::WriteSnapshot(std::span<const int> env_ids, core::RenderSnapshot* snapshot) const {
  const Model& m = *model_;
  if (snapshot->instances.size() != m.instances().size()) snapshot->instances = m.instances();
  const std::size_t B = static_cast<std::size_t>(m.num_bodies()) * 7;
  snapshot->Resize(static_cast<std::uint32_t>(env_ids.size()), static_cast<std::uint32_t>(m.num_bodies()),
                   snapshot->num_cameras);
  const std::size_t n = m.instances().size();
  for (std::size_t r = 0; r < env_ids.size(); ++r) {
    const int e = env_ids[r];
    PF_CHECK(e >= 0 && e < config_.num_envs, "env ", e, " out of range");
    std::copy_n(body_poses_.data() + static_cast<std::size_t>(e) * B, B, snapshot->body_poses.data() + r * B);
    for (std::size_t i = 0; i < n; ++i) snapshot->segmentation_ids[r * n + i] = m.instances()[i].body + 1;
  }
  snapshot->step = env_ids.empty() ? 0 : steps_[static_cast<std::size_t>(env_ids[0])];
}

}  // namespace pf::sim
