// Episodes: every per-episode draw (placements, physics, cameras, lights, colours, the
// task's goal and instruction) from the counter-based generator, and the task predicates.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "pf/core/check.h"
#include "pf/core/rng.h"
#include "pf/core/str.h"
#include "pf/scenarios/scenario.h"
#include "pf/sim/controllers.h"
#include "placement.h"

namespace pf::scenarios {

using core::StrCat;

const char* TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kReach: return "reach";
    case TaskKind::kPickPlace: return "pick_place";
    case TaskKind::kStack: return "stack";
    case TaskKind::kBinPick: return "bin_pick";
  }
  return "unknown";
}

namespace {

// Named colour of a linear RGB value, by hue, saturation and value.
std::string ColourName(const core::Vec4& rgba) {
  const double r = rgba[0], g = rgba[1], b = rgba[2];
  const double mx = std::max({r, g, b}), mn = std::min({r, g, b});
  const double v = mx, s = mx > 0 ? (mx - mn) / mx : 0.0;
  if (v < 0.12) return "black";
  if (s < 0.25) return v > 0.75 ? "white" : "grey";
  double h = 0.0;
  if (mx == r) h = std::fmod((g - b) / (mx - mn) + 6.0, 6.0);
  else if (mx == g) h = (b - r) / (mx - mn) + 2.0;
  else h = (r - g) / (mx - mn) + 4.0;
  h *= 60.0;
  if (h < 15 || h >= 340) return "red";
  if (h < 45) return v < 0.55 ? "brown" : "orange";
  if (h < 70) return "yellow";
  if (h < 165) return "green";
  if (h < 195) return "cyan";
  if (h < 260) return "blue";
  if (h < 300) return "purple";
  return "pink";
}

core::Vec4 JitterColour(const core::Vec4& rgba, double hue, double sat_scale, double val_scale) {
  const double r = rgba[0], g = rgba[1], b = rgba[2];
  const double mx = std::max({r, g, b}), mn = std::min({r, g, b});
  double h = 0.0;
  const double d = mx - mn;
  if (d > 0) {
    if (mx == r) h = std::fmod((g - b) / d + 6.0, 6.0);
    else if (mx == g) h = (b - r) / d + 2.0;
    else h = (r - g) / d + 4.0;
  }
  h = std::fmod(h / 6.0 + hue + 1.0, 1.0) * 6.0;
  const double s = std::clamp((mx > 0 ? d / mx : 0.0) * sat_scale, 0.0, 1.0);
  const double v = std::clamp(mx * val_scale, 0.0, 1.0);
  const double c = v * s, x = c * (1 - std::abs(std::fmod(h, 2.0) - 1)), m = v - c;
  double rr = 0, gg = 0, bb = 0;
  switch (static_cast<int>(h) % 6) {
    case 0: rr = c; gg = x; break;
    case 1: rr = x; gg = c; break;
    case 2: gg = c; bb = x; break;
    case 3: gg = x; bb = c; break;
    case 4: rr = x; bb = c; break;
    default: rr = c; bb = x; break;
  }
  return core::Vec4(rr + m, gg + m, bb + m, rgba[3]);
}

std::string Centimetres(double metres) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.0f cm", metres * 100.0);
  return buffer;
}

std::string Replace(std::string text, const std::string& key, const std::string& value) {
  for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
    text.replace(at, key.size(), value);
  return text;
}

// Which side of the robot's workspace a point is on, seen from the robot (facing +x).
std::string SideWord(const core::Vec3& p_W, const core::Vec3& p_base) {
  const double y = p_W.y() - p_base.y();
  if (y > 0.05) return "left";
  if (y < -0.05) return "right";
  return "middle";
}
std::string Side(const core::Vec3& p_W, const core::Vec3& p_base) {
  const std::string side = SideWord(p_W, p_base);
  return side == "middle" ? "in the middle" : "on the " + side;
}

