#include "editor.h"

#include <algorithm>
#include <cmath>

#include "pf/core/str.h"
#include "pf/render/camera.h"

namespace pf::editor {

core::Pose OrbitCamera::Pose() const {
  const core::Vec3 offset(std::cos(pitch) * std::cos(yaw), std::cos(pitch) * std::sin(yaw), std::sin(pitch));
  return render::LookAt(target + distance * offset, target);
}

core::CameraIntrinsics OrbitCamera::Intrinsics(std::uint32_t width, std::uint32_t height) const {
  core::CameraIntrinsics K;
  K.width = width;
  K.height = height;
  K.fy = 0.5 * height / std::tan(0.5 * fov_y);
  K.fx = K.fy;
  K.cx = 0.5 * width;
  K.cy = 0.5 * height;
  K.near = 0.02;
  K.far = 50.0;
  return K;
}

void OrbitCamera::Orbit(double dx_px, double dy_px) {
  yaw -= 0.008 * dx_px;
  pitch = std::clamp(pitch + 0.008 * dy_px, -1.5, 1.5);
}

void OrbitCamera::Pan(double dx_px, double dy_px, std::uint32_t viewport_height) {
  // Metres per pixel at the target's distance.
  const double scale = 2.0 * distance * std::tan(0.5 * fov_y) / std::max<std::uint32_t>(viewport_height, 1);
  const core::Pose X_WC = Pose();
  target += X_WC.rotation() * core::Vec3(-dx_px * scale, -dy_px * scale, 0.0);
}

void OrbitCamera::Zoom(double wheel_steps) { distance = std::clamp(distance * std::pow(0.9, wheel_steps), 0.05, 50.0); }

Editor::Editor(assets::AssetLibrary& library, std::shared_ptr<render::VulkanContext> context)
    : library_(library), context_(std::move(context)) {}

core::Status Editor::Open(const std::string& path_or_builtin) {
  PF_ASSIGN_OR_RETURN(scenarios::ScenarioDocument doc, scenarios::ScenarioDocument::Open(path_or_builtin, library_));
  std::optional<scenarios::ScenarioDocument> previous = std::move(doc_);
  doc_ = std::move(doc);
  if (auto status = Rebuild(); !status) {
    doc_ = std::move(previous);
    if (doc_) (void)Rebuild();
    return status;
  }
  saved_text_ = doc_->Text();
  undo_.clear();
  redo_.clear();
  selected_.clear();
  return core::Ok();
}

core::Status Editor::Save(const std::optional<std::filesystem::path>& path) {
  if (!doc_) return core::Fail("nothing to save: no scenario is open");
  std::filesystem::path target = path.value_or(doc_->source());
  if (target.string().starts_with(scenarios::kBuiltinScenarioScheme))
    return core::Fail("a built-in scenario has no file: use Save As", {target.string(), 0, 0, ""});
  // Relative URDF paths resolve against the file's folder: a new folder must reach them too.
  auto check = scenarios::ScenarioDocument::FromText(doc_->Text(), target, library_);
  if (!check) return std::unexpected(check.error());
  PF_TRY(doc_->Save(target));
  saved_text_ = doc_->Text();
  return core::Ok();
}

bool Editor::unsaved() const { return doc_ && doc_->Text() != saved_text_; }

std::string Editor::title() const {
  if (!doc_) return "parafab-editor";
  return core::StrCat(unsaved() ? "* " : "", doc_->source().string(), " - parafab-editor");
}

template <class Fn>
core::Status Editor::Edit(Fn fn) {
  if (!doc_) return core::Fail("no scenario is open");
  scenarios::ScenarioDocument before = *doc_;
  PF_TRY(fn(*doc_));
  if (auto status = Rebuild(); !status) {
    *doc_ = std::move(before);
    (void)Rebuild();
    return status;
  }
  undo_.push_back(std::move(before));
  redo_.clear();
  return core::Ok();
}

core::Status Editor::Select(const std::string& name) {
  if (!doc_) return core::Fail("no scenario is open");
  if (!name.empty()) {
    const auto objects = doc_->ObjectNames(), robots = doc_->RobotNames();
    if (std::find(objects.begin(), objects.end(), name) == objects.end() &&
        std::find(robots.begin(), robots.end(), name) == robots.end())
      return core::Fail(core::StrCat("no object or robot named '", name, "'"));
  }
  selected_ = name;
  return core::Ok();
}

core::Status Editor::SetPose(const core::Pose& pose) {
  return Edit([&](scenarios::ScenarioDocument& d) { return d.SetObjectPose(selected_, pose); });
}
core::Status Editor::SetMass(double kg) {
  return Edit([&](scenarios::ScenarioDocument& d) { return d.SetObjectMass(selected_, kg); });
}
core::Status Editor::SetFriction(double friction) {
  return Edit([&](scenarios::ScenarioDocument& d) { return d.SetObjectFriction(selected_, friction); });
}
core::Status Editor::SetRestitution(double restitution) {
  return Edit([&](scenarios::ScenarioDocument& d) { return d.SetObjectRestitution(selected_, restitution); });
}
core::Status Editor::SetColour(const core::Vec4& rgba) {
  return Edit([&](scenarios::ScenarioDocument& d) { return d.SetObjectColour(selected_, rgba); });
}
core::Status Editor::SetSemanticClass(const std::string& semantic_class) {
  return Edit([&](scenarios::ScenarioDocument& d) { return d.SetObjectSemanticClass(selected_, semantic_class); });
}
core::Status Editor::AddObject(const std::string& name, const std::string& urdf, const core::Pose& pose) {
  PF_TRY(Edit([&](scenarios::ScenarioDocument& d) { return d.AddUrdfObject(name, urdf, pose); }));
  selected_ = name;
  return core::Ok();
}
core::Status Editor::RemoveSelected() {
  const std::string name = selected_;
  PF_TRY(Edit([&](scenarios::ScenarioDocument& d) { return d.RemoveObject(name); }));
  selected_.clear();
  return core::Ok();
}

core::Status Editor::SetPlacementRegion(int index, const scenarios::RegionSpec& region) {
  return Edit([&](scenarios::ScenarioDocument& d) { return d.SetPlacementRegion(index, region); });
}

std::vector<int> Editor::SelectedPlacements() const {
  std::vector<int> out;
  if (!doc_ || selected_.empty()) return out;
  const auto& spec = doc_->scenario();
  int object = -1;
  for (std::size_t o = 0; o < spec.model.objects.size(); ++o)
    if (spec.model.objects[o].name == selected_) object = static_cast<int>(o);
  for (std::size_t p = 0; p < spec.randomization.placements.size(); ++p) {
    const auto& objects = spec.randomization.placements[p].objects;
    if (std::find(objects.begin(), objects.end(), object) != objects.end()) out.push_back(static_cast<int>(p));
  }
  return out;
}

bool Editor::Undo() { return Restore(undo_, redo_); }
bool Editor::Redo() { return Restore(redo_, undo_); }

bool Editor::Restore(std::vector<scenarios::ScenarioDocument>& from, std::vector<scenarios::ScenarioDocument>& to) {
  if (from.empty() || !doc_) return false;
  to.push_back(std::move(*doc_));
  doc_ = std::move(from.back());
  from.pop_back();
  (void)Rebuild();
  if (!selected_.empty() && !Select(selected_)) selected_.clear();
  return true;
}

core::Status Editor::Rebuild() {
  PF_ASSIGN_OR_RETURN(auto model, scenarios::CompileModel(doc_->scenario()));
  PF_ASSIGN_OR_RETURN(auto sim, sim::BatchSim::Create(model, {1, 1, 64}));
  std::vector<render::RenderMeshInput> meshes;
  for (const auto& mesh : model->render_meshes()) meshes.emplace_back(*mesh.mesh, mesh.colour, mesh.texture, mesh.specular);
  PF_ASSIGN_OR_RETURN(auto renderer, render::BatchRenderer::Create(context_, meshes));
  PF_ASSIGN_OR_RETURN(auto preview_renderer, render::BatchRenderer::Create(context_, meshes));
  // The task, when there is one, on a copy of the scenario that lives as long as it does.
  auto task_scenario = std::make_unique<scenarios::Scenario>(doc_->scenario());
  std::optional<scenarios::TaskContext> task;
  if (task_scenario->task) {
    PF_ASSIGN_OR_RETURN(scenarios::TaskContext context, scenarios::TaskContext::Create(*task_scenario, model));
    task.emplace(std::move(context));
  }
  model_ = std::move(model);
  sim_ = std::move(sim);
  renderer_ = std::move(renderer);
  preview_renderer_ = std::move(preview_renderer);
  task_.reset();
  expert_.reset();
  setup_.reset();
  task_scenario_ = std::move(task_scenario);
  task_ = std::move(task);
  if (task_) expert_ = std::make_unique<scenarios::Expert>(*task_, 1);
  expert_on_ = false;
  status_ = {};
  if (preview_camera_ >= static_cast<int>(doc_->scenario().cameras.size())) preview_camera_ = 0;
  owners_.clear();
  for (const sim::BodyInfo& body : model_->bodies()) {
    if (body.object >= 0) {
      owners_.push_back(model_->spec().objects[static_cast<std::size_t>(body.object)].name);
    } else if (body.robot >= 0) {
      owners_.push_back(model_->spec().robots[static_cast<std::size_t>(body.robot)].name);
    } else {
      owners_.push_back("");
    }
  }
  sim_steps_ = 0;
  return core::Ok();
}

void Editor::StepSim(int steps) {
  if (!sim_) return;
  for (int i = 0; i < steps; ++i) {
    if (expert_on_ && expert_ && setup_) expert_->Act(*sim_, 0);
    sim_->Step();
    ++sim_steps_;
    if (task_ && setup_) status_ = scenarios::EvaluateTask(*task_, *sim_, 0, *setup_, static_cast<int>(sim_steps_));
  }
}

void Editor::ResetSim() {
  if (!sim_) return;
  sim_steps_ = 0;
  status_ = {};
  if (task_ && setup_) {
    task_->ApplyEpisode(*sim_, 0, *setup_);
    expert_->Reset(*sim_, 0, *setup_);
  } else {
    sim_->ResetAll();
  }
}

core::Status Editor::Resample(std::uint64_t seed, std::uint64_t episode) {
  if (!task_) return core::Fail("the scenario has no task: nothing is randomized per episode");
  PF_ASSIGN_OR_RETURN(scenarios::EpisodeSetup setup, task_->DrawEpisode(seed, episode));
  seed_ = seed;
  episode_ = episode;
  setup_ = std::move(setup);
  ResetSim();
  return core::Ok();
}

core::Status Editor::SetExpert(bool on) {
  if (on && !task_) return core::Fail("the scenario has no task, so no expert");
  if (on && !setup_) PF_TRY(Resample(seed_, episode_));
  expert_on_ = on;
  return core::Ok();
}

std::string Editor::expert_phase() const {
  if (!expert_ || !setup_) return "";
  return scenarios::ExpertPhaseName(expert_->phase(0));
}

core::Status Editor::RenderCameras() {
  if (!sim_ || !preview_renderer_ || doc_->scenario().cameras.empty()) {
    preview_width_ = preview_height_ = 0;
    return core::Ok();
  }
  const auto& cameras = doc_->scenario().cameras;
  const int camera = std::clamp(preview_camera_, 0, static_cast<int>(cameras.size()) - 1);
  preview_snapshot_.num_cameras = static_cast<std::uint32_t>(cameras.size());
  sim_->WriteSnapshot(&preview_snapshot_);
  if (task_ && setup_) {
    task_->WriteCameras(*sim_, {&*setup_}, &preview_snapshot_);
  } else {
    for (std::size_t c = 0; c < cameras.size(); ++c) {
      preview_snapshot_.camera_intrinsics[c] = cameras[c].intrinsics;
      core::PoseToArray(cameras[c].X_PC, &preview_snapshot_.camera_poses[c * core::kPoseSize]);
    }
  }
  // One camera at a time: the renderer draws views of one size per frame.
  core::RenderSnapshot one = preview_snapshot_;
  one.num_cameras = 1;
  one.camera_intrinsics = {preview_snapshot_.camera_intrinsics[static_cast<std::size_t>(camera)]};
  one.camera_poses.assign(preview_snapshot_.camera_poses.begin() + camera * core::kPoseSize,
                          preview_snapshot_.camera_poses.begin() + (camera + 1) * core::kPoseSize);
  PF_TRY(preview_renderer_->Render(one));
  const std::uint32_t w = preview_renderer_->width(), h = preview_renderer_->height();
  const std::size_t n = static_cast<std::size_t>(w) * h;
  preview_width_ = w;
  preview_height_ = h;
  const auto colour = preview_renderer_->colour(0);
  const auto depth = preview_renderer_->depth(0);
  const auto segmentation = preview_renderer_->semantic_ids(0);
  preview_rgb_.assign(colour.begin(), colour.end());
  preview_depth_.assign(n * 4, 255);
  preview_segmentation_.assign(n * 4, 255);
  float lo = 1e30f, hi = 0.0f;
  for (float z : depth)
    if (z > 0.0f) {
      lo = std::min(lo, z);
      hi = std::max(hi, z);
    }
  for (std::size_t i = 0; i < n; ++i) {
    preview_rgb_[4 * i + 3] = 255;
    // Depth: near bright, far dark, background black.
    const float z = depth[i];
    const std::uint8_t g = z > 0.0f ? static_cast<std::uint8_t>(255.0f - 200.0f * (z - lo) / std::max(hi - lo, 1e-6f)) : 0;
    preview_depth_[4 * i] = preview_depth_[4 * i + 1] = preview_depth_[4 * i + 2] = g;
    // Segmentation: a stable colour per class.
    const std::uint32_t id = segmentation[i];
    const std::uint32_t hash = id == 0 ? 0 : (id * 2654435761u);
    preview_segmentation_[4 * i] = id == 0 ? 0 : static_cast<std::uint8_t>(64 + (hash >> 24) % 192);
    preview_segmentation_[4 * i + 1] = id == 0 ? 0 : static_cast<std::uint8_t>(64 + (hash >> 16) % 192);
    preview_segmentation_[4 * i + 2] = id == 0 ? 0 : static_cast<std::uint8_t>(64 + (hash >> 8) % 192);
  }
  return core::Ok();
}

core::Status Editor::RenderViewport(std::uint32_t width, std::uint32_t height) {
  if (!sim_ || !renderer_) return core::Fail("no scenario is open");
  snapshot_.num_cameras = 1;
  sim_->WriteSnapshot(&snapshot_);
  snapshot_.camera_intrinsics[0] = camera_.Intrinsics(width, height);
  core::PoseToArray(camera_.Pose(), snapshot_.camera_poses.data());
  PF_TRY(renderer_->Render(snapshot_));
  const auto colour = renderer_->colour(0);
  viewport_pixels_.assign(colour.begin(), colour.end());
  const auto ids = renderer_->instance_ids(0);
  const auto depth = renderer_->depth(0);
  // Background (nothing drawn): a dark grey, opaque.
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::uint8_t* px = &viewport_pixels_[4 * i];
    if (depth[i] <= 0.0f) {
      px[0] = 38;
      px[1] = 40;
      px[2] = 46;
    }
    px[3] = 255;
  }
  // A ground grid every 10 cm (1 m lines brighter), drawn where nothing nearer covers it.
  const core::Pose X_CW = camera_.Pose().inverse();
  const core::CameraIntrinsics K = snapshot_.camera_intrinsics[0];
  const core::Vec3 eye = camera_.Pose().translation();
  for (std::uint32_t y = 0; y < height; ++y) {
    for (std::uint32_t x = 0; x < width; ++x) {
      // The ray through the pixel, met with the plane z = 0.
      const core::Vec3 d_C((x + 0.5 - K.cx) / K.fx, (y + 0.5 - K.cy) / K.fy, 1.0);
      const core::Vec3 d_W = X_CW.rotation().transpose() * d_C;
      if (d_W.z() >= -1e-9) continue;
      const double t = -eye.z() / d_W.z();
      const core::Vec3 p = eye + t * d_W;
      if (std::abs(p.x()) > 3.0 || std::abs(p.y()) > 3.0) continue;
      const double z_cam = t;  // d_C has z = 1: t is the z-depth
      const std::size_t i = static_cast<std::size_t>(y) * width + x;
      if (depth[i] > 0.0f && depth[i] < z_cam - 1e-3) continue;
      const double pixel_m = z_cam / K.fy;  // metres per pixel there
      const auto near_line = [&](double v, double spacing) {
        const double r = std::abs(v / spacing - std::round(v / spacing)) * spacing;
        return r < 0.6 * pixel_m;
      };
      const bool major = near_line(p.x(), 1.0) || near_line(p.y(), 1.0);
      const bool minor = near_line(p.x(), 0.1) || near_line(p.y(), 0.1);
      if (!major && !minor) continue;
      std::uint8_t* px = &viewport_pixels_[4 * i];
      const int shade = major ? 150 : 95;
      for (int c = 0; c < 3; ++c) px[c] = static_cast<std::uint8_t>((px[c] + shade) / 2);
    }
  }
  DrawGizmo(width, height);
  // The selection: an orange outline around every pixel of its bodies.
  if (!selected_.empty()) {
    std::vector<std::uint8_t> mine(ids.size(), 0);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const int owner = ids[i] == 0 ? -1 : BodyOwner(static_cast<int>(ids[i]) - 1);
      mine[i] = owner >= 0 && owners_[static_cast<std::size_t>(owner)] == selected_;
    }
    for (std::uint32_t y = 0; y < height; ++y)
      for (std::uint32_t x = 0; x < width; ++x) {
        const std::size_t i = static_cast<std::size_t>(y) * width + x;
        if (!mine[i]) continue;
        const bool edge = x == 0 || y == 0 || x + 1 == width || y + 1 == height || !mine[i - 1] || !mine[i + 1] ||
                          !mine[i - width] || !mine[i + width];
        if (!edge) continue;
        std::uint8_t* px = &viewport_pixels_[4 * i];
        px[0] = 255;
        px[1] = 150;
        px[2] = 20;
      }
  }
  return core::Ok();
}

