// Scenario text → sim::ModelSpec. Three stages:
//   1. protobuf's TextFormat parser with an error collector (syntax, unknown fields, types),
//      recording where every field was written in a ParseInfoTree;
//   2. checks that every number is finite and every string UTF-8, then range and consistency checks
//      that report the line and column the tree recorded for the offending field;
//   3. URDF resolution and import, and the mapping onto the plain-C++ ModelSpec.
// Protobuf stays inside this file: nothing protobuf crosses the public API.
#include "pf/scenarios/scenario.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>

#include "pf/assets/builtin.h"
#include "pf/core/check.h"
#include "pf/core/hash.h"
#include "pf/core/str.h"
#include "compile_context.h"
#include "task_compile.h"
#include "scenario.pb.h"

namespace pf::scenarios::internal {

std::string Num(double v) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  return ec == std::errc() ? std::string(buffer, end) : StrCat(v);
}

core::Result<core::Pose> ToPose(const Context& ctx, const Node& node, const msg::Pose& pose) {
  const core::Vec3 p(pose.position().x(), pose.position().y(), pose.position().z());
  core::Quat q = core::Quat::Identity();
  switch (pose.orientation_case()) {
    case msg::Pose::kRpy:
      q = core::QuatFromRpy(pose.rpy().x(), pose.rpy().y(), pose.rpy().z());
      break;
    case msg::Pose::kQuaternion: {
      const msg::Quaternion& m = pose.quaternion();
      q = core::Quat(m.w(), m.x(), m.y(), m.z());
      if (!(q.norm() > 1e-12))
        return core::Fail("quaternion (w, x, y, z) must not be zero", ctx.Where(node, pose, "quaternion"));
      q.normalize();
      break;
    }
    case msg::Pose::ORIENTATION_NOT_SET:
      break;
  }
  return core::MakePose(p, q);
}

}  // namespace pf::scenarios::internal

namespace pf::scenarios {
namespace {

namespace fs = std::filesystem;
namespace pb = google::protobuf;
namespace msg = parafab::scenario;
using core::StrCat;
using ParseInfoTree = pb::TextFormat::ParseInfoTree;
using namespace internal;  // NOLINT: the shared compile context

constexpr std::uintmax_t kMaxScenarioBytes = 64u << 20;

// ---------------------------------------------------------------------------------------
// Stage 2a: every floating-point value must be finite (the text format accepts inf and
// nan) and every string valid UTF-8 (proto3 strings are; the parser lets octal escapes
// through).

core::Status CheckValues(const Context& ctx, const Node& node, const pb::Message& m) {
  const pb::Reflection* r = m.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    const auto type = f->cpp_type();
    const int n = f->is_repeated() ? r->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      const int index = f->is_repeated() ? i : -1;
      if (type == pb::FieldDescriptor::CPPTYPE_DOUBLE || type == pb::FieldDescriptor::CPPTYPE_FLOAT) {
        double v = 0.0;
        if (type == pb::FieldDescriptor::CPPTYPE_DOUBLE)
          v = f->is_repeated() ? r->GetRepeatedDouble(m, f, i) : r->GetDouble(m, f);
        else
          v = f->is_repeated() ? r->GetRepeatedFloat(m, f, i) : r->GetFloat(m, f);
        if (!std::isfinite(v))
          return core::Fail(StrCat(f->name(), " must be a finite number, got ", v), ctx.Where(node, m, f->name(), index));
      } else if (type == pb::FieldDescriptor::CPPTYPE_STRING) {
        const std::string v = f->is_repeated() ? r->GetRepeatedString(m, f, i) : r->GetString(m, f);
        if (!IsValidUtf8(v))
          return core::Fail(StrCat(f->name(), " is not valid UTF-8"), ctx.Where(node, m, f->name(), index));
      } else if (type == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        const pb::Message& child = f->is_repeated() ? r->GetRepeatedMessage(m, f, i) : r->GetMessage(m, f);
        PF_TRY(CheckValues(ctx, ctx.Child(node, m, f->name(), index, LabelOf(child, i)), child));
      }
    }
  }
  return core::Ok();
}

// ---------------------------------------------------------------------------------------
// Stage 2b and 3: checks and mapping.