const std::vector<std::string>& DefaultInstructions(TaskKind kind) {
  static const std::vector<std::string> reach = {"move the gripper to {target}", "reach for {target}",
                                                 "put the tool tip at {target}", "go to {target}"};
  static const std::vector<std::string> pick = {"pick up the {object} and put it {goal}", "place the {object} {goal}",
                                                "move the {object} {goal}", "put the {object} {goal}"};
  static const std::vector<std::string> stack = {"stack the {object} on the {base}",
                                                 "put the {object} on top of the {base}",
                                                 "place the {object} onto the {base}", "build a tower: the {object} on the {base}"};
  static const std::vector<std::string> bin = {"pick the {object} out of the {source} and put it {goal}",
                                               "take the {object} from the {source} and drop it {goal}",
                                               "move the {object} from the {source} {goal}",
                                               "find the {object} among the parts in the {source} and put it {goal}"};
  switch (kind) {
    case TaskKind::kReach: return reach;
    case TaskKind::kPickPlace: return pick;
    case TaskKind::kStack: return stack;
    case TaskKind::kBinPick: return bin;
  }
  return reach;
}

bool RobotTouches(const sim::BatchSim& sim, int env, int body) {
  const sim::Model& m = sim.model();
  for (const sim::Contact& c : sim.contacts(env)) {
    const int other = c.body_a == body ? c.body_b : c.body_b == body ? c.body_a : -2;
    if (other >= 0 && m.bodies()[static_cast<std::size_t>(other)].robot >= 0) return true;
  }
  return false;
}

core::Vec3 BodyPosition(const sim::BatchSim& sim, int env, int body) {
  const double* p = sim.body_poses().data() +
                    (static_cast<std::size_t>(env) * static_cast<std::size_t>(sim.model().num_bodies()) +
                     static_cast<std::size_t>(body)) * 7;
  return core::Vec3(p[0], p[1], p[2]);
}

double ObjectSpeed(const sim::BatchSim& sim, int env, int object) {
  const double* v = sim.object_velocities().data() +
                    (static_cast<std::size_t>(env) * static_cast<std::size_t>(sim.model().num_objects()) +
                     static_cast<std::size_t>(object)) * 6;
  return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

}  // namespace

core::Result<TaskContext> TaskContext::Create(const Scenario& scenario, std::shared_ptr<const sim::Model> model) {
  if (!scenario.task) return core::Fail("the scenario has no task", {scenario.source.string(), 0, 0, "task"});
  if (model->num_objects() != static_cast<int>(scenario.model.objects.size()) ||
      model->num_robots() != static_cast<int>(scenario.model.robots.size()))
    return core::Fail("the model was not compiled from this scenario", {scenario.source.string(), 0, 0, ""});
  TaskContext context;
  context.scenario_ = &scenario;
  context.model_ = std::move(model);
  context.task_ = *scenario.task;
  PF_ASSIGN_OR_RETURN(context.probe_, sim::BatchSim::Create(context.model_, {1, 1, 16}));
  return context;
}

double TaskContext::control_dt() const { return model_->physics().timestep * model_->physics().control_substeps; }

core::Vec3 TaskContext::ObjectHalfExtents(int object) const {
  return internal::PrimitiveHalfExtents(scenario_->model.objects[static_cast<std::size_t>(object)])
      .value_or(core::Vec3::Constant(0.02));
}

std::string TaskContext::ObjectPhrase(int object, const core::Vec4& colour) const {
  const sim::ObjectSpec& o = scenario_->model.objects[static_cast<std::size_t>(object)];
  std::string noun = o.semantic_name.empty() ? o.name : o.semantic_name;
  std::replace(noun.begin(), noun.end(), '_', ' ');
  return StrCat(ColourName(colour), " ", noun);
}

