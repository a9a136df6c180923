// Scenario fields task, cameras, lights and randomization → TaskSpec, CameraSpec,
// LightSpec, RandomizationSpec. Every name is resolved and every range checked here, and
// each placement is tried on a few episodes, so a scenario that cannot work fails at load
// time with file:line:column, before any simulation.
#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <set>

#include "pf/core/rng.h"
#include "placement.h"
#include "task_compile.h"

namespace pf::scenarios::internal {
namespace {

constexpr double kInf = INFINITY;

core::Status Require(bool ok, const std::string& message, const core::Location& where) {
  return ok ? core::Ok() : core::Fail(message, where);
}

core::Result<RangeSpec> ToRange(const Context& ctx, const Node& parent, const pb::Message& m, std::string_view field,
                                const msg::Range& range, double lo, double hi, bool lo_open = false) {
  const Node node = ctx.Child(parent, m, field);
  if (range.min() > range.max())
    return core::Fail(StrCat("contradictory range: min ", Num(range.min()), " > max ", Num(range.max())),
                      ctx.Where(node, range, "min"));
  const bool lo_ok = lo_open ? range.min() > lo : range.min() >= lo;
  if (!lo_ok || range.max() > hi) {
    const std::string bounds = hi == kInf ? StrCat(lo_open ? "> " : ">= ", Num(lo))
                                          : StrCat("in ", lo_open ? "(" : "[", Num(lo), ", ", Num(hi), "]");
    const bool min_bad = !lo_ok;
    return core::Fail(StrCat(field, " must lie ", bounds, ", got [", Num(range.min()), ", ", Num(range.max()), "]"),
                      ctx.Where(node, range, min_bad ? "min" : "max"));
  }
  return RangeSpec{range.min(), range.max()};
}

core::Result<RegionSpec> ToRegion(const Context& ctx, const Node& node, const msg::Region& region) {
  RegionSpec r;
  r.min = core::Vec3(region.min().x(), region.min().y(), region.min().z());
  r.max = core::Vec3(region.max().x(), region.max().y(), region.max().z());
  for (int k = 0; k < 3; ++k)
    if (r.min[k] > r.max[k])
      return core::Fail(StrCat("contradictory region: min.", "xyz"[k], " ", Num(r.min[k]), " > max.", "xyz"[k], " ",
                               Num(r.max[k])),
                        ctx.Where(node, region, "max"));
  return r;
}

class Names {
 public:
  explicit Names(const sim::ModelSpec& model) : model_(model) {
    for (std::size_t o = 0; o < model.objects.size(); ++o) objects_.emplace(model.objects[o].name, static_cast<int>(o));
    for (std::size_t r = 0; r < model.robots.size(); ++r) robots_.emplace(model.robots[r].name, static_cast<int>(r));
  }

  core::Result<int> Object(const std::string& name, const core::Location& where) const {
    const auto it = objects_.find(name);
    if (it == objects_.end()) {
      std::string known;
      for (const auto& o : model_.objects) known += (known.empty() ? "" : ", ") + o.name;
      return core::Fail(StrCat("unknown object '", name, "' (objects: ", known.empty() ? "none" : known, ")"), where);
    }
    return it->second;
  }

  core::Result<int> Movable(const std::string& name, const core::Location& where) const {
    PF_ASSIGN_OR_RETURN(const int o, Object(name, where));
    if (model_.objects[static_cast<std::size_t>(o)].mass <= 0.0)
      return core::Fail(StrCat("object '", name, "' is static (mass 0); a movable object is needed here"), where);
    return o;
  }

  core::Result<int> Robot(const std::string& name, const core::Location& where) const {
    if (model_.robots.empty()) return core::Fail("the scenario has no robot", where);
    if (name.empty()) return 0;
    const auto it = robots_.find(name);
    if (it == robots_.end()) return core::Fail(StrCat("unknown robot '", name, "'"), where);
    return it->second;
  }

  // A repeated string field of object names → distinct object indices.
  core::Result<std::vector<int>> ObjectList(const Context& ctx, const Node& node, const pb::Message& m,
                                            std::string_view field, const google::protobuf::RepeatedPtrField<std::string>& names,
                                            bool movable) const {
    std::vector<int> out;
    for (int i = 0; i < names.size(); ++i) {
      const core::Location at = ctx.Where(node, m, field, i);
      PF_ASSIGN_OR_RETURN(const int o, movable ? Movable(names[i], at) : Object(names[i], at));
      if (std::find(out.begin(), out.end(), o) != out.end())
        return core::Fail(StrCat("object '", names[i], "' is listed twice"), at);
      out.push_back(o);
    }
    return out;
  }

