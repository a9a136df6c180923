// parafab-editor: the scenario editor's state and commands, independent of the window so
// that scripted sessions (--script) and the user interface go through the same calls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pf/assets/library.h"
#include "pf/core/math.h"
#include "pf/core/result.h"
#include "pf/core/snapshot.h"
#include "pf/render/batch_renderer.h"
#include "pf/scenarios/document.h"
#include "pf/scenarios/expert.h"
#include "pf/scenarios/task.h"
#include "pf/sim/batch_sim.h"

namespace pf::editor {

// An orbiting viewport camera: looks at `target` from `distance` metres, at `yaw` around
// world z and `pitch` above the horizontal.
struct OrbitCamera {
  core::Vec3 target = core::Vec3(0.45, 0.0, 0.45);
  double distance = 1.9;
  double yaw = -0.75;   // radians
  double pitch = 0.45;  // radians
  double fov_y = 50.0 * 3.14159265358979323846 / 180.0;

  core::Pose Pose() const;  // X_WC, OpenCV axes
  core::CameraIntrinsics Intrinsics(std::uint32_t width, std::uint32_t height) const;
  void Orbit(double dx_px, double dy_px);
  void Pan(double dx_px, double dy_px, std::uint32_t viewport_height);
  void Zoom(double wheel_steps);
};

class Editor {
 public:
  Editor(assets::AssetLibrary& library, std::shared_ptr<render::VulkanContext> context);

  // File. Open keeps the current document when the file is invalid and returns the error
  // (file:line:column). Save without a path writes to the document's file; a built-in
  // scenario has none (Save As).
  core::Status Open(const std::string& path_or_builtin);
  core::Status Save(const std::optional<std::filesystem::path>& path = std::nullopt);
  bool has_document() const { return doc_.has_value(); }
  const scenarios::ScenarioDocument& document() const { return *doc_; }
  bool unsaved() const;
  std::string title() const;

  // Edits (each one undoable). Fail naming the field, changing nothing.
  core::Status Select(const std::string& name);  // object or robot; "" clears
  const std::string& selected() const { return selected_; }
  core::Status SetPose(const core::Pose& pose);
  core::Status SetMass(double kg);
  core::Status SetFriction(double friction);
  core::Status SetRestitution(double restitution);
  core::Status SetColour(const core::Vec4& rgba);
  core::Status SetSemanticClass(const std::string& semantic_class);
  core::Status AddObject(const std::string& name, const std::string& urdf, const core::Pose& pose);
  core::Status RemoveSelected();
  core::Status SetPlacementRegion(int index, const scenarios::RegionSpec& region);
  // Indices of the placements (randomization.placements) that draw the selected object.
  std::vector<int> SelectedPlacements() const;
  bool Undo();
  bool Redo();
  bool can_undo() const { return !undo_.empty(); }
  bool can_redo() const { return !redo_.empty(); }

  // Simulation: the document's scene in one env, as authored (the file's poses) until an
  // episode of the task is asked for: Resample(seed, episode) shows that randomized variant,
  // the expert drives the robot through one (starting episode (seed, episode) when none is
  // shown), and the task's predicate is judged after every step. An edit shows the scene as
  // authored again.
  void Play(bool on) { playing_ = on; }
  bool playing() const { return playing_; }
  void StepSim(int steps);
  void ResetSim();  // back to the episode's start
  std::uint64_t sim_steps() const { return sim_steps_; }
  bool has_task() const { return task_.has_value(); }
  core::Status Resample(std::uint64_t seed, std::uint64_t episode);
  std::uint64_t seed() const { return seed_; }
  std::uint64_t episode() const { return episode_; }
  core::Status SetExpert(bool on);
  bool showing_episode() const { return setup_.has_value(); }
  bool expert_on() const { return expert_on_; }
  // The task's view after the last step (success, rewards), the instruction, the expert's
  // phase.
  const scenarios::TaskStatus& task_status() const { return status_; }
  std::string instruction() const { return setup_ ? setup_->instruction : ""; }
  std::string expert_phase() const;
  // The scenario cameras' views (RGB, depth, segmentation) of the current state, rendered
  // by RenderCameras: [H × W × 4] each, for the camera `camera_previews_camera()`.
  core::Status RenderCameras();
  const std::vector<std::uint8_t>& preview_rgb() const { return preview_rgb_; }
  const std::vector<std::uint8_t>& preview_depth() const { return preview_depth_; }
  const std::vector<std::uint8_t>& preview_segmentation() const { return preview_segmentation_; }
  std::uint32_t preview_width() const { return preview_width_; }
  std::uint32_t preview_height() const { return preview_height_; }
  int preview_camera() const { return preview_camera_; }
  void SetPreviewCamera(int camera) { preview_camera_ = camera; }