core::Result<EpisodeSetup> TaskContext::DrawEpisode(std::uint64_t seed, std::uint64_t episode) const {
  const sim::ModelSpec& spec = scenario_->model;
  const RandomizationSpec& rand = scenario_->randomization;
  const std::uint64_t hash = spec.scenario_hash;
  auto rng_for = [&](core::RngStream stream, std::uint32_t sub = 0) {
    return core::CounterRng({hash, seed, episode, stream, sub});
  };
  EpisodeSetup setup;
  setup.seed = seed;
  setup.episode = episode;
  auto& draws = setup.draws;

  // Placements, one generator substream per placement.
  setup.object_poses.resize(spec.objects.size());
  for (std::size_t o = 0; o < spec.objects.size(); ++o) setup.object_poses[o] = spec.objects[o].X_WO;
  std::vector<internal::PlacementWorld> worlds;
  for (std::size_t i = 0; i < rand.placements.size(); ++i) {
    const PlacementSpec& p = rand.placements[i];
    // Objects of earlier placements on the same support are obstacles for later ones.
    internal::PlacementWorld world = internal::MakePlacementWorld(spec, rand.placements, p.region.min.z());
    for (std::size_t j = 0; j < i; ++j) {
      if (rand.placements[j].region.min.z() != p.region.min.z()) continue;
      for (int o : rand.placements[j].objects) {
        const core::Vec3 h = ObjectHalfExtents(o);
        const core::Vec3 e = spec.objects[static_cast<std::size_t>(o)].X_WO.rotation().cwiseAbs() * h;
        const core::Vec3& t = setup.object_poses[static_cast<std::size_t>(o)].translation();
        world.placed.push_back({t.x(), t.y(), std::hypot(e.x(), e.y())});
      }
    }
    core::CounterRng rng = rng_for(core::RngStream::kPlacement, static_cast<std::uint32_t>(i));
    if (!internal::PlaceObjects(spec, p, rng, world, setup.object_poses, &draws))
      return core::Fail(StrCat("episode ", episode, ": no room to place the objects of placement ", i,
                               " without overlap"),
                        {scenario_->source.string(), 0, 0, StrCat("randomization.placements[", i, "]")});
  }
  setup.initial_state = probe_->InitialState();
  for (std::size_t o = 0; o < spec.objects.size(); ++o)
    probe_->SetObjectPoseInState(setup.initial_state, static_cast<int>(o), setup.object_poses[o]);

  // Physical parameters.
  {
    core::CounterRng rng = rng_for(core::RngStream::kPhysicsParams);
    const int O = model_->num_objects();
    // Sets object o's entry of a per-object parameter, filling every other object with its
    // model value the first time the parameter is drawn.
    auto set = [&](std::vector<double>& values, auto model_value, int o, double value, const char* what) {
      if (values.empty())
        for (int k = 0; k < O; ++k) values.push_back(model_value(spec.objects[static_cast<std::size_t>(k)]));
      values[static_cast<std::size_t>(o)] = value;
      draws.emplace_back(spec.objects[static_cast<std::size_t>(o)].name + what, value);
    };
    const auto mass_of = [](const sim::ObjectSpec& object) { return object.mass; };
    const auto friction_of = [&](const sim::ObjectSpec& object) {
      return object.friction >= 0.0 ? object.friction : spec.physics.default_friction;
    };
    const auto restitution_of = [&](const sim::ObjectSpec& object) {
      return object.restitution >= 0.0 ? object.restitution : spec.physics.default_restitution;
    };
    for (const ObjectPhysicsSpec& p : rand.object_physics) {
      for (int o : p.objects) {
        const sim::ObjectSpec& object = spec.objects[static_cast<std::size_t>(o)];
        if (p.mass_scale)
          set(setup.params.object_mass, mass_of, o, object.mass * rng.Uniform(p.mass_scale->min, p.mass_scale->max), ".mass");
        if (p.friction)
          set(setup.params.object_friction, friction_of, o, rng.Uniform(p.friction->min, p.friction->max), ".friction");
        if (p.restitution)
          set(setup.params.object_restitution, restitution_of, o, rng.Uniform(p.restitution->min, p.restitution->max),
              ".restitution");
      }
    }
    if (rand.gain_scale) {
      const double s = rng.Uniform(rand.gain_scale->min, rand.gain_scale->max);
      setup.params.gain_scale.assign(static_cast<std::size_t>(model_->num_actuated()), s);
      draws.emplace_back("gain_scale", s);
    }
    if (rand.joint_damping) {
      setup.params.joint_damping.resize(static_cast<std::size_t>(model_->num_dofs()));
      for (int d = 0; d < model_->num_dofs(); ++d) {
        const double extra = rng.Uniform(rand.joint_damping->min, rand.joint_damping->max);
        setup.params.joint_damping[static_cast<std::size_t>(d)] = model_->dofs()[static_cast<std::size_t>(d)].damping + extra;
        draws.emplace_back(model_->dofs()[static_cast<std::size_t>(d)].name + ".damping", extra);
      }
    }
  }

  // Cameras: eye jitter, a small rotation about a random axis, focal length scale.
  setup.cameras = scenario_->cameras;
  for (std::size_t c = 0; c < setup.cameras.size(); ++c) {
    CameraSpec& camera = setup.cameras[c];
    core::CounterRng rng = rng_for(core::RngStream::kCamera, static_cast<std::uint32_t>(c));
    if (rand.camera_position > 0.0) {
      core::Vec3 offset;
      for (int k = 0; k < 3; ++k) offset[k] = rng.Uniform(-rand.camera_position, rand.camera_position);
      camera.X_PC.translation() += offset;
      draws.emplace_back(camera.name + ".dx", offset.x());
      draws.emplace_back(camera.name + ".dy", offset.y());
      draws.emplace_back(camera.name + ".dz", offset.z());
    }
    if (rand.camera_rotation > 0.0) {
      core::Vec3 axis(rng.Normal(), rng.Normal(), rng.Normal());
      if (axis.norm() < 1e-12) axis = core::Vec3::UnitZ();
      const double angle = rng.Uniform(0.0, rand.camera_rotation);
      camera.X_PC.linear() = camera.X_PC.linear() * core::AngleAxis(angle, axis.normalized()).toRotationMatrix();
      draws.emplace_back(camera.name + ".rotation", angle);
    }
    if (rand.fov_scale) {
      const double s = rng.Uniform(rand.fov_scale->min, rand.fov_scale->max);
      camera.intrinsics.fx *= s;
      camera.intrinsics.fy *= s;
      draws.emplace_back(camera.name + ".focal_scale", s);
    }
  }

  // Lights and colours.
  {
    core::CounterRng rng = rng_for(core::RngStream::kVisual);
    setup.lights = scenario_->lights;
    for (LightSpec& light : setup.lights) {
      if (rand.light_direction > 0.0) {
        core::Vec3 axis = light.direction.unitOrthogonal();
        axis = core::AngleAxis(rng.Uniform(0.0, 2.0 * std::numbers::pi), light.direction) * axis;
        const double tilt = rng.Uniform(0.0, rand.light_direction);
        light.direction = (core::AngleAxis(tilt, axis) * light.direction).normalized();
        draws.emplace_back("light.tilt", tilt);
      }
      if (rand.light_intensity) {
        light.intensity = rng.Uniform(rand.light_intensity->min, rand.light_intensity->max);
        draws.emplace_back("light.intensity", light.intensity);
      }
      if (rand.light_ambient) {
        light.ambient = rng.Uniform(rand.light_ambient->min, rand.light_ambient->max);
        draws.emplace_back("light.ambient", light.ambient);
      }
      if (rand.light_colour > 0.0) {
        for (int k = 0; k < 3; ++k) light.colour[k] *= rng.Uniform(1.0 - rand.light_colour, 1.0);
        draws.emplace_back("light.r", light.colour[0]);
        draws.emplace_back("light.g", light.colour[1]);
        draws.emplace_back("light.b", light.colour[2]);
      }
    }
    setup.object_colours.resize(spec.objects.size());
    for (std::size_t o = 0; o < spec.objects.size(); ++o) setup.object_colours[o] = spec.objects[o].colour;
    const bool colours = rand.hue > 0.0 || rand.saturation || rand.value;
    if (colours) {
      for (int o : rand.colour_objects) {
        const double hue = rand.hue > 0.0 ? rng.Uniform(-rand.hue, rand.hue) : 0.0;
        const double s = rand.saturation ? rng.Uniform(rand.saturation->min, rand.saturation->max) : 1.0;
        const double v = rand.value ? rng.Uniform(rand.value->min, rand.value->max) : 1.0;
        auto& c = setup.object_colours[static_cast<std::size_t>(o)];
        c = JitterColour(c, hue, s, v);
        const std::string& name = spec.objects[static_cast<std::size_t>(o)].name;
        draws.emplace_back(name + ".hue", hue);
        draws.emplace_back(name + ".saturation", s);
        draws.emplace_back(name + ".value", v);
      }
    }
  }

  // The task: which object, which goal, which words.
  {
    core::CounterRng rng = rng_for(core::RngStream::kTask);
    const core::Vec3 base = spec.robots[static_cast<std::size_t>(task_.robot)].X_WB.translation();
    const std::vector<std::string>& templates =
        task_.instructions.empty() ? DefaultInstructions(task_.kind) : task_.instructions;
    const std::size_t phrasing = static_cast<std::size_t>(rng.UniformInt(templates.size()));
    draws.emplace_back("instruction", static_cast<double>(phrasing));
    std::string text = templates[phrasing];
    // An object's phrase, with its side when another candidate would read the same.
    auto phrase = [&](int o, const std::vector<int>& among) {
      std::string p = ObjectPhrase(o, setup.object_colours[static_cast<std::size_t>(o)]);
      bool ambiguous = false;
      for (int other : among)
        if (other != o && ObjectPhrase(other, setup.object_colours[static_cast<std::size_t>(other)]) == p) ambiguous = true;
      if (ambiguous || rng.Uniform01() < 0.25)
        p += " " + Side(setup.object_poses[static_cast<std::size_t>(o)].translation(), base);
      return p;
    };
    switch (task_.kind) {
      case TaskKind::kReach: {
        for (int k = 0; k < 3; ++k) setup.goal[k] = rng.Uniform(task_.target.min[k], task_.target.max[k]);
        draws.emplace_back("goal.x", setup.goal.x());
        draws.emplace_back("goal.y", setup.goal.y());
        draws.emplace_back("goal.z", setup.goal.z());
        const double left = setup.goal.y() - base.y();
        const std::string target = StrCat("the point ", Centimetres(setup.goal.x() - base.x()), " ahead, ",
                                          Centimetres(std::abs(left)), left >= 0 ? " left" : " right", " and ",
                                          Centimetres(setup.goal.z() - base.z()), " up from the robot's base");
        text = Replace(text, "{target}", target);
        break;
      }
      case TaskKind::kPickPlace:
      case TaskKind::kBinPick: {
        setup.object = task_.objects[static_cast<std::size_t>(rng.UniformInt(task_.objects.size()))];
        draws.emplace_back("object", static_cast<double>(setup.object));
        if (task_.tray >= 0) {
          setup.goal = 0.5 * (task_.target.min + task_.target.max);
        } else {
          // The goal keeps the part's footprint inside the region, so a placement a few
          // millimetres off still counts.
          const double half = ObjectHalfExtents(setup.object).head<2>().maxCoeff();
          const double mx = std::min(half, 0.45 * (task_.target.max.x() - task_.target.min.x()));
          const double my = std::min(half, 0.45 * (task_.target.max.y() - task_.target.min.y()));
          setup.goal.x() = rng.Uniform(task_.target.min.x() + mx, task_.target.max.x() - mx);
          setup.goal.y() = rng.Uniform(task_.target.min.y() + my, task_.target.max.y() - my);
          setup.goal.z() = task_.target.min.z();
        }
        draws.emplace_back("goal.x", setup.goal.x());
        draws.emplace_back("goal.y", setup.goal.y());
        std::string goal = task_.goal_description;
        if (goal.empty()) {
          if (task_.tray >= 0) goal = "in the " + ObjectPhrase(task_.tray, setup.object_colours[static_cast<std::size_t>(task_.tray)]);
          else {
            const std::string side = SideWord(0.5 * (task_.target.min + task_.target.max), base);
            goal = side == "middle" ? "in the middle of the table" : StrCat("on the ", side, " side of the table");
          }
        }
        text = Replace(Replace(text, "{object}", phrase(setup.object, task_.objects)), "{goal}", goal);
        if (task_.source >= 0)
          text = Replace(text, "{source}", ObjectPhrase(task_.source, setup.object_colours[static_cast<std::size_t>(task_.source)]));
        break;
      }
      case TaskKind::kStack: {
        std::vector<int> order = task_.objects;
        for (std::size_t i = order.size(); i > 1; --i)
          std::swap(order[i - 1], order[static_cast<std::size_t>(rng.UniformInt(i))]);
        order.resize(static_cast<std::size_t>(task_.height));
        setup.stack = order;
        for (std::size_t i = 0; i < order.size(); ++i) draws.emplace_back(StrCat("stack", i), static_cast<double>(order[i]));
        std::string upper;
        for (std::size_t i = order.size() - 1; i >= 1; --i)
          upper = upper.empty() ? phrase(order[i], task_.objects) : StrCat(phrase(order[i], task_.objects), " on the ", upper);
        // Height 3: "the blue cube on the green cube on the red cube" reads top to bottom.
        if (order.size() == 3)
          upper = StrCat(phrase(order[2], task_.objects), ", then the ", phrase(order[1], task_.objects));
        text = Replace(Replace(text, "{object}", upper), "{base}", phrase(order[0], task_.objects));
        setup.object = order[1];
        setup.goal = setup.object_poses[static_cast<std::size_t>(order[0])].translation();
        break;
      }
    }
    setup.instruction = text;
  }
  return setup;
}