void Editor::FrameSelection() {
  if (selected_.empty() || !model_) return;
  for (std::size_t b = 0; b < owners_.size(); ++b) {
    if (owners_[b] != selected_ || b * core::kPoseSize >= snapshot_.body_poses.size()) continue;
    const double* p = &snapshot_.body_poses[b * core::kPoseSize];
    camera_.target = core::Vec3(p[0], p[1], p[2]);
    camera_.distance = model_->bodies()[b].object >= 0 ? 0.6 : 1.6;
    return;
  }
}

int Editor::BodyOwner(int body) const {
  return body >= 0 && static_cast<std::size_t>(body) < owners_.size() && !owners_[static_cast<std::size_t>(body)].empty()
             ? body
             : -1;
}

std::string Editor::NameAt(std::uint32_t x, std::uint32_t y) const {
  if (!renderer_ || renderer_->num_views() == 0 || x >= renderer_->width() || y >= renderer_->height()) return "";
  const std::uint32_t id = renderer_->instance_ids(0)[static_cast<std::size_t>(y) * renderer_->width() + x];
  // Instance ids are body index + 1 (0 = background).
  const int owner = id == 0 ? -1 : BodyOwner(static_cast<int>(id) - 1);
  return owner < 0 ? "" : owners_[static_cast<std::size_t>(owner)];
}