  // The viewport: renders the scene from `camera` at width × height; the results stay in
  // renderer() until the next call.
  core::Status RenderViewport(std::uint32_t width, std::uint32_t height);
  OrbitCamera& camera() { return camera_; }
  // Points the camera at the selected object (or robot base), from close enough to fill
  // part of the view.
  void FrameSelection();
  const render::BatchRenderer* renderer() const { return renderer_.get(); }
  // The object or robot drawn at viewport pixel (x, y) of the last render ("" = none).
  std::string NameAt(std::uint32_t x, std::uint32_t y) const;
  // Where an object's or robot's origin projects in the last viewport, when in front.
  std::optional<core::Vec2> Project(const std::string& name) const;
  // The gizmo of the selected object, drawn in the viewport at its origin: translate handles
  // along world x, y, z and a ring that rotates it about world z. A drag previews the move
  // in the simulation and becomes one (undoable) pose edit when it ends.
  enum class Handle { kNone, kX, kY, kZ, kRotate };
  Handle HandleAt(double x, double y) const;  // viewport pixel
  // A point on a handle (viewport pixels), for scripted drags.
  std::optional<core::Vec2> HandlePoint(Handle handle) const;
  void BeginDrag(Handle handle, double x, double y);
  void Drag(double x, double y);
  core::Status EndDrag();
  bool dragging() const { return drag_ != Handle::kNone; }
  // The viewport's colour image with the selection outlined, [H × W × 4].
  const std::vector<std::uint8_t>& viewport_pixels() const { return viewport_pixels_; }

 private:
  core::Status Rebuild();  // sim and renderer from the document
  // Undo and redo: the current document goes onto `to`, the last of `from` becomes current.
  bool Restore(std::vector<scenarios::ScenarioDocument>& from, std::vector<scenarios::ScenarioDocument>& to);
  template <class Fn>
  core::Status Edit(Fn fn);
  int BodyOwner(int body) const;  // index into owner names, -1 = none

  assets::AssetLibrary& library_;
  std::shared_ptr<render::VulkanContext> context_;
  std::optional<scenarios::ScenarioDocument> doc_;
  std::string saved_text_;  // the document's text when last opened or saved
  std::vector<scenarios::ScenarioDocument> undo_, redo_;
  std::string selected_;
  std::shared_ptr<const sim::Model> model_;
  std::unique_ptr<sim::BatchSim> sim_;
  std::unique_ptr<render::BatchRenderer> renderer_;
  std::vector<std::string> owners_;  // per body: its robot's or object's name
  core::RenderSnapshot snapshot_;
  OrbitCamera camera_;
  std::vector<std::uint8_t> viewport_pixels_;
  bool playing_ = false;
  std::uint64_t sim_steps_ = 0;
  // Gizmo: where its parts project in the last viewport, and the drag in progress.
  bool gizmo_ = false;
  core::Vec2 gizmo_origin_ = core::Vec2::Zero();
  core::Vec2 gizmo_tips_[3];
  std::vector<core::Vec2> gizmo_ring_;
  double gizmo_length_ = 0.1;  // metres of each translate handle
  Handle drag_ = Handle::kNone;
  core::Vec2 drag_start_ = core::Vec2::Zero();
  core::Pose drag_pose_ = core::Pose::Identity();     // the object's pose when the drag began
  core::Pose pending_pose_ = core::Pose::Identity();  // where the drag has taken it
  std::optional<core::Pose> ObjectPose(const std::string& name) const;  // in the sim now
  void DrawGizmo(std::uint32_t width, std::uint32_t height);
  // The task (when the scenario has one) and the episode the env runs.
  std::unique_ptr<scenarios::Scenario> task_scenario_;  // what task_ points into
  std::optional<scenarios::TaskContext> task_;
  std::optional<scenarios::EpisodeSetup> setup_;
  std::unique_ptr<scenarios::Expert> expert_;
  bool expert_on_ = false;
  std::uint64_t seed_ = 0, episode_ = 0;
  scenarios::TaskStatus status_;
  // Camera previews.
  std::unique_ptr<render::BatchRenderer> preview_renderer_;
  core::RenderSnapshot preview_snapshot_;
  std::vector<std::uint8_t> preview_rgb_, preview_depth_, preview_segmentation_;
  std::uint32_t preview_width_ = 0, preview_height_ = 0;
  int preview_camera_ = 0;
};

}  // namespace pf::editor