void TaskContext::ApplyEpisode(sim::BatchSim& sim, int env, const EpisodeSetup& setup) const {
  sim.SetEnvParams(env, setup.params);
  sim.SetState(env, sim::kStateAll, setup.initial_state);
}

void TaskContext::WriteCameras(const sim::BatchSim& sim, const std::vector<const EpisodeSetup*>& episodes,
                               core::RenderSnapshot* snapshot) const {
  std::vector<int> env_ids(episodes.size());
  for (std::size_t e = 0; e < env_ids.size(); ++e) env_ids[e] = static_cast<int>(e);
  WriteCameras(sim, env_ids, episodes, snapshot);
}

void TaskContext::WriteCameras(const sim::BatchSim& sim, std::span<const int> env_ids,
                               std::span<const EpisodeSetup* const> episodes, core::RenderSnapshot* snapshot) const {
  const std::size_t C = scenario_->cameras.size();
  PF_CHECK(snapshot->num_cameras == C, "snapshot has ", snapshot->num_cameras, " cameras, the scenario ", C);
  PF_CHECK(episodes.size() == snapshot->num_envs && env_ids.size() == episodes.size(), "one env id and episode per snapshot env");
  // Randomized colours: those objects' instances in their drawn colour, the rest in their
  // meshes' own (a URDF object's visuals may have several).
  const auto& varied = scenario_->randomization.colour_objects;
  const std::size_t n = snapshot->instances.size();
  if (varied.empty()) {
    snapshot->instance_colours.clear();
  } else {
    snapshot->instance_colours.resize(episodes.size() * n);
  }
  for (std::size_t e = 0; e < episodes.size(); ++e) {
    const EpisodeSetup& setup = *episodes[e];
    const std::size_t env = static_cast<std::size_t>(env_ids[e]);
    for (std::size_t c = 0; c < C; ++c) {
      const CameraSpec& camera = setup.cameras[c];
      core::Pose X_WC = camera.X_PC;
      if (camera.attach_robot >= 0) {
        const int body = model_->robot_first_body(camera.attach_robot) + camera.attach_link;
        const double* p = sim.body_poses().data() + (env * static_cast<std::size_t>(model_->num_bodies()) +
                                                     static_cast<std::size_t>(body)) * 7;
        X_WC = core::PoseFromArray(p) * camera.X_PC;
      }
      snapshot->camera_intrinsics[e * C + c] = camera.intrinsics;
      core::PoseToArray(X_WC, snapshot->camera_poses.data() + (e * C + c) * 7);
    }
    for (std::size_t k = 0; k < n && !varied.empty(); ++k) {
      const core::InstanceDesc& instance = snapshot->instances[k];
      const int object = model_->bodies()[instance.body].object;
      const bool drawn = object >= 0 && std::find(varied.begin(), varied.end(), object) != varied.end();
      snapshot->instance_colours[e * n + k] =
          drawn ? setup.object_colours[static_cast<std::size_t>(object)] : model_->render_meshes()[instance.mesh.value].colour;
    }
    const LightSpec& light = setup.lights.front();
    snapshot->lights[e].direction_W = light.direction;
    snapshot->lights[e].colour = light.colour;
    snapshot->lights[e].intensity = light.intensity;
    snapshot->lights[e].ambient = light.ambient;
  }
}