// `value` must satisfy lo <= value (or lo < value) and value <= hi.
struct Range {
  double lo;
  double hi;
  bool lo_open = false;
  std::string Describe() const {
    if (hi == INFINITY) return lo_open ? StrCat("> ", Num(lo)) : StrCat(">= ", Num(lo));
    return StrCat("in ", lo_open ? "(" : "[", Num(lo), ", ", Num(hi), "]");
  }
  bool Contains(double v) const { return (lo_open ? v > lo : v >= lo) && v <= hi; }
};
constexpr double kInf = INFINITY;

core::Status CheckRange(const Context& ctx, const Node& node, const pb::Message& m, std::string_view field,
                        double value, const Range& range, std::string_view unit = "") {
  if (range.Contains(value)) return core::Ok();
  return core::Fail(StrCat(field, " must be ", range.Describe(), unit.empty() ? "" : " ", unit, ", got ", Num(value)),
                    ctx.Where(node, m, field));
}

core::Status CheckColor(const Context& ctx, const Node& node, const msg::RGBA& c) {
  const Range unit{0.0, 1.0};
  PF_TRY(CheckRange(ctx, node, c, "r", c.r(), unit));
  PF_TRY(CheckRange(ctx, node, c, "g", c.g(), unit));
  PF_TRY(CheckRange(ctx, node, c, "b", c.b(), unit));
  if (c.has_a()) PF_TRY(CheckRange(ctx, node, c, "a", c.a(), unit));
  return core::Ok();
}

core::Result<sim::PhysicsConfig> ToPhysics(const Context& ctx, const Node& node, const msg::PhysicsSettings& p) {
  sim::PhysicsConfig config;
  if (p.has_timestep()) {
    PF_TRY(CheckRange(ctx, node, p, "timestep", p.timestep(), {0.0, 0.1, true}, "s"));
    config.timestep = p.timestep();
  }
  if (p.has_control_substeps()) {
    PF_TRY(CheckRange(ctx, node, p, "control_substeps", p.control_substeps(), {1, 1000}));
    config.control_substeps = p.control_substeps();
  }
  if (p.has_solver_iterations()) {
    PF_TRY(CheckRange(ctx, node, p, "solver_iterations", p.solver_iterations(), {1, kInf}));
    config.solver_iterations = p.solver_iterations();
  }
  if (p.has_solver_residual()) {
    PF_TRY(CheckRange(ctx, node, p, "solver_residual", p.solver_residual(), {0.0, kInf}));
    config.solver_residual = p.solver_residual();
  }
  if (p.has_gravity()) config.gravity = core::Vec3(p.gravity().x(), p.gravity().y(), p.gravity().z());
  if (p.has_default_friction()) {
    PF_TRY(CheckRange(ctx, node, p, "default_friction", p.default_friction(), {0.0, kInf}));
    config.default_friction = p.default_friction();
  }
  if (p.has_default_restitution()) {
    PF_TRY(CheckRange(ctx, node, p, "default_restitution", p.default_restitution(), {0.0, 1.0}));
    config.default_restitution = p.default_restitution();
  }
  if (p.has_collision_margin()) {
    PF_TRY(CheckRange(ctx, node, p, "collision_margin", p.collision_margin(), {0.0, kInf}, "m"));
    config.collision_margin = p.collision_margin();
  }
  if (p.has_max_joint_velocity()) {
    PF_TRY(CheckRange(ctx, node, p, "max_joint_velocity", p.max_joint_velocity(), {0.0, kInf, true}));
    config.max_joint_velocity = p.max_joint_velocity();
  }
  if (p.has_fault_velocity()) {
    PF_TRY(CheckRange(ctx, node, p, "fault_velocity", p.fault_velocity(), {0.0, kInf, true}));
    config.fault_velocity = p.fault_velocity();
  }
  return config;
}

// Imports URDFs once per (resolved file, base mode) and shares them.
class UrdfImporter {
 public:
  UrdfImporter(assets::AssetLibrary& library, fs::path scenario, bool builtin_scenario)
      : library_(library), scenario_(std::move(scenario)), builtin_scenario_(builtin_scenario) {}