 private:
  const sim::ModelSpec& model_;
  std::map<std::string, int> objects_, robots_;
};

core::Status CompileTask(const Context& ctx, const Node& node, const msg::Task& task, Scenario& scenario,
                         const Names& names) {
  const sim::ModelSpec& model = scenario.model;
  TaskSpec spec;
  PF_ASSIGN_OR_RETURN(spec.robot, names.Robot(task.robot(), ctx.Where(node, task, "robot")));
  // A tray or bin: a static box, named at `at`; its top face is a goal region.
  auto static_box = [&](const std::string& name, const char* what, const core::Location& at) -> core::Result<int> {
    PF_ASSIGN_OR_RETURN(const int index, names.Object(name, at));
    const sim::ObjectSpec& box = model.objects[static_cast<std::size_t>(index)];
    PF_TRY(Require(box.mass <= 0.0 && box.shape == sim::ObjectShape::kBox,
                   StrCat(what, " '", name, "' must be a static box (mass 0)"), at));
    return index;
  };
  auto top_face = [&](int index) {
    const sim::ObjectSpec& tray = model.objects[static_cast<std::size_t>(index)];
    const PlacementWorld::Box box = ObjectBox(tray, tray.X_WO);
    return RegionSpec{core::Vec3(box.min.x(), box.min.y(), box.max.z()), core::Vec3(box.max.x(), box.max.y(), box.max.z())};
  };
  // Pickable objects: movable primitives (the grasp planner reads their shape).
  auto primitives = [&](const Node& n, const auto& message, const std::vector<int>& objects, const char* kind) -> core::Status {
    for (std::size_t i = 0; i < objects.size(); ++i)
      PF_TRY(Require(model.objects[static_cast<std::size_t>(objects[i])].shape != sim::ObjectShape::kUrdf,
                     StrCat(kind, " objects must be primitives (box, sphere, cylinder) for now"),
                     ctx.Where(n, message, "objects", static_cast<int>(i))));
    return core::Ok();
  };
  switch (task.kind_case()) {
    case msg::Task::kReach: {
      const Node reach = ctx.Child(node, task, "reach");
      spec.kind = TaskKind::kReach;
      spec.time_limit = 6.0;
      PF_TRY(Require(task.reach().has_target(), "reach needs a target region", ctx.Here(reach)));
      PF_ASSIGN_OR_RETURN(spec.target, ToRegion(ctx, ctx.Child(reach, task.reach(), "target"), task.reach().target()));
      if (task.reach().has_tolerance()) {
        PF_TRY(Require(task.reach().tolerance() > 0.0, "tolerance must be > 0",
                       ctx.Where(reach, task.reach(), "tolerance")));
        spec.tolerance = task.reach().tolerance();
      }
      break;
    }
    case msg::Task::kPickPlace: {
      const msg::PickPlaceTask& pp = task.pick_place();
      const Node n = ctx.Child(node, task, "pick_place");
      spec.kind = TaskKind::kPickPlace;
      spec.time_limit = 15.0;
      PF_ASSIGN_OR_RETURN(spec.objects, names.ObjectList(ctx, n, pp, "objects", pp.objects(), true));
      PF_TRY(Require(!spec.objects.empty(), "pick_place needs at least one object", ctx.Here(n)));
      PF_TRY(primitives(n, pp, spec.objects, "pick_place"));
      switch (pp.goal_case()) {
        case msg::PickPlaceTask::kTarget: {
          PF_ASSIGN_OR_RETURN(spec.target, ToRegion(ctx, ctx.Child(n, pp, "target"), pp.target()));
          break;
        }
        case msg::PickPlaceTask::kTray: {
          PF_ASSIGN_OR_RETURN(spec.tray, static_box(pp.tray(), "tray", ctx.Where(n, pp, "tray")));
          spec.target = top_face(spec.tray);
          break;
        }
        case msg::PickPlaceTask::GOAL_NOT_SET:
          return core::Fail("pick_place needs a goal: target { ... } or tray: \"NAME\"", ctx.Here(n));
      }
      spec.goal_description = pp.goal_description();
      break;
    }
    case msg::Task::kStack: {
      const msg::StackTask& st = task.stack();
      const Node n = ctx.Child(node, task, "stack");
      spec.kind = TaskKind::kStack;
      spec.time_limit = 25.0;
      PF_ASSIGN_OR_RETURN(spec.objects, names.ObjectList(ctx, n, st, "objects", st.objects(), true));
      if (st.has_height()) {
        PF_TRY(Require(st.height() >= 2 && st.height() <= 3, StrCat("height must be 2 or 3, got ", st.height()),
                       ctx.Where(n, st, "height")));
        spec.height = st.height();
      }
      PF_TRY(Require(static_cast<int>(spec.objects.size()) >= spec.height,
                     StrCat("a stack of ", spec.height, " needs at least ", spec.height, " objects, got ",
                            spec.objects.size()),
                     ctx.Here(n)));
      for (std::size_t i = 0; i < spec.objects.size(); ++i)
        PF_TRY(Require(model.objects[static_cast<std::size_t>(spec.objects[i])].shape == sim::ObjectShape::kBox,
                       "stack objects must be boxes", ctx.Where(n, st, "objects", static_cast<int>(i))));
      break;
    }
    case msg::Task::kBinPick: {
      const msg::BinPickTask& bp = task.bin_pick();
      const Node n = ctx.Child(node, task, "bin_pick");
      spec.kind = TaskKind::kBinPick;
      spec.time_limit = 15.0;
      PF_ASSIGN_OR_RETURN(spec.objects, names.ObjectList(ctx, n, bp, "objects", bp.objects(), true));
      PF_TRY(Require(!spec.objects.empty(), "bin_pick needs at least one object", ctx.Here(n)));
      PF_TRY(primitives(n, bp, spec.objects, "bin_pick"));
      PF_TRY(Require(!bp.source().empty(), "bin_pick needs a source bin: source: \"NAME\"", ctx.Here(n)));
      PF_TRY(Require(!bp.goal().empty(), "bin_pick needs a goal bin: goal: \"NAME\"", ctx.Here(n)));
      PF_ASSIGN_OR_RETURN(spec.source, static_box(bp.source(), "source bin", ctx.Where(n, bp, "source")));
      PF_ASSIGN_OR_RETURN(spec.tray, static_box(bp.goal(), "goal bin", ctx.Where(n, bp, "goal")));
      PF_TRY(Require(spec.source != spec.tray, "the goal bin must differ from the source bin", ctx.Where(n, bp, "goal")));
      spec.target = top_face(spec.tray);
      spec.goal_description = bp.goal_description();
      break;
    }
    case msg::Task::KIND_NOT_SET:
      return core::Fail("task needs a kind: reach, pick_place, stack or bin_pick", ctx.Here(node));
  }
  if (task.has_time_limit()) {
    PF_TRY(Require(task.time_limit() > 0.0 && task.time_limit() <= 3600.0, "time_limit must be in (0, 3600] s",
                   ctx.Where(node, task, "time_limit")));
    spec.time_limit = task.time_limit();
  }
  const double dt = model.physics.timestep * model.physics.control_substeps;
  spec.max_steps = static_cast<int>(std::ceil(spec.time_limit / dt - 1e-9));
  for (int i = 0; i < task.instructions_size(); ++i) {
    const std::string& text = task.instructions(i);
    PF_TRY(Require(!text.empty(), "an instruction must not be empty", ctx.Where(node, task, "instructions", i)));
    // Placeholders must be known ones and make sense for the kind.
    for (std::size_t at = text.find('{'); at != std::string::npos; at = text.find('{', at + 1)) {
      const std::size_t close = text.find('}', at);
      if (close == std::string::npos)
        return core::Fail("unclosed '{' in instruction", ctx.Where(node, task, "instructions", i));
      const std::string key = text.substr(at + 1, close - at - 1);
      const bool ok = (key == "object" && spec.kind != TaskKind::kReach) ||
                      (key == "goal" && (spec.kind == TaskKind::kPickPlace || spec.kind == TaskKind::kBinPick)) ||
                      (key == "source" && spec.kind == TaskKind::kBinPick) ||
                      (key == "base" && spec.kind == TaskKind::kStack) || (key == "target" && spec.kind == TaskKind::kReach);
      if (!ok)
        return core::Fail(StrCat("unknown placeholder {", key, "} for a ", TaskKindName(spec.kind), " task"),
                          ctx.Where(node, task, "instructions", i));
    }
    spec.instructions.push_back(text);
  }
  scenario.task = std::move(spec);
  return core::Ok();
}

core::Pose LookAtPose(const core::Vec3& eye, const core::Vec3& target, core::Vec3 up) {
  const core::Vec3 z = (target - eye).normalized();
  if (up.norm() < 1e-12) up = core::Vec3::UnitZ();
  core::Vec3 x = z.cross(up);  // image right = forward × up (with +y down)
  if (x.norm() < 1e-9) x = z.cross(core::Vec3::UnitX());
  x.normalize();
  core::Pose X = core::Pose::Identity();
  X.linear().col(0) = x;
  X.linear().col(1) = z.cross(x);
  X.linear().col(2) = z;
  X.translation() = eye;
  return X;
}

core::Result<CameraSpec> CompileCamera(const Context& ctx, const Node& node, const msg::Camera& camera,
                                       const sim::ModelSpec& model) {
  CameraSpec spec;
  spec.name = camera.name();
  PF_TRY(Require(!camera.name().empty(), "a camera needs a name", ctx.Where(node, camera, "name")));
  PF_TRY(Require(camera.width() >= 1 && camera.width() <= 4096, StrCat("width must be in [1, 4096], got ", camera.width()),
                 ctx.Where(node, camera, "width")));
  PF_TRY(Require(camera.height() >= 1 && camera.height() <= 4096,
                 StrCat("height must be in [1, 4096], got ", camera.height()), ctx.Where(node, camera, "height")));
  core::CameraIntrinsics& K = spec.intrinsics;
  K.width = static_cast<std::uint32_t>(camera.width());
  K.height = static_cast<std::uint32_t>(camera.height());
  switch (camera.projection_case()) {
    case msg::Camera::kFovY: {
      const double fov = camera.fov_y();
      PF_TRY(Require(fov > 0.0 && fov < std::numbers::pi, "fov_y must be in (0, pi) radians",
                     ctx.Where(node, camera, "fov_y")));
      K.fy = 0.5 * camera.height() / std::tan(0.5 * fov);
      K.fx = K.fy;
      K.cx = 0.5 * camera.width();
      K.cy = 0.5 * camera.height();
      break;
    }
    case msg::Camera::kIntrinsics: {
      const msg::Intrinsics& in = camera.intrinsics();
      const Node n = ctx.Child(node, camera, "intrinsics");
      PF_TRY(Require(in.fx() > 0.0, "fx must be > 0", ctx.Where(n, in, "fx")));
      PF_TRY(Require(in.fy() > 0.0, "fy must be > 0", ctx.Where(n, in, "fy")));
      K.fx = in.fx();
      K.fy = in.fy();
      K.cx = in.cx();
      K.cy = in.cy();
      break;
    }
    case msg::Camera::PROJECTION_NOT_SET:
      return core::Fail("a camera needs fov_y or intrinsics", ctx.Here(node));
  }
  K.near = camera.has_near() ? camera.near() : 0.05;
  K.far = camera.has_far() ? camera.far() : 10.0;
  PF_TRY(Require(K.near > 0.0, "near must be > 0", ctx.Where(node, camera, "near")));
  PF_TRY(Require(K.far > K.near, "far must be > near", ctx.Where(node, camera, camera.has_far() ? "far" : "near")));
  switch (camera.placement_case()) {
    case msg::Camera::kLookAt: {
      const msg::LookAt& la = camera.look_at();
      const core::Vec3 eye(la.eye().x(), la.eye().y(), la.eye().z());
      const core::Vec3 target(la.target().x(), la.target().y(), la.target().z());
      const core::Vec3 up(la.up().x(), la.up().y(), la.up().z());
      PF_TRY(Require((target - eye).norm() > 1e-9, "look_at target must differ from eye",
                     ctx.Where(ctx.Child(node, camera, "look_at"), la, "target")));
      spec.X_PC = LookAtPose(eye, target, la.has_up() ? up : core::Vec3::UnitZ());
      break;
    }
    case msg::Camera::kPose: {
      PF_ASSIGN_OR_RETURN(spec.X_PC, ToPose(ctx, ctx.Child(node, camera, "pose"), camera.pose()));
      break;
    }
    case msg::Camera::PLACEMENT_NOT_SET:
      return core::Fail("a camera needs a placement: look_at { ... } or pose { ... }", ctx.Here(node));
  }
  if (!camera.attach_to().empty()) {
    const core::Location at = ctx.Where(node, camera, "attach_to");
    const std::string& ref = camera.attach_to();
    const std::size_t slash = ref.find('/');
    if (slash == std::string::npos) return core::Fail("attach_to must be \"robot/link\"", at);
    const std::string robot = ref.substr(0, slash), link = ref.substr(slash + 1);
    for (std::size_t r = 0; r < model.robots.size(); ++r) {
      if (model.robots[r].name != robot) continue;
      spec.attach_robot = static_cast<int>(r);
      spec.attach_link = model.robots[r].robot->desc.FindLink(link);
      if (spec.attach_link < 0) return core::Fail(StrCat("robot '", robot, "' has no link '", link, "'"), at);
    }
    if (spec.attach_robot < 0) return core::Fail(StrCat("unknown robot '", robot, "'"), at);
  }
  return spec;
}

core::Result<LightSpec> CompileLight(const Context& ctx, const Node& node, const msg::Light& light) {
  LightSpec spec;
  const core::Vec3 d(light.direction().x(), light.direction().y(), light.direction().z());
  PF_TRY(Require(d.norm() > 1e-9, "direction must not be zero", ctx.Where(node, light, "direction")));
  spec.direction = d.normalized();
  if (light.has_color()) {
    const msg::RGBA& c = light.color();
    for (double v : {c.r(), c.g(), c.b()})
      PF_TRY(Require(v >= 0.0 && v <= 1.0, "color components must be in [0, 1]", ctx.Where(node, light, "color")));
    spec.colour = core::Vec3(c.r(), c.g(), c.b());
  }
  if (light.has_intensity()) {
    PF_TRY(Require(light.intensity() >= 0.0, "intensity must be >= 0", ctx.Where(node, light, "intensity")));
    spec.intensity = light.intensity();
  }
  if (light.has_ambient()) {
    PF_TRY(Require(light.ambient() >= 0.0, "ambient must be >= 0", ctx.Where(node, light, "ambient")));
    spec.ambient = light.ambient();
  }
  return spec;
}

core::Status CompileRandomization(const Context& ctx, const Node& node, const msg::Randomization& r,
                                  Scenario& scenario, const Names& names) {
  const sim::ModelSpec& model = scenario.model;
  RandomizationSpec& spec = scenario.randomization;
  std::set<int> placed;
  for (int i = 0; i < r.placements_size(); ++i) {
    const msg::Placement& p = r.placements(i);
    const Node n = ctx.Child(node, r, "placements", i);
    PlacementSpec ps;
    PF_ASSIGN_OR_RETURN(ps.objects, names.ObjectList(ctx, n, p, "objects", p.objects(), true));
    PF_TRY(Require(!ps.objects.empty(), "a placement needs at least one object", ctx.Here(n)));
    for (std::size_t k = 0; k < ps.objects.size(); ++k) {
      const core::Location at = ctx.Where(n, p, "objects", static_cast<int>(k));
      PF_TRY(Require(model.objects[static_cast<std::size_t>(ps.objects[k])].shape != sim::ObjectShape::kUrdf,
                     "placements take primitive objects (box, sphere, cylinder) for now", at));
      PF_TRY(Require(placed.insert(ps.objects[k]).second, "this object is already placed by another placement", at));
    }
    PF_TRY(Require(p.has_region(), "a placement needs a region", ctx.Here(n)));
    const Node rn = ctx.Child(n, p, "region");
    PF_ASSIGN_OR_RETURN(ps.region, ToRegion(ctx, rn, p.region()));
    PF_TRY(Require(ps.region.min.z() == ps.region.max.z(),
                   "a placement region is a rectangle on a support surface: max.z must equal min.z",
                   ctx.Where(rn, p.region(), "max")));
    if (p.has_yaw()) { PF_ASSIGN_OR_RETURN(ps.yaw, ToRange(ctx, n, p, "yaw", p.yaw(), -1e3, 1e3)); }
    if (p.has_clearance()) {
      PF_TRY(Require(p.clearance() >= 0.0, "clearance must be >= 0", ctx.Where(n, p, "clearance")));
      ps.clearance = p.clearance();
    }
    // Room for the objects at all? Their footprints must fit the region's area.
    double area = 0.0;
    for (int o : ps.objects) {
      const core::Vec3 h = PrimitiveHalfExtents(model.objects[static_cast<std::size_t>(o)]).value();
      const double radius = std::hypot(h.x(), h.y()) + 0.5 * ps.clearance;
      area += std::numbers::pi * radius * radius;
    }
    const core::Vec3 size = ps.region.max - ps.region.min;
    // Centres are drawn inside the region: the objects cover it plus a rim of their radius.
    double rim = 0.0;
    for (int o : ps.objects) rim = std::max(rim, PrimitiveHalfExtents(model.objects[static_cast<std::size_t>(o)])->head<2>().norm());
    const double room = (size.x() + 2 * rim) * (size.y() + 2 * rim);
    if (area > 0.6 * room)
      return core::Fail(StrCat("impossible placement: the objects' footprints (", Num(area), " m²) cannot fit a ",
                               Num(size.x()), " x ", Num(size.y()), " m region without overlap"),
                        ctx.Here(rn));
    spec.placements.push_back(std::move(ps));
  }
  // Try the placements on a few episodes: a region that is free on paper may be blocked.
  for (std::size_t i = 0; i < spec.placements.size(); ++i) {
    const PlacementSpec& ps = spec.placements[i];
    for (std::uint64_t episode = 0; episode < 4; ++episode) {
      PlacementWorld world = MakePlacementWorld(model, spec.placements, ps.region.min.z());
      std::vector<core::Pose> poses(model.objects.size(), core::Pose::Identity());
      core::CounterRng rng({model.scenario_hash, 0, episode, core::RngStream::kPlacement, static_cast<std::uint32_t>(i)});
      if (!PlaceObjects(model, ps, rng, world, poses, nullptr))
        return core::Fail("impossible placement: no room for the objects in this region without overlapping each "
                          "other or fixed objects (tried 300 positions per object, 21 times over)",
                          ctx.Here(ctx.Child(ctx.Child(node, r, "placements", static_cast<int>(i)),
                                             r.placements(static_cast<int>(i)), "region")));
    }
  }
  for (int i = 0; i < r.object_physics_size(); ++i) {
    const msg::ObjectPhysicsRandomization& p = r.object_physics(i);
    const Node n = ctx.Child(node, r, "object_physics", i);
    ObjectPhysicsSpec ps;
    PF_ASSIGN_OR_RETURN(ps.objects, names.ObjectList(ctx, n, p, "objects", p.objects(), true));
    if (ps.objects.empty())
      for (std::size_t o = 0; o < model.objects.size(); ++o)
        if (model.objects[o].mass > 0.0) ps.objects.push_back(static_cast<int>(o));
    if (p.has_mass_scale()) { PF_ASSIGN_OR_RETURN(ps.mass_scale, ToRange(ctx, n, p, "mass_scale", p.mass_scale(), 0.0, 100.0, true)); }
    if (p.has_friction()) { PF_ASSIGN_OR_RETURN(ps.friction, ToRange(ctx, n, p, "friction", p.friction(), 0.0, 10.0)); }
    if (p.has_restitution()) { PF_ASSIGN_OR_RETURN(ps.restitution, ToRange(ctx, n, p, "restitution", p.restitution(), 0.0, 1.0)); }
    spec.object_physics.push_back(std::move(ps));
  }
  if (r.has_gain_scale()) { PF_ASSIGN_OR_RETURN(spec.gain_scale, ToRange(ctx, node, r, "gain_scale", r.gain_scale(), 0.0, 2.0, true)); }
  if (r.has_joint_damping()) { PF_ASSIGN_OR_RETURN(spec.joint_damping, ToRange(ctx, node, r, "joint_damping", r.joint_damping(), 0.0, 1e3)); }
  if (r.has_cameras()) {
    const msg::CameraRandomization& c = r.cameras();
    const Node n = ctx.Child(node, r, "cameras");
    if (c.has_position()) {
      PF_TRY(Require(c.position() >= 0.0 && c.position() <= 1.0, "position must be in [0, 1] m", ctx.Where(n, c, "position")));
      spec.camera_position = c.position();
    }
    if (c.has_rotation()) {
      PF_TRY(Require(c.rotation() >= 0.0 && c.rotation() <= 0.5, "rotation must be in [0, 0.5] rad", ctx.Where(n, c, "rotation")));
      spec.camera_rotation = c.rotation();
    }
    if (c.has_fov_scale()) { PF_ASSIGN_OR_RETURN(spec.fov_scale, ToRange(ctx, n, c, "fov_scale", c.fov_scale(), 0.0, 10.0, true)); }
  }
  if (r.has_lights()) {
    const msg::LightRandomization& l = r.lights();
    const Node n = ctx.Child(node, r, "lights");
    if (l.has_direction()) {
      PF_TRY(Require(l.direction() >= 0.0 && l.direction() <= 1.5, "direction must be in [0, 1.5] rad", ctx.Where(n, l, "direction")));
      spec.light_direction = l.direction();
    }
    if (l.has_intensity()) { PF_ASSIGN_OR_RETURN(spec.light_intensity, ToRange(ctx, n, l, "intensity", l.intensity(), 0.0, 100.0)); }
    if (l.has_ambient()) { PF_ASSIGN_OR_RETURN(spec.light_ambient, ToRange(ctx, n, l, "ambient", l.ambient(), 0.0, 10.0)); }
    if (l.has_color()) {
      PF_TRY(Require(l.color() >= 0.0 && l.color() <= 1.0, "color must be in [0, 1]", ctx.Where(n, l, "color")));
      spec.light_colour = l.color();
    }
  }
  if (r.has_colors()) {
    const msg::ColorRandomization& c = r.colors();
    const Node n = ctx.Child(node, r, "colors");
    PF_ASSIGN_OR_RETURN(spec.colour_objects, names.ObjectList(ctx, n, c, "objects", c.objects(), false));
    if (spec.colour_objects.empty())
      for (std::size_t o = 0; o < model.objects.size(); ++o)
        if (model.objects[o].mass > 0.0) spec.colour_objects.push_back(static_cast<int>(o));
    if (c.has_hue()) {
      PF_TRY(Require(c.hue() >= 0.0 && c.hue() <= 0.5, "hue must be in [0, 0.5] turns", ctx.Where(n, c, "hue")));
      spec.hue = c.hue();
    }
    if (c.has_saturation()) { PF_ASSIGN_OR_RETURN(spec.saturation, ToRange(ctx, n, c, "saturation", c.saturation(), 0.0, 10.0)); }
    if (c.has_value()) { PF_ASSIGN_OR_RETURN(spec.value, ToRange(ctx, n, c, "value", c.value(), 0.0, 10.0)); }
  }
  return core::Ok();
}

}  // namespace

core::Status CompileTaskParts(const Context& ctx, const Node& root, const msg::Scenario& message, Scenario& scenario) {
  const Names names(scenario.model);
  if (message.has_task()) PF_TRY(CompileTask(ctx, ctx.Child(root, message, "task"), message.task(), scenario, names));
  std::set<std::string> camera_names;
  for (int i = 0; i < message.cameras_size(); ++i) {
    const msg::Camera& camera = message.cameras(i);
    const Node n = ctx.Child(root, message, "cameras", i, LabelOf(camera, i));
    PF_ASSIGN_OR_RETURN(CameraSpec spec, CompileCamera(ctx, n, camera, scenario.model));
    PF_TRY(Require(camera_names.insert(spec.name).second, StrCat("duplicate camera name '", spec.name, "'"),
                   ctx.Where(n, camera, "name")));
    if (!scenario.cameras.empty()) {
      const auto& first = scenario.cameras.front().intrinsics;
      PF_TRY(Require(first.width == spec.intrinsics.width && first.height == spec.intrinsics.height,
                     StrCat("all cameras share one image size: the first is ", first.width, "x", first.height),
                     ctx.Where(n, camera, "width")));
    }
    scenario.cameras.push_back(std::move(spec));
  }
  if (message.lights_size() > 1)
    return core::Fail("at most one light for now (the renderer draws one directional light)",
                      ctx.Here(ctx.Child(root, message, "lights", 1)));
  for (int i = 0; i < message.lights_size(); ++i) {
    PF_ASSIGN_OR_RETURN(LightSpec spec, CompileLight(ctx, ctx.Child(root, message, "lights", i), message.lights(i)));
    scenario.lights.push_back(spec);
  }
  if (scenario.lights.empty()) scenario.lights.push_back(LightSpec{});
  if (message.has_randomization())
    PF_TRY(CompileRandomization(ctx, ctx.Child(root, message, "randomization"), message.randomization(), scenario, names));
  return core::Ok();
}

}  // namespace pf::scenarios::internal