TaskStatus EvaluateTask(const TaskContext& context, const sim::BatchSim& sim, int env, const EpisodeSetup& setup,
                        int step) {
  const TaskSpec& task = context.task();
  const sim::Model& m = sim.model();
  TaskStatus status;
  status.timeout = step >= task.max_steps;
  const core::Vec3 tcp = sim::EndEffectorPose(sim, env, task.robot).translation();
  switch (task.kind) {
    case TaskKind::kReach: {
      const double d = (tcp - setup.goal).norm();
      status.success = d < task.tolerance;
      status.dense_reward = 1.0 - std::tanh(5.0 * d);
      break;
    }
    case TaskKind::kPickPlace:
    case TaskKind::kBinPick: {
      const int o = setup.object;
      const int body = m.object_body(o);
      const core::Vec3 p = BodyPosition(sim, env, body);
      const core::Vec3 h = context.ObjectHalfExtents(o);
      const double bottom = p.z() - (setup.object_poses[static_cast<std::size_t>(o)].rotation().cwiseAbs() * h).z();
      const bool inside = p.x() >= task.target.min.x() && p.x() <= task.target.max.x() &&
                          p.y() >= task.target.min.y() && p.y() <= task.target.max.y();
      const bool resting = std::abs(bottom - task.target.min.z()) < 0.015 && ObjectSpeed(sim, env, o) < 0.05;
      const bool released = !RobotTouches(sim, env, body);
      status.success = inside && resting && released;
      const double reach = 1.0 - std::tanh(5.0 * (tcp - p).norm());
      const double lifted = bottom > setup.object_poses[static_cast<std::size_t>(o)].translation().z() - h.z() + 0.02 ? 1.0 : 0.0;
      const double place = 1.0 - std::tanh(5.0 * (p.head<2>() - setup.goal.head<2>()).norm());
      status.dense_reward = status.success ? 1.0 : 0.3 * reach + 0.2 * lifted + 0.4 * place;
      break;
    }
    case TaskKind::kStack: {
      bool ok = true;
      double progress = 0.0;
      for (std::size_t k = 1; k < setup.stack.size(); ++k) {
        const int below = setup.stack[k - 1], above = setup.stack[k];
        const core::Vec3 pb = BodyPosition(sim, env, m.object_body(below));
        const core::Vec3 pa = BodyPosition(sim, env, m.object_body(above));
        const core::Vec3 hb = context.ObjectHalfExtents(below), ha = context.ObjectHalfExtents(above);
        const bool centred = (pa.head<2>() - pb.head<2>()).norm() < 0.5 * std::min(hb.x(), hb.y()) + 0.005;
        const bool on_top = std::abs(pa.z() - pb.z() - hb.z() - ha.z()) < 0.01;
        const bool still = ObjectSpeed(sim, env, above) < 0.05;
        const bool layer = centred && on_top && still;
        ok = ok && layer;
        progress += layer ? 1.0 : 1.0 - std::tanh(5.0 * (pa - pb - core::Vec3(0, 0, hb.z() + ha.z())).norm());
      }
      const int top = setup.stack.back();
      status.success = ok && !RobotTouches(sim, env, m.object_body(top));
      status.dense_reward = status.success ? 1.0 : progress / static_cast<double>(setup.stack.size() - 1) * 0.9;
      break;
    }
  }
  status.sparse_reward = status.success ? 1.0 : 0.0;
  return status;
}

}  // namespace pf::scenarios