  core::Result<std::shared_ptr<const assets::ImportedRobot>> Import(const std::string& reference,
                                                                   std::optional<bool> fixed_base,
                                                                   const core::Location& where) {
    std::string source;
    if (reference.starts_with(assets::kBuiltinScheme)) {
      source = reference;
    } else if (builtin_scenario_) {
      return core::Fail(StrCat("refused URDF '", reference,
                               "': a built-in scenario may reference built-in URDFs (builtin://NAME) only"),
                        where);
    } else {
      PF_ASSIGN_OR_RETURN(const fs::path resolved, library_.resolver().Resolve(reference, scenario_, where));
      source = resolved.string();
    }
    const auto key = std::make_pair(source, fixed_base ? (*fixed_base ? 1 : 0) : -1);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    assets::ImportConfig config;
    config.fixed_base = fixed_base;
    auto imported = assets::ImportRobot(source, library_, config);
    if (!imported)
      return core::Fail(StrCat("cannot import URDF '", reference, "': ", imported.error().ToString()), where);
    auto shared = std::make_shared<const assets::ImportedRobot>(std::move(*imported));
    cache_.emplace(key, shared);
    return shared;
  }

 private:
  assets::AssetLibrary& library_;
  fs::path scenario_;
  bool builtin_scenario_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const assets::ImportedRobot>> cache_;
};

// Unique names across robots and objects.
class NameRegistry {
 public:
  core::Status Add(const std::string& name, std::string_view what, const core::Location& where) {
    if (name.empty()) return core::Fail(StrCat(what, " name is empty (every ", what, " needs a unique name)"), where);
    auto [it, inserted] = first_.emplace(name, where);
    if (!inserted)
      return core::Fail(StrCat("duplicate name '", name, "': already used at line ", it->second.line,
                               " (robot and object names must be unique)"),
                        where);
    return core::Ok();
  }

 private:
  std::map<std::string, core::Location> first_;
};

// Actuated joints of a robot: non-fixed, non-mimic joints in tree order.
struct ActuatedJoints {
  std::vector<int> joints;           // indices into RobotDesc::joints
  std::map<std::string, int> index;  // joint name → position in `joints`

  explicit ActuatedJoints(const assets::RobotDesc& desc) {
    for (int j = 0; j < desc.num_joints(); ++j) {
      const assets::JointDesc& joint = desc.joints[static_cast<std::size_t>(j)];
      if (joint.type == assets::JointType::kFixed || joint.mimic) continue;
      index.emplace(joint.name, static_cast<int>(joints.size()));
      joints.push_back(j);
    }
  }
  std::string Names(const assets::RobotDesc& desc) const {
    std::string names;
    for (int j : joints) names += (names.empty() ? "" : ", ") + desc.joints[static_cast<std::size_t>(j)].name;
    return names.empty() ? "none" : names;
  }
};

// The actuated-joint index of `name`, or an error saying why it cannot be set.
core::Result<int> FindActuated(const std::string& name, const std::string& robot, const assets::RobotDesc& desc,
                               const ActuatedJoints& actuated, const core::Location& where) {
  if (auto it = actuated.index.find(name); it != actuated.index.end()) {
    const assets::JointDesc& joint = desc.joints[static_cast<std::size_t>(actuated.joints[static_cast<std::size_t>(it->second)])];
    if (assets::JointDofs(joint.type) != 1)
      return core::Fail(StrCat("joint '", name, "' of robot '", robot, "' is a ", assets::JointTypeName(joint.type),
                               " joint; only 1-DOF joints can be set here"),
                        where);
    return it->second;
  }
  const int j = desc.FindJoint(name);
  if (j < 0)
    return core::Fail(StrCat("unknown joint '", name, "' in robot '", robot, "' (actuated joints: ",
                             actuated.Names(desc), ")"),
                      where);
  const assets::JointDesc& joint = desc.joints[static_cast<std::size_t>(j)];
  if (joint.mimic)
    return core::Fail(StrCat("joint '", name, "' of robot '", robot, "' mimics '", joint.mimic->joint,
                             "': set that joint instead"),
                      where);
  return core::Fail(StrCat("joint '", name, "' of robot '", robot, "' is fixed"), where);
}