std::optional<core::Vec2> Editor::Project(const std::string& name) const {
  if (!sim_ || !renderer_ || renderer_->num_views() == 0) return std::nullopt;
  for (std::size_t b = 0; b < owners_.size(); ++b) {
    if (owners_[b] != name) continue;
    const double* p = &snapshot_.body_poses[b * core::kPoseSize];
    const core::Vec3 p_W(p[0], p[1], p[2]);
    const core::Vec3 p_C = camera_.Pose().inverse() * p_W;
    if (p_C.z() <= 0.0) return std::nullopt;
    return render::ProjectToPixel(snapshot_.camera_intrinsics[0], p_C);
  }
  return std::nullopt;
}

}  // namespace pf::editor

namespace pf::editor {
namespace {

// Distance from p to the segment ab, pixels.
double SegmentDistance(const core::Vec2& p, const core::Vec2& a, const core::Vec2& b) {
  const core::Vec2 ab = b - a;
  const double t = ab.squaredNorm() > 0 ? std::clamp((p - a).dot(ab) / ab.squaredNorm(), 0.0, 1.0) : 0.0;
  return (a + t * ab - p).norm();
}

// A 2-pixel line into an RGBA image.
void Line(std::vector<std::uint8_t>& rgba, std::uint32_t w, std::uint32_t h, const core::Vec2& a, const core::Vec2& b,
          const std::uint8_t colour[3]) {
  const int steps = static_cast<int>(std::ceil((b - a).norm())) + 1;
  for (int i = 0; i <= steps && steps < 100000; ++i) {
    const core::Vec2 p = a + (b - a) * (static_cast<double>(i) / steps);
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx) {
        const int x = static_cast<int>(p.x()) + dx, y = static_cast<int>(p.y()) + dy;
        if (x < 0 || y < 0 || x >= static_cast<int>(w) || y >= static_cast<int>(h)) continue;
        std::uint8_t* px = &rgba[(static_cast<std::size_t>(y) * w + static_cast<std::size_t>(x)) * 4];
        px[0] = colour[0];
        px[1] = colour[1];
        px[2] = colour[2];
      }
  }
}

}  // namespace