core::Result<sim::RobotSpec> ToRobot(const Context& ctx, const Node& node, const msg::Robot& robot,
                                     UrdfImporter& importer, NameRegistry& names) {
  sim::RobotSpec spec;
  spec.name = robot.name();
  PF_TRY(names.Add(robot.name(), "robot", robot.name().empty() ? ctx.Here(node) : ctx.Where(node, robot, "name")));

  if (robot.urdf().empty())
    return core::Fail(StrCat("robot '", robot.name(), "' needs a urdf (a path or builtin://NAME)"),
                      ctx.Where(node, robot, "urdf"));
  spec.fixed_base = robot.has_fixed_base() ? robot.fixed_base() : true;
  PF_ASSIGN_OR_RETURN(spec.robot, importer.Import(robot.urdf(), spec.fixed_base, ctx.Where(node, robot, "urdf")));
  const assets::RobotDesc& desc = spec.robot->desc;

  if (robot.has_base_pose()) {
    PF_ASSIGN_OR_RETURN(spec.X_WB, ToPose(ctx, ctx.Child(node, robot, "base_pose"), robot.base_pose()));
  }

  const ActuatedJoints actuated(desc);
  // Initial positions, read through reflection: the entries in the order written (the
  // order the parse-info tree recorded them in), duplicates included.
  {
    const pb::FieldDescriptor* f = robot.GetDescriptor()->FindFieldByName("initial_joint_positions");
    const pb::Reflection* r = robot.GetReflection();
    const int n = r->FieldSize(robot, f);
    if (n > 0) {
      spec.initial_positions.assign(actuated.joints.size(), 0.0);
      for (std::size_t a = 0; a < actuated.joints.size(); ++a) {
        const assets::JointDesc& joint = desc.joints[static_cast<std::size_t>(actuated.joints[a])];
        if (joint.limits && joint.type != assets::JointType::kContinuous)
          spec.initial_positions[a] = std::clamp(0.0, joint.limits->lower, joint.limits->upper);
      }
    }
    std::set<std::string> seen;
    for (int i = 0; i < n; ++i) {
      const pb::Message& entry = r->GetRepeatedMessage(robot, f, i);
      const pb::FieldDescriptor* key_field = entry.GetDescriptor()->map_key();
      const pb::FieldDescriptor* value_field = entry.GetDescriptor()->map_value();
      const std::string key = entry.GetReflection()->GetString(entry, key_field);
      const double value = entry.GetReflection()->GetDouble(entry, value_field);
      const Node entry_node = ctx.Child(node, robot, "initial_joint_positions", i, key);
      const core::Location key_at = ctx.Where(entry_node, entry, "key");
      if (!seen.insert(key).second)
        return core::Fail(StrCat("joint '", key, "' is given an initial position twice"), key_at);
      PF_ASSIGN_OR_RETURN(const int a, FindActuated(key, robot.name(), desc, actuated, key_at));
      const assets::JointDesc& joint = desc.joints[static_cast<std::size_t>(actuated.joints[static_cast<std::size_t>(a)])];
      if (joint.limits && joint.type != assets::JointType::kContinuous &&
          (value < joint.limits->lower || value > joint.limits->upper))
        return core::Fail(StrCat("initial position ", Num(value), " of joint '", key, "' is outside its limits [",
                                 Num(joint.limits->lower), ", ", Num(joint.limits->upper), "]"),
                          ctx.Where(entry_node, entry, "value"));
      spec.initial_positions[static_cast<std::size_t>(a)] = value;
    }
  }

  if (robot.gains_size() > 0) {
    spec.gains.assign(actuated.joints.size(), sim::JointGains{});
    std::vector<bool> given(actuated.joints.size(), false);
    for (int i = 0; i < robot.gains_size(); ++i) {
      const msg::JointGains& g = robot.gains(i);
      const Node gains_node = ctx.Child(node, robot, "gains", i, g.joint());
      const core::Location joint_at = ctx.Where(gains_node, g, "joint");
      PF_ASSIGN_OR_RETURN(const int a, FindActuated(g.joint(), robot.name(), desc, actuated, joint_at));
      if (given[static_cast<std::size_t>(a)])
        return core::Fail(StrCat("joint '", g.joint(), "' is given gains twice"), joint_at);
      given[static_cast<std::size_t>(a)] = true;
      PF_TRY(CheckRange(ctx, gains_node, g, "kp", g.kp(), {0.0, kInf}));
      PF_TRY(CheckRange(ctx, gains_node, g, "kd", g.kd(), {0.0, kInf}));
      PF_TRY(CheckRange(ctx, gains_node, g, "max_effort", g.max_effort(), {0.0, kInf}));
      spec.gains[static_cast<std::size_t>(a)] = sim::JointGains{g.kp(), g.kd(), g.max_effort()};
    }
    std::string missing;
    for (std::size_t a = 0; a < given.size(); ++a)
      if (!given[a]) missing += (missing.empty() ? "" : ", ") + desc.joints[static_cast<std::size_t>(actuated.joints[a])].name;
    if (!missing.empty())
      return core::Fail(StrCat("gains must be given for every actuated joint of robot '", robot.name(),
                               "' or for none; missing: ", missing),
                        ctx.Where(node, robot, "gains", 0, robot.gains(0).joint()));
  }

  switch (robot.control_mode()) {
    case msg::Robot::JOINT_POSITION: spec.control_mode = sim::ControlMode::kJointPosition; break;
    case msg::Robot::JOINT_VELOCITY: spec.control_mode = sim::ControlMode::kJointVelocity; break;
    case msg::Robot::JOINT_TORQUE: spec.control_mode = sim::ControlMode::kJointTorque; break;
    default:
      return core::Fail(StrCat("unknown control_mode ", static_cast<int>(robot.control_mode()),
                               " (JOINT_POSITION, JOINT_VELOCITY or JOINT_TORQUE)"),
                        ctx.Where(node, robot, "control_mode"));
  }

  if (!robot.end_effector_link().empty() && desc.FindLink(robot.end_effector_link()) < 0)
    return core::Fail(StrCat("unknown end_effector_link '", robot.end_effector_link(), "' in robot '", robot.name(), "'"),
                      ctx.Where(node, robot, "end_effector_link"));
  spec.end_effector_link = robot.end_effector_link();
  spec.self_collision = robot.self_collision();
  if (robot.has_lateral_friction()) {
    PF_TRY(CheckRange(ctx, node, robot, "lateral_friction", robot.lateral_friction(), {0.0, kInf}));
    spec.lateral_friction = robot.lateral_friction();
  }
  return spec;
}

core::Result<sim::ObjectSpec> ToObject(const Context& ctx, const Node& node, const msg::Object& object,
                                       UrdfImporter& importer, NameRegistry& names,
                                       std::map<std::string, std::uint32_t>& semantic_ids) {
  sim::ObjectSpec spec;
  spec.name = object.name();
  PF_TRY(names.Add(object.name(), "object", object.name().empty() ? ctx.Here(node) : ctx.Where(node, object, "name")));

  if (object.has_mass()) PF_TRY(CheckRange(ctx, node, object, "mass", object.mass(), {0.0, kInf}, "kg"));

  // A positive size: the field's position when written, else the enclosing message's.
  const auto positive = [&](const Node& n, const pb::Message& m, std::string_view field, double v) {
    return CheckRange(ctx, n, m, field, v, {0.0, kInf, true}, "m");
  };
  switch (object.shape_case()) {
    case msg::Object::kBox: {
      const Node box = ctx.Child(node, object, "box");
      const Node size = ctx.Child(box, object.box(), "size");
      const msg::Vec3& s = object.box().size();
      PF_TRY(positive(size, s, "x", s.x()));
      PF_TRY(positive(size, s, "y", s.y()));
      PF_TRY(positive(size, s, "z", s.z()));
      spec.shape = sim::ObjectShape::kBox;
      spec.size = core::Vec3(s.x(), s.y(), s.z());
      break;
    }
    case msg::Object::kSphere: {
      const Node sphere = ctx.Child(node, object, "sphere");
      PF_TRY(positive(sphere, object.sphere(), "radius", object.sphere().radius()));
      spec.shape = sim::ObjectShape::kSphere;
      spec.radius = object.sphere().radius();
      break;
    }
    case msg::Object::kCylinder: {
      const Node cylinder = ctx.Child(node, object, "cylinder");
      PF_TRY(positive(cylinder, object.cylinder(), "radius", object.cylinder().radius()));
      PF_TRY(positive(cylinder, object.cylinder(), "length", object.cylinder().length()));
      spec.shape = sim::ObjectShape::kCylinder;
      spec.radius = object.cylinder().radius();
      spec.length = object.cylinder().length();
      break;
    }
    case msg::Object::kUrdf: {
      const core::Location at = ctx.Where(node, object, "urdf");
      if (object.urdf().empty())
        return core::Fail(StrCat("object '", object.name(), "' has an empty urdf (a path or builtin://NAME)"), at);
      std::optional<bool> fixed_base;
      if (object.has_mass() && object.mass() == 0.0) fixed_base = true;
      PF_ASSIGN_OR_RETURN(spec.urdf, importer.Import(object.urdf(), fixed_base, at));
      if (spec.urdf->desc.num_links() != 1)
        return core::Fail(StrCat("object '", object.name(), "': its URDF has ", spec.urdf->desc.num_links(),
                                 " links; an object's URDF must have one (use a robot for articulated bodies)"),
                          at);
      spec.shape = sim::ObjectShape::kUrdf;
      spec.mass = spec.urdf->desc.TotalMass();
      break;
    }
    case msg::Object::SHAPE_NOT_SET:
      return core::Fail(StrCat("object '", object.name(), "' has no shape: set one of box, sphere, cylinder or urdf"),
                        ctx.Here(node));
  }

  if (object.has_pose()) {
    PF_ASSIGN_OR_RETURN(spec.X_WO, ToPose(ctx, ctx.Child(node, object, "pose"), object.pose()));
  }
  if (object.has_mass()) spec.mass = object.mass();
  if (object.has_friction()) {
    PF_TRY(CheckRange(ctx, node, object, "friction", object.friction(), {0.0, kInf}));
    spec.friction = object.friction();
  }
  if (object.has_restitution()) {
    PF_TRY(CheckRange(ctx, node, object, "restitution", object.restitution(), {0.0, 1.0}));
    spec.restitution = object.restitution();
  }
  if (object.has_rolling_friction()) {
    PF_TRY(CheckRange(ctx, node, object, "rolling_friction", object.rolling_friction(), {0.0, kInf}));
    spec.rolling_friction = object.rolling_friction();
  }
  if (object.has_spinning_friction()) {
    PF_TRY(CheckRange(ctx, node, object, "spinning_friction", object.spinning_friction(), {0.0, kInf}));
    spec.spinning_friction = object.spinning_friction();
  }
  if (!object.semantic_class().empty()) {
    const auto next = static_cast<std::uint32_t>(semantic_ids.size() + 1);
    spec.semantic_class = semantic_ids.emplace(object.semantic_class(), next).first->second;
    spec.semantic_name = object.semantic_class();
  }
  if (object.has_color()) {
    const msg::RGBA& c = object.color();
    PF_TRY(CheckColor(ctx, ctx.Child(node, object, "color"), c));
    spec.colour = core::Vec4(c.r(), c.g(), c.b(), c.has_a() ? c.a() : 1.0);
  }
  return spec;
}