std::optional<core::Pose> Editor::ObjectPose(const std::string& name) const {
  if (!model_) return std::nullopt;
  for (std::size_t b = 0; b < owners_.size(); ++b) {
    if (owners_[b] != name || model_->bodies()[b].object < 0) continue;
    const double* p = &snapshot_.body_poses[b * core::kPoseSize];
    return core::PoseFromArray(p);
  }
  return std::nullopt;
}

void Editor::DrawGizmo(std::uint32_t width, std::uint32_t height) {
  gizmo_ = false;
  if (selected_.empty()) return;
  const std::optional<core::Pose> pose = dragging() ? std::optional<core::Pose>(pending_pose_) : ObjectPose(selected_);
  if (!pose) return;  // robots have no gizmo
  const core::CameraIntrinsics K = snapshot_.camera_intrinsics[0];
  const core::Pose X_CW = camera_.Pose().inverse();
  const core::Vec3 o = pose->translation();
  const core::Vec3 o_C = X_CW * o;
  if (o_C.z() <= K.near) return;
  gizmo_length_ = 70.0 * o_C.z() / K.fy;  // about 70 pixels long
  const auto project = [&](const core::Vec3& p_W) { return render::ProjectToPixel(K, X_CW * p_W); };
  gizmo_origin_ = project(o);
  static const std::uint8_t kColours[4][3] = {{230, 60, 60}, {60, 210, 60}, {70, 110, 240}, {240, 200, 40}};
  for (int a = 0; a < 3; ++a) {
    gizmo_tips_[a] = project(o + gizmo_length_ * core::Vec3::Unit(a));
    Line(viewport_pixels_, width, height, gizmo_origin_, gizmo_tips_[a], kColours[a]);
  }
  // The placement regions that randomize this object: boxes in cyan.
  for (int p : SelectedPlacements()) {
    const auto& region = doc_->scenario().randomization.placements[static_cast<std::size_t>(p)].region;
    static const std::uint8_t kCyan[3] = {60, 220, 230};
    const core::Vec3 lo = region.min, hi = region.max.cwiseMax(region.min + core::Vec3(0, 0, 0.002));
    auto corner = [&](int i) {
      return core::Vec3(i & 1 ? hi.x() : lo.x(), i & 2 ? hi.y() : lo.y(), i & 4 ? hi.z() : lo.z());
    };
    for (int i = 0; i < 8; ++i)
      for (int bit : {1, 2, 4}) {
        if (i & bit) continue;
        const core::Vec3 a = X_CW * corner(i), b = X_CW * corner(i | bit);
        if (a.z() <= K.near || b.z() <= K.near) continue;
        Line(viewport_pixels_, width, height, render::ProjectToPixel(K, a), render::ProjectToPixel(K, b), kCyan);
      }
  }
  gizmo_ring_.clear();
  for (int i = 0; i <= 48; ++i) {
    const double t = 2.0 * 3.14159265358979323846 * i / 48;
    gizmo_ring_.push_back(project(o + 0.75 * gizmo_length_ * core::Vec3(std::cos(t), std::sin(t), 0.0)));
  }
  for (std::size_t i = 0; i + 1 < gizmo_ring_.size(); ++i)
    Line(viewport_pixels_, width, height, gizmo_ring_[i], gizmo_ring_[i + 1], kColours[3]);
  gizmo_ = true;
}