core::Result<Scenario> Compile(std::string_view text, const fs::path& source, assets::AssetLibrary& library) {
  const std::string file = source.string();
  const Context ctx(text, file);

  msg::Scenario message;
  ParseInfoTree tree;
  FirstErrorCollector errors;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  const bool parsed = parser.ParseFromString(std::string(text), &message);
  if (!parsed || errors.error()) {
    if (!errors.error()) return core::Fail("cannot parse the scenario", {file, 0, 0, ""});
    const auto& [line, column, what] = *errors.error();
    std::string message_text = what;
    if (message_text.ends_with("got: ")) message_text += "end of file";
    return core::Fail(std::move(message_text), ctx.ParseErrorLocation(line, column, what));
  }

  const Node root{&tree, "", -1, -1};
  PF_TRY(CheckValues(ctx, root, message));

  Scenario scenario;
  scenario.source = source;
  sim::ModelSpec& model = scenario.model;
  model.name = message.name();
  if (message.has_physics()) {
    PF_ASSIGN_OR_RETURN(model.physics, ToPhysics(ctx, ctx.Child(root, message, "physics"), message.physics()));
  }
  if (message.environment().has_ground_plane()) model.ground_plane = message.environment().ground_plane();

  const bool builtin = file.starts_with(kBuiltinScenarioScheme);
  UrdfImporter importer(library, source, builtin);
  NameRegistry names;
  for (int i = 0; i < message.robots_size(); ++i) {
    const msg::Robot& robot = message.robots(i);
    PF_ASSIGN_OR_RETURN(sim::RobotSpec spec,
                        ToRobot(ctx, ctx.Child(root, message, "robots", i, LabelOf(robot, i)), robot, importer, names));
    model.robots.push_back(std::move(spec));
  }
  std::map<std::string, std::uint32_t> semantic_ids;
  for (int i = 0; i < message.objects_size(); ++i) {
    const msg::Object& object = message.objects(i);
    PF_ASSIGN_OR_RETURN(sim::ObjectSpec spec, ToObject(ctx, ctx.Child(root, message, "objects", i, LabelOf(object, i)),
                                                       object, importer, names, semantic_ids));
    model.objects.push_back(std::move(spec));
  }

  PF_TRY(CompileTaskParts(ctx, root, message, scenario));

  // The hash: the deterministic wire bytes (fields in number order, map entries sorted).
  std::string bytes;
  {
    pb::io::StringOutputStream stream(&bytes);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!message.SerializeToCodedStream(&coded)) return core::Fail("cannot serialize the scenario", {file, 0, 0, ""});
  }
  core::Hasher hasher;
  hasher.String(bytes);
  model.scenario_hash = hasher.Digest();

  pb::TextFormat::Printer printer;
  if (!printer.PrintToString(message, &scenario.canonical_text))
    return core::Fail("cannot print the scenario", {file, 0, 0, ""});
  return scenario;
}

}  // namespace