Editor::Handle Editor::HandleAt(double x, double y) const {
  if (!gizmo_) return Handle::kNone;
  const core::Vec2 p(x, y);
  Handle best = Handle::kNone;
  double best_distance = 6.0;
  for (int a = 0; a < 3; ++a) {
    const double d = SegmentDistance(p, gizmo_origin_ + 0.15 * (gizmo_tips_[a] - gizmo_origin_), gizmo_tips_[a]);
    if (d < best_distance) {
      best_distance = d;
      best = static_cast<Handle>(a + 1);
    }
  }
  for (std::size_t i = 0; i + 1 < gizmo_ring_.size(); ++i) {
    const double d = SegmentDistance(p, gizmo_ring_[i], gizmo_ring_[i + 1]);
    if (d < best_distance) {
      best_distance = d;
      best = Handle::kRotate;
    }
  }
  return best;
}

std::optional<core::Vec2> Editor::HandlePoint(Handle handle) const {
  if (!gizmo_ || handle == Handle::kNone) return std::nullopt;
  if (handle == Handle::kRotate) return gizmo_ring_[gizmo_ring_.size() / 8];  // 45 degrees round
  const core::Vec2 tip = gizmo_tips_[static_cast<int>(handle) - 1];
  return gizmo_origin_ + 0.8 * (tip - gizmo_origin_);
}

void Editor::BeginDrag(Handle handle, double x, double y) {
  const std::optional<core::Pose> pose = ObjectPose(selected_);
  if (handle == Handle::kNone || !pose) return;
  drag_ = handle;
  drag_start_ = core::Vec2(x, y);
  drag_pose_ = *pose;
  pending_pose_ = *pose;
}

void Editor::Drag(double x, double y) {
  if (!dragging() || !sim_) return;
  const core::Vec2 delta = core::Vec2(x, y) - drag_start_;
  if (drag_ == Handle::kRotate) {
    const core::Vec2 a = drag_start_ - gizmo_origin_, b = core::Vec2(x, y) - gizmo_origin_;
    // Image y points down: a counter-clockwise turn on screen is a negative angle there.
    const double angle = -(std::atan2(b.y(), b.x()) - std::atan2(a.y(), a.x()));
    // Seen from above (the usual view), screen angles and world yaw turn the same way.
    pending_pose_ = drag_pose_;
    pending_pose_.linear() = Eigen::AngleAxisd(angle, core::Vec3::UnitZ()).toRotationMatrix() * drag_pose_.linear();
  } else {
    const int axis = static_cast<int>(drag_) - 1;
    const core::Vec2 along = gizmo_tips_[axis] - gizmo_origin_;
    if (along.squaredNorm() < 1.0) return;  // the axis points at the camera
    const double t = delta.dot(along) / along.squaredNorm() * gizmo_length_;
    pending_pose_ = drag_pose_;
    pending_pose_.translation() += t * core::Vec3::Unit(axis);
  }
  // Preview: the object where the drag has taken it, at rest.
  for (std::size_t o = 0; o < model_->spec().objects.size(); ++o) {
    if (model_->spec().objects[o].name != selected_) continue;
    std::vector<double> state(static_cast<std::size_t>(sim_->StateSize(sim::kStateAll)));
    sim_->GetState(0, sim::kStateAll, state);
    sim_->SetObjectPoseInState(state, static_cast<int>(o), pending_pose_);
    sim_->SetState(0, sim::kStateAll, state);
  }
}

core::Status Editor::EndDrag() {
  if (!dragging()) return core::Ok();
  drag_ = Handle::kNone;
  return SetPose(pending_pose_);
}

}  // namespace pf::editor