core::Result<Scenario> ParseScenario(std::string_view text, const std::filesystem::path& source,
                                     assets::AssetLibrary& library) {
  // No exception leaves the module: protobuf (and allocation) failures become errors here.
  try {
    return Compile(text, source, library);
  } catch (const std::exception& e) {
    return core::Fail(StrCat("internal error while loading the scenario: ", e.what()), {source.string(), 0, 0, ""});
  } catch (...) {
    return core::Fail("internal error while loading the scenario", {source.string(), 0, 0, ""});
  }
}

core::Result<std::shared_ptr<const sim::Model>> CompileModel(const Scenario& scenario) {
  auto model = sim::Model::Compile(scenario.model);
  if (!model) {
    core::Error error = std::move(model).error();
    if (error.where.file.empty()) error.where.file = scenario.source.string();
    return std::unexpected(std::move(error));
  }
  return model;
}

core::Result<Scenario> LoadScenario(const std::string& path_or_builtin, assets::AssetLibrary& library) {
  if (path_or_builtin.starts_with(kBuiltinScenarioScheme)) {
    const std::string name = path_or_builtin.substr(kBuiltinScenarioScheme.size());
    const auto text = BuiltinScenarioText(name);
    if (!text) {
      return core::Fail(StrCat("unknown built-in scenario '", name, "' (built-in: ", core::Join(BuiltinScenarioNames(), ", "), ")"),
                        {path_or_builtin, 0, 0, ""});
    }
    return ParseScenario(*text, path_or_builtin, library);
  }

  const fs::path path(path_or_builtin);
  std::error_code ec;
  if (!fs::exists(path, ec)) return core::Fail("scenario file not found", {path_or_builtin, 0, 0, ""});
  if (!fs::is_regular_file(path, ec)) return core::Fail("not a regular file", {path_or_builtin, 0, 0, ""});
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) return core::Fail(StrCat("cannot read: ", ec.message()), {path_or_builtin, 0, 0, ""});
  if (size > kMaxScenarioBytes)
    return core::Fail(StrCat("scenario file is too large (", size, " bytes; at most ", kMaxScenarioBytes, ")"),
                      {path_or_builtin, 0, 0, ""});
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Fail("cannot open the scenario file", {path_or_builtin, 0, 0, ""});
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return core::Fail("cannot read the scenario file", {path_or_builtin, 0, 0, ""});
  return ParseScenario(contents.str(), path, library);
}

}  // namespace pf::scenarios
