// parafab-editor [SCENARIO] [--script FILE] [--screenshot PNG --frames N] [--exit]
//
// The scenario editor: a GLFW window; the viewport is drawn by render/ (BatchRenderer for
// the scene, Presenter for the window) and the panels by Dear ImGui on top.
//
// --script FILE runs editor commands, one per line, one per frame (blank lines and # comments
// skipped), printing "> COMMAND" and then "ok", "error: ..." or what the command reports:
//   open PATH | save [PATH] | select NAME | set position X Y Z | set rpy ROLL PITCH YAW
//   set mass KG | set friction F | set restitution R | set colour R G B [A]
//   set semantic_class NAME | add_object NAME URDF X Y Z | remove | undo | redo
//   set_region PLACEMENT MIN_X MIN_Y MIN_Z MAX_X MAX_Y MAX_Z
//   play | pause | step N | reset | resample SEED EPISODE | expert on|off | status
//   preview CAMERA | click X Y | click_object NAME | drag x|y|z|rotate DX DY
//   camera YAW PITCH DISTANCE | frame (the camera onto the selection)
//   frames N | screenshot PNG | quit
#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_vulkan.h>
#include <stb_image_write.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "editor.h"
#include "pf/assets/asset_roots.h"
#include "pf/core/log.h"
#include "pf/core/str.h"
#include "pf/render/presenter.h"

namespace pf::editor {
namespace {

namespace fs = std::filesystem;

constexpr float kLeftWidth = 260.0f;
constexpr float kRightWidth = 330.0f;
constexpr float kStatusHeight = 24.0f;

struct Options {
  std::string scenario = "builtin://default";
  std::string script;
  std::string screenshot;
  int frames = 0;
  bool exit = false;
  int width = 1280, height = 800;
  std::vector<std::string> asset_roots;
};

// The asset roots: PARAFAB_ASSET_PATH (colon-separated), --asset-root, and the shared test
// assets when present.
std::vector<fs::path> AssetRoots(const Options& options) {
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("PARAFAB_ASSET_PATH")) {
    std::stringstream s(env);
    for (std::string part; std::getline(s, part, ':');)
      if (!part.empty()) roots.emplace_back(part);
  }
  for (const std::string& r : options.asset_roots) roots.emplace_back(r);
  return roots;
}

// Every .urdf under the roots (the asset browser), at most `limit`.
std::vector<std::string> BrowseUrdfs(const std::vector<fs::path>& roots, std::size_t limit) {
  std::vector<std::string> out;
  for (const fs::path& root : roots) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator() && out.size() < limit; it.increment(ec))
      if (it->path().extension() == ".urdf") out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Roll, pitch, yaw of R = Rz(yaw) Ry(pitch) Rx(roll) (the URDF convention of QuatFromRpy).
core::Vec3 RollPitchYaw(const core::Mat3& R) {
  return core::Vec3(std::atan2(R(2, 1), R(2, 2)), std::asin(std::clamp(-R(2, 0), -1.0, 1.0)), std::atan2(R(1, 0), R(0, 0)));
}

void CheckVk(VkResult r) {
  if (r != VK_SUCCESS) std::fprintf(stderr, "parafab-editor: Vulkan error %d in the user interface\n", static_cast<int>(r));
}

class App {
 public:
  explicit App(Options options) : options_(std::move(options)) {}
  int Run();

 private:
  core::Status Init();
  void Shutdown();
  void Frame(bool capture);
  void DrawUi();
  void ShowError(const core::Error& error);
  std::string RunCommand(const std::string& line);  // "ok", "error: ...", or a report
  void Click(double x, double y);                   // a left click at window coordinates
  void Viewport(float* x, float* y, float* w, float* h) const;

  Options options_;
  GLFWwindow* window_ = nullptr;
  std::shared_ptr<render::VulkanContext> context_;
  std::unique_ptr<assets::AssetLibrary> library_;
  std::unique_ptr<Editor> editor_;
  std::unique_ptr<render::Presenter> presenter_;
  VkDescriptorPool ui_pool_ = VK_NULL_HANDLE;
  bool imgui_ = false;
  std::vector<fs::path> roots_;
  std::vector<std::string> urdfs_;
  std::string error_text_;
  bool error_open_ = false;
  bool close_prompt_ = false;
  bool quit_ = false;
  std::string path_input_;
  bool open_dialog_ = false, save_as_dialog_ = false;
  std::string title_;
  std::uint64_t validation_at_start_ = 0;
};

core::Status App::Init() {
  glfwSetErrorCallback([](int code, const char* text) { std::fprintf(stderr, "parafab-editor: GLFW error %d: %s\n", code, text); });
  if (glfwInit() != GLFW_TRUE) return core::Fail("cannot start GLFW (is DISPLAY set?)");
  if (glfwVulkanSupported() != GLFW_TRUE) return core::Fail("GLFW finds no Vulkan loader");
  glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
  window_ = glfwCreateWindow(options_.width, options_.height, "parafab-editor", nullptr, nullptr);
  if (window_ == nullptr) return core::Fail("cannot open a window");
  render::RenderConfig config;
  config.swapchain = true;
  std::uint32_t count = 0;
  const char** names = glfwGetRequiredInstanceExtensions(&count);
  for (std::uint32_t i = 0; i < count; ++i) config.instance_extensions.push_back(names[i]);
  PF_ASSIGN_OR_RETURN(context_, render::VulkanContext::Create(config));
  VkSurfaceKHR surface = VK_NULL_HANDLE;
  if (glfwCreateWindowSurface(render::Handles(*context_).instance, window_, nullptr, &surface) != VK_SUCCESS)
    return core::Fail("cannot make a Vulkan surface for the window");
  int fb_w = 0, fb_h = 0;
  glfwGetFramebufferSize(window_, &fb_w, &fb_h);
  PF_ASSIGN_OR_RETURN(presenter_, render::Presenter::Create(context_, surface, static_cast<std::uint32_t>(fb_w),
                                                            static_cast<std::uint32_t>(fb_h)));

  // Dear ImGui on the presenter's render pass.
  const render::VulkanHandles h = render::Handles(*context_);
  const VkDescriptorPoolSize sizes[] = {{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 16}};
  VkDescriptorPoolCreateInfo pool{};
  pool.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
  pool.flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT;
  pool.maxSets = 16;
  pool.poolSizeCount = 1;
  pool.pPoolSizes = sizes;
  if (vkCreateDescriptorPool(h.device, &pool, nullptr, &ui_pool_) != VK_SUCCESS)
    return core::Fail("cannot make the user interface's descriptor pool");
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // the layout is the program's, not a file's
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForVulkan(window_, true);
  ImGui_ImplVulkan_InitInfo info{};
  info.Instance = h.instance;
  info.PhysicalDevice = h.physical_device;
  info.Device = h.device;
  info.QueueFamily = h.queue_family;
  info.Queue = h.queue;
  info.DescriptorPool = ui_pool_;
  info.MinImageCount = std::max(2u, presenter_->min_image_count());
  info.ImageCount = std::max(info.MinImageCount, presenter_->image_count());
  info.MSAASamples = VK_SAMPLE_COUNT_1_BIT;
  info.CheckVkResultFn = CheckVk;
  ImGui_ImplVulkan_Init(&info, presenter_->render_pass());
  imgui_ = true;
  {
    // Fonts: uploaded once through a command buffer of their own.
    VkCommandPoolCreateInfo pool_info{};
    pool_info.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    pool_info.queueFamilyIndex = h.queue_family;
    VkCommandPool cmd_pool = VK_NULL_HANDLE;
    if (vkCreateCommandPool(h.device, &pool_info, nullptr, &cmd_pool) != VK_SUCCESS)
      return core::Fail("cannot make a command pool for the fonts");
    VkCommandBufferAllocateInfo alloc{};
    alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    alloc.commandPool = cmd_pool;
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    vkAllocateCommandBuffers(h.device, &alloc, &cmd);
    VkCommandBufferBeginInfo begin{};
    begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    vkBeginCommandBuffer(cmd, &begin);
    ImGui_ImplVulkan_CreateFontsTexture(cmd);
    vkEndCommandBuffer(cmd);
    VkSubmitInfo submit{};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &cmd;
    vkQueueSubmit(h.queue, 1, &submit, VK_NULL_HANDLE);
    vkQueueWaitIdle(h.queue);
    ImGui_ImplVulkan_DestroyFontUploadObjects();
    vkDestroyCommandPool(h.device, cmd_pool, nullptr);
  }

  roots_ = AssetRoots(options_);
  library_ = std::make_unique<assets::AssetLibrary>(assets::AssetResolver(roots_));
  urdfs_ = BrowseUrdfs(roots_, 500);
  editor_ = std::make_unique<Editor>(*library_, context_);
  validation_at_start_ = context_->validation_errors() + context_->validation_warnings();
  if (auto opened = editor_->Open(options_.scenario); !opened) {
    std::printf("error: %s\n", opened.error().ToString().c_str());
    ShowError(opened.error());
    // Usable without a document: File > Open.
  }
  return core::Ok();
}

void App::Shutdown() {
  if (context_) vkDeviceWaitIdle(render::Handles(*context_).device);
  if (imgui_) {
    ImGui_ImplVulkan_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
  }
  if (ui_pool_ != VK_NULL_HANDLE) vkDestroyDescriptorPool(render::Handles(*context_).device, ui_pool_, nullptr);
  editor_.reset();
  presenter_.reset();
  context_.reset();
  if (window_) glfwDestroyWindow(window_);
  glfwTerminate();
}

void App::ShowError(const core::Error& error) {
  error_text_ = error.ToString();
  error_open_ = true;
}

void App::Viewport(float* x, float* y, float* w, float* h) const {
  const float top = ImGui::GetFrameHeight();  // the menu bar
  *x = kLeftWidth;
  *y = top;
  *w = std::max(8.0f, static_cast<float>(presenter_->width()) - kLeftWidth - kRightWidth);
  *h = std::max(8.0f, static_cast<float>(presenter_->height()) - top - kStatusHeight);
}

void App::Click(double x, double y) {
  float vx, vy, vw, vh;
  Viewport(&vx, &vy, &vw, &vh);
  const double lx = x - vx, ly = y - vy;
  if (lx < 0 || ly < 0 || lx >= vw || ly >= vh) return;
  (void)editor_->Select(editor_->NameAt(static_cast<std::uint32_t>(lx), static_cast<std::uint32_t>(ly)));
}

std::string App::RunCommand(const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  auto status_text = [&](const core::Status& s) -> std::string {
    if (s) return "ok";
    ShowError(s.error());
    return "error: " + s.error().ToString();
  };
  auto numbers = [&](int n, std::vector<double>* out) {
    out->assign(static_cast<std::size_t>(n), 0.0);
    for (double& v : *out)
      if (!(in >> v)) return false;
    return true;
  };
  std::vector<double> v;
  if (cmd == "open") {
    std::string path;
    in >> path;
    return status_text(editor_->Open(path));
  }
  if (cmd == "save") {
    std::string path;
    in >> path;
    return status_text(editor_->Save(path.empty() ? std::nullopt : std::optional<fs::path>(path)));
  }
  if (cmd == "select") {
    std::string name;
    in >> name;
    return status_text(editor_->Select(name));
  }
  if (cmd == "set") {
    std::string field;
    in >> field;
    if (!editor_->has_document() || editor_->selected().empty()) return "error: nothing selected";
    auto fields = editor_->document().Object(editor_->selected());
    if (!fields) return status_text(std::unexpected(fields.error()));
    if (field == "position" && numbers(3, &v)) {
      core::Pose pose = fields->pose;
      pose.translation() = core::Vec3(v[0], v[1], v[2]);
      return status_text(editor_->SetPose(pose));
    }
    if (field == "rpy" && numbers(3, &v)) {
      core::Pose pose = core::MakePose(fields->pose.translation(), core::QuatFromRpy(v[0], v[1], v[2]));
      return status_text(editor_->SetPose(pose));
    }
    if (field == "mass" && numbers(1, &v)) return status_text(editor_->SetMass(v[0]));
    if (field == "friction" && numbers(1, &v)) return status_text(editor_->SetFriction(v[0]));
    if (field == "restitution" && numbers(1, &v)) return status_text(editor_->SetRestitution(v[0]));
    if (field == "colour" && numbers(3, &v)) {
      double a = 1.0;
      if (!(in >> a)) a = 1.0;
      return status_text(editor_->SetColour(core::Vec4(v[0], v[1], v[2], a)));
    }
    if (field == "semantic_class") {
      std::string name;
      in >> name;
      return status_text(editor_->SetSemanticClass(name));
    }
    return "error: usage: set position X Y Z | rpy R P Y | mass KG | friction F | restitution R | colour R G B [A] | "
           "semantic_class NAME";
  }
  if (cmd == "add_object") {
    std::string name, urdf;
    in >> name >> urdf;
    if (name.empty() || urdf.empty() || !numbers(3, &v)) return "error: usage: add_object NAME URDF X Y Z";
    return status_text(editor_->AddObject(name, urdf, core::MakePose(core::Vec3(v[0], v[1], v[2]))));
  }
  if (cmd == "remove") return status_text(editor_->RemoveSelected());
  if (cmd == "set_region") {
    int index = -1;
    if (!(in >> index) || !numbers(6, &v)) return "error: usage: set_region PLACEMENT MIN_X MIN_Y MIN_Z MAX_X MAX_Y MAX_Z";
    scenarios::RegionSpec region;
    region.min = core::Vec3(v[0], v[1], v[2]);
    region.max = core::Vec3(v[3], v[4], v[5]);
    return status_text(editor_->SetPlacementRegion(index, region));
  }
  if (cmd == "undo") return editor_->Undo() ? "ok" : "error: nothing to undo";
  if (cmd == "redo") return editor_->Redo() ? "ok" : "error: nothing to redo";
  if (cmd == "play" || cmd == "pause") {
    editor_->Play(cmd == "play");
    return "ok";
  }
  if (cmd == "reset") {
    editor_->ResetSim();
    return "ok";
  }
  if (cmd == "step") {
    int n = 1;
    if (!(in >> n)) n = 1;
    editor_->StepSim(n);
    return core::StrCat("ok: step ", editor_->sim_steps());
  }
  if (cmd == "resample") {
    std::uint64_t seed = 0, episode = 0;
    if (!(in >> seed >> episode)) return "error: usage: resample SEED EPISODE";
    return status_text(editor_->Resample(seed, episode));
  }
  if (cmd == "expert") {
    std::string on;
    in >> on;
    if (on != "on" && on != "off") return "error: usage: expert on|off";
    return status_text(editor_->SetExpert(on == "on"));
  }
  if (cmd == "status") {
    if (!editor_->has_task()) return core::StrCat("step ", editor_->sim_steps(), ", no task");
    const auto& t = editor_->task_status();
    return core::StrCat("step ", editor_->sim_steps(), ", success ", t.success ? "yes" : "no", ", dense reward ",
                        t.dense_reward, ", expert ", editor_->expert_on() ? editor_->expert_phase() : "off",
                        ", instruction: ", editor_->instruction());
  }
  if (cmd == "preview") {
    int camera = 0;
    if (!(in >> camera) || camera < 0 || !editor_->has_document() ||
        camera >= static_cast<int>(editor_->document().scenario().cameras.size()))
      return "error: usage: preview CAMERA (an index of the scenario's cameras)";
    editor_->SetPreviewCamera(camera);
    return "ok";
  }
  if (cmd == "click" && numbers(2, &v)) {
    Click(v[0], v[1]);
    return "selected: " + editor_->selected();
  }
  if (cmd == "click_object") {
    std::string name;
    in >> name;
    const auto at = editor_->Project(name);
    if (!at) return "error: '" + name + "' is not in view";
    float vx, vy, vw, vh;
    Viewport(&vx, &vy, &vw, &vh);
    const double x = vx + (*at)[0], y = vy + (*at)[1];
    Click(x, y);
    return core::StrCat("clicked ", static_cast<int>(std::floor(x)), " ", static_cast<int>(std::floor(y)),
                        ", selected: ", editor_->selected());
  }
  if (cmd == "drag") {
    std::string which;
    in >> which;
    const Editor::Handle handle = which == "x"        ? Editor::Handle::kX
                                  : which == "y"      ? Editor::Handle::kY
                                  : which == "z"      ? Editor::Handle::kZ
                                  : which == "rotate" ? Editor::Handle::kRotate
                                                      : Editor::Handle::kNone;
    if (handle == Editor::Handle::kNone || !numbers(2, &v)) return "error: usage: drag x|y|z|rotate DX DY";
    const auto at = editor_->HandlePoint(handle);
    if (!at) return "error: no gizmo: select an object in view";
    // The same calls as a mouse drag: press on the handle, move, release.
    if (editor_->HandleAt((*at)[0], (*at)[1]) != handle) return "error: the handle is hidden behind another";
    editor_->BeginDrag(handle, (*at)[0], (*at)[1]);
    editor_->Drag((*at)[0] + v[0], (*at)[1] + v[1]);
    return status_text(editor_->EndDrag());
  }
  if (cmd == "frame") {
    editor_->FrameSelection();
    return "ok";
  }
  if (cmd == "camera" && numbers(3, &v)) {
    editor_->camera().yaw = v[0];
    editor_->camera().pitch = v[1];
    editor_->camera().distance = v[2];
    return "ok";
  }
  if (cmd == "quit") {
    quit_ = true;
    return editor_->unsaved() ? "ok: unsaved changes discarded" : "ok";
  }
  return "error: unknown command '" + cmd + "'";
}

void App::DrawUi() {
  ImGuiIO& io = ImGui::GetIO();
  const float W = io.DisplaySize.x, H = io.DisplaySize.y;
  if (ImGui::BeginMainMenuBar()) {
    if (ImGui::BeginMenu("File")) {
      if (ImGui::MenuItem("Open...", "Ctrl+O")) {
        open_dialog_ = true;
        path_input_ = editor_->has_document() ? editor_->document().source().string() : "";
      }
      if (ImGui::MenuItem("Save", "Ctrl+S", false, editor_->has_document()))
        if (auto s = editor_->Save(); !s) ShowError(s.error());
      if (ImGui::MenuItem("Save As...", "Ctrl+Shift+S", false, editor_->has_document())) {
        save_as_dialog_ = true;
        path_input_ = editor_->document().source().string();
      }
      if (ImGui::MenuItem("Quit")) glfwSetWindowShouldClose(window_, GLFW_TRUE);
      ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("Edit")) {
      if (ImGui::MenuItem("Undo", "Ctrl+Z", false, editor_->can_undo())) editor_->Undo();
      if (ImGui::MenuItem("Redo", "Ctrl+Y", false, editor_->can_redo())) editor_->Redo();
      if (ImGui::MenuItem("Delete object", "Del", false, !editor_->selected().empty()))
        if (auto s = editor_->RemoveSelected(); !s) ShowError(s.error());
      ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("Simulation")) {
      if (ImGui::MenuItem(editor_->playing() ? "Pause" : "Play", "Space")) editor_->Play(!editor_->playing());
      if (ImGui::MenuItem("Step")) editor_->StepSim(1);
      if (ImGui::MenuItem("Reset")) editor_->ResetSim();
      if (ImGui::MenuItem("Run the expert", nullptr, editor_->expert_on(), editor_->has_task()))
        if (auto s = editor_->SetExpert(!editor_->expert_on()); !s) ShowError(s.error());
      if (ImGui::MenuItem("Resample (next episode)", nullptr, false, editor_->has_task()))
        if (auto s = editor_->Resample(editor_->seed(), editor_->episode() + 1); !s) ShowError(s.error());
      ImGui::EndMenu();
    }
    ImGui::EndMainMenuBar();
  }
  const float top = ImGui::GetFrameHeight();
  const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse;

  // Scene tree.
  ImGui::SetNextWindowPos(ImVec2(0, top), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(kLeftWidth, H - top - kStatusHeight), ImGuiCond_Always);
  ImGui::Begin("Scene", nullptr, fixed);
  if (editor_->has_document()) {
    const auto& doc = editor_->document();
    auto item = [&](const std::string& name) {
      if (ImGui::Selectable(name.c_str(), editor_->selected() == name)) (void)editor_->Select(name);
    };
    if (ImGui::TreeNodeEx("Robots", ImGuiTreeNodeFlags_DefaultOpen)) {
      for (const std::string& name : doc.RobotNames()) item(name);
      ImGui::TreePop();
    }
    if (ImGui::TreeNodeEx("Objects", ImGuiTreeNodeFlags_DefaultOpen)) {
      for (const std::string& name : doc.ObjectNames()) item(name);
      ImGui::TreePop();
    }
    if (ImGui::TreeNodeEx("Cameras", ImGuiTreeNodeFlags_DefaultOpen)) {
      for (const auto& c : doc.scenario().cameras) ImGui::BulletText("%s (%ux%u)", c.name.c_str(), c.intrinsics.width, c.intrinsics.height);
      ImGui::TreePop();
    }
    if (ImGui::TreeNodeEx("Lights", ImGuiTreeNodeFlags_DefaultOpen)) {
      ImGui::BulletText(doc.scenario().lights.empty() ? "default light" : "directional light");
      ImGui::TreePop();
    }
    ImGui::Separator();
    ImGui::TextUnformatted("Asset browser (URDFs)");
    ImGui::BeginChild("assets", ImVec2(0, 0), true);
    for (const std::string& urdf : urdfs_) {
      const std::string label = fs::path(urdf).filename().string();
      if (ImGui::Selectable(label.c_str())) {
        std::string name = fs::path(urdf).stem().string();
        for (int i = 2; editor_->document().Object(name); ++i) name = core::StrCat(fs::path(urdf).stem().string(), "_", i);
        if (auto s = editor_->AddObject(name, urdf, core::MakePose(editor_->camera().target)); !s) ShowError(s.error());
      }
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", urdf.c_str());
    }
    ImGui::EndChild();
  }
  ImGui::End();

  // Inspector.
  ImGui::SetNextWindowPos(ImVec2(W - kRightWidth, top), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(kRightWidth, H - top - kStatusHeight), ImGuiCond_Always);
  ImGui::Begin("Inspector", nullptr, fixed);
  if (editor_->has_document() && !editor_->selected().empty()) {
    ImGui::Text("%s", editor_->selected().c_str());
    auto fields = editor_->document().Object(editor_->selected());
    if (!fields) {
      ImGui::TextWrapped("A robot: its joints and gains are edited in the scenario file.");
    } else {
      ImGui::Text("shape: %s %s", fields->shape.c_str(), fields->urdf.c_str());
      const core::Vec3 p = fields->pose.translation();
      float position[3] = {static_cast<float>(p.x()), static_cast<float>(p.y()), static_cast<float>(p.z())};
      ImGui::DragFloat3("position (m)", position, 0.005f);
      if (ImGui::IsItemDeactivatedAfterEdit()) {
        core::Pose pose = fields->pose;
        pose.translation() = core::Vec3(position[0], position[1], position[2]);
        if (auto s = editor_->SetPose(pose); !s) ShowError(s.error());
      }
      const core::Vec3 rpy = RollPitchYaw(fields->pose.rotation());
      float angles[3] = {static_cast<float>(rpy.x()), static_cast<float>(rpy.y()), static_cast<float>(rpy.z())};
      ImGui::DragFloat3("rpy (rad)", angles, 0.01f);
      if (ImGui::IsItemDeactivatedAfterEdit())
        if (auto s = editor_->SetPose(core::MakePose(p, core::QuatFromRpy(angles[0], angles[1], angles[2]))); !s)
          ShowError(s.error());
      auto scalar = [&](const char* label, std::optional<double> value, auto set) {
        double v = value.value_or(0.0);
        ImGui::InputDouble(label, &v, 0.0, 0.0, "%.4g");
        if (ImGui::IsItemDeactivatedAfterEdit())
          if (auto s = (editor_.get()->*set)(v); !s) ShowError(s.error());
      };
      scalar("mass (kg)", fields->mass, &Editor::SetMass);
      scalar("friction", fields->friction, &Editor::SetFriction);
      scalar("restitution", fields->restitution, &Editor::SetRestitution);
      const core::Vec4 c = fields->colour.value_or(core::Vec4(0.7, 0.7, 0.7, 1.0));
      float colour[4] = {static_cast<float>(c[0]), static_cast<float>(c[1]), static_cast<float>(c[2]), static_cast<float>(c[3])};
      ImGui::ColorEdit4("colour", colour);
      if (ImGui::IsItemDeactivatedAfterEdit())
        if (auto s = editor_->SetColour(core::Vec4(colour[0], colour[1], colour[2], colour[3])); !s) ShowError(s.error());
      // Randomization that draws this object per episode.
      const auto& randomization = editor_->document().scenario().randomization;
      for (int index : editor_->SelectedPlacements()) {
        scenarios::RegionSpec region = randomization.placements[static_cast<std::size_t>(index)].region;
        ImGui::Text("placement %d (cyan box): origin drawn in", index);
        float lo[3] = {static_cast<float>(region.min.x()), static_cast<float>(region.min.y()), static_cast<float>(region.min.z())};
        float hi[3] = {static_cast<float>(region.max.x()), static_cast<float>(region.max.y()), static_cast<float>(region.max.z())};
        ImGui::PushID(index);
        const bool a = ImGui::DragFloat3("region min", lo, 0.005f), a_done = ImGui::IsItemDeactivatedAfterEdit();
        const bool b = ImGui::DragFloat3("region max", hi, 0.005f), b_done = ImGui::IsItemDeactivatedAfterEdit();
        (void)a;
        (void)b;
        if (a_done || b_done) {
          region.min = core::Vec3(lo[0], lo[1], lo[2]);
          region.max = core::Vec3(hi[0], hi[1], hi[2]);
          if (auto s = editor_->SetPlacementRegion(index, region); !s) ShowError(s.error());
        }
        ImGui::PopID();
      }
      for (const auto& physics : randomization.object_physics) {
        const auto& spec = editor_->document().scenario().model.objects;
        bool applies = false;
        for (int o : physics.objects) applies = applies || spec[static_cast<std::size_t>(o)].name == editor_->selected();
        if (!applies) continue;
        if (physics.mass_scale) ImGui::Text("mass scale drawn in [%.3g, %.3g]", physics.mass_scale->min, physics.mass_scale->max);
        if (physics.friction) ImGui::Text("friction drawn in [%.3g, %.3g]", physics.friction->min, physics.friction->max);
        if (physics.restitution)
          ImGui::Text("restitution drawn in [%.3g, %.3g]", physics.restitution->min, physics.restitution->max);
      }
      char semantic[128];
      std::snprintf(semantic, sizeof semantic, "%s", fields->semantic_class.c_str());
      ImGui::InputText("semantic class", semantic, sizeof semantic);
      if (ImGui::IsItemDeactivatedAfterEdit())
        if (auto s = editor_->SetSemanticClass(semantic); !s) ShowError(s.error());
    }
  } else {
    ImGui::TextWrapped("Select an object in the scene tree or click it in the viewport.");
  }
  if (editor_->has_task()) {
    ImGui::Separator();
    ImGui::TextUnformatted("Task");
    ImGui::TextWrapped("%s", editor_->instruction().c_str());
    int seed_episode[2] = {static_cast<int>(editor_->seed()), static_cast<int>(editor_->episode())};
    ImGui::InputInt2("seed, episode", seed_episode);
    if (ImGui::IsItemDeactivatedAfterEdit())
      if (auto s = editor_->Resample(static_cast<std::uint64_t>(std::max(seed_episode[0], 0)),
                                     static_cast<std::uint64_t>(std::max(seed_episode[1], 0)));
          !s)
        ShowError(s.error());
    if (ImGui::Button("Resample")) (void)editor_->Resample(editor_->seed(), editor_->episode() + 1);
    ImGui::SameLine();
    bool expert = editor_->expert_on();
    if (ImGui::Checkbox("expert drives", &expert))
      if (auto s = editor_->SetExpert(expert); !s) ShowError(s.error());
    ImGui::Text("showing: %s", editor_->showing_episode() ? "an episode" : "the scene as authored");
    const bool success = editor_->task_status().success;
    ImGui::TextColored(success ? ImVec4(0.3f, 0.9f, 0.3f, 1.0f) : ImVec4(0.9f, 0.5f, 0.3f, 1.0f), "success: %s",
                       success ? "yes" : "no");
    ImGui::Text("dense reward %.3f, phase %s", editor_->task_status().dense_reward,
                editor_->expert_on() ? editor_->expert_phase().c_str() : "-");
  }
  if (editor_->has_document() && !editor_->document().scenario().cameras.empty()) {
    ImGui::Separator();
    const auto& cameras = editor_->document().scenario().cameras;
    ImGui::TextUnformatted("Camera previews (viewport, bottom left)");
    for (std::size_t c = 0; c < cameras.size(); ++c)
      if (ImGui::RadioButton(cameras[c].name.c_str(), editor_->preview_camera() == static_cast<int>(c)))
        editor_->SetPreviewCamera(static_cast<int>(c));
  }
  ImGui::End();

  // Status bar.
  ImGui::SetNextWindowPos(ImVec2(0, H - kStatusHeight), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(W, kStatusHeight), ImGuiCond_Always);
  ImGui::Begin("status", nullptr, fixed | ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoScrollbar);
  ImGui::Text("%s | sim %s, step %llu%s | selected: %s", editor_->unsaved() ? "unsaved changes" : "saved",
              editor_->playing() ? "playing" : "paused", static_cast<unsigned long long>(editor_->sim_steps()),
              !editor_->showing_episode() ? "" : editor_->task_status().success ? " | task: success" : " | task: not yet",
              editor_->selected().empty() ? "-" : editor_->selected().c_str());
  ImGui::End();

  // Dialogs.
  auto path_dialog = [&](const char* id, bool* open, auto action) {
    if (*open) ImGui::OpenPopup(id);
    if (ImGui::BeginPopupModal(id, nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
      char buffer[1024];
      std::snprintf(buffer, sizeof buffer, "%s", path_input_.c_str());
      if (ImGui::InputText("path", buffer, sizeof buffer)) path_input_ = buffer;
      if (ImGui::Button("OK")) {
        *open = false;
        ImGui::CloseCurrentPopup();
        if (auto s = action(path_input_); !s) ShowError(s.error());
      }
      ImGui::SameLine();
      if (ImGui::Button("Cancel")) {
        *open = false;
        ImGui::CloseCurrentPopup();
      }
      ImGui::EndPopup();
    }
  };
  path_dialog("Open scenario", &open_dialog_, [&](const std::string& p) { return editor_->Open(p); });
  path_dialog("Save scenario as", &save_as_dialog_, [&](const std::string& p) { return editor_->Save(fs::path(p)); });
  if (error_open_) ImGui::OpenPopup("Error");
  if (ImGui::BeginPopupModal("Error", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted(error_text_.c_str());
    if (ImGui::Button("OK")) {
      error_open_ = false;
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
  if (close_prompt_) ImGui::OpenPopup("Unsaved changes");
  if (ImGui::BeginPopupModal("Unsaved changes", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted("The scenario has unsaved changes.");
    if (ImGui::Button("Save")) {
      close_prompt_ = false;
      ImGui::CloseCurrentPopup();
      if (auto s = editor_->Save(); !s) {
        ShowError(s.error());
      } else {
        quit_ = true;
      }
    }
    ImGui::SameLine();
    if (ImGui::Button("Discard")) quit_ = true;
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) {
      close_prompt_ = false;
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

void App::Frame(bool capture) {
  glfwPollEvents();
  int fb_w = 0, fb_h = 0;
  glfwGetFramebufferSize(window_, &fb_w, &fb_h);
  presenter_->Resize(static_cast<std::uint32_t>(fb_w), static_cast<std::uint32_t>(fb_h));
  ImGui_ImplVulkan_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();

  ImGuiIO& io = ImGui::GetIO();
  float vx, vy, vw, vh;
  Viewport(&vx, &vy, &vw, &vh);
  if (!io.WantCaptureMouse) {
    if (ImGui::IsMouseDown(ImGuiMouseButton_Right)) editor_->camera().Orbit(io.MouseDelta.x, io.MouseDelta.y);
    if (ImGui::IsMouseDown(ImGuiMouseButton_Middle))
      editor_->camera().Pan(io.MouseDelta.x, io.MouseDelta.y, static_cast<std::uint32_t>(vh));
    if (io.MouseWheel != 0.0f) editor_->camera().Zoom(io.MouseWheel);
    if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
      const Editor::Handle handle = editor_->HandleAt(io.MousePos.x - vx, io.MousePos.y - vy);
      if (handle != Editor::Handle::kNone) {
        editor_->BeginDrag(handle, io.MousePos.x - vx, io.MousePos.y - vy);
      } else {
        Click(io.MousePos.x, io.MousePos.y);
      }
    }
  }
  if (editor_->dragging()) {
    if (ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
      editor_->Drag(io.MousePos.x - vx, io.MousePos.y - vy);
    } else if (auto s = editor_->EndDrag(); !s) {
      ShowError(s.error());
    }
  }
  // Shortcuts (while no text field has the keyboard).
  if (!io.WantTextInput) {
    const bool ctrl = io.KeyCtrl;
    if (ctrl && ImGui::IsKeyPressed(GLFW_KEY_S)) {
      if (io.KeyShift) {
        save_as_dialog_ = true;
        path_input_ = editor_->has_document() ? editor_->document().source().string() : "";
      } else if (auto s = editor_->Save(); !s) {
        ShowError(s.error());
      }
    }
    if (ctrl && ImGui::IsKeyPressed(GLFW_KEY_O)) {
      open_dialog_ = true;
      path_input_ = editor_->has_document() ? editor_->document().source().string() : "";
    }
    if (ctrl && ImGui::IsKeyPressed(GLFW_KEY_Z)) io.KeyShift ? (void)editor_->Redo() : (void)editor_->Undo();
    if (ctrl && ImGui::IsKeyPressed(GLFW_KEY_Y)) editor_->Redo();
    if (!ctrl && ImGui::IsKeyPressed(GLFW_KEY_DELETE) && !editor_->selected().empty())
      if (auto s = editor_->RemoveSelected(); !s) ShowError(s.error());
    if (!ctrl && ImGui::IsKeyPressed(GLFW_KEY_SPACE)) editor_->Play(!editor_->playing());
    if (!ctrl && ImGui::IsKeyPressed(GLFW_KEY_F)) editor_->FrameSelection();
    if (!ctrl && ImGui::IsKeyPressed(GLFW_KEY_ESCAPE)) (void)editor_->Select("");
  }
  if (editor_->playing()) editor_->StepSim(1);
  DrawUi();
  ImGui::Render();

  std::vector<render::Presenter::Image> images;
  if (editor_->has_document() && presenter_->width() > 0) {
    if (auto s = editor_->RenderViewport(static_cast<std::uint32_t>(vw), static_cast<std::uint32_t>(vh)); !s) {
      ShowError(s.error());
    } else {
      images.push_back({editor_->viewport_pixels(), static_cast<std::uint32_t>(vw), static_cast<std::uint32_t>(vh),
                        static_cast<std::int32_t>(vx), static_cast<std::int32_t>(vy)});
    }
    // The scenario camera's RGB, depth and segmentation, picture in picture.
    if (auto s = editor_->RenderCameras(); !s) {
      ShowError(s.error());
    } else if (editor_->preview_width() > 0) {
      const std::uint32_t pw = editor_->preview_width(), ph = editor_->preview_height();
      const std::vector<std::uint8_t>* previews[] = {&editor_->preview_rgb(), &editor_->preview_depth(),
                                                     &editor_->preview_segmentation()};
      for (int k = 0; k < 3; ++k)
        images.push_back({*previews[k], pw, ph, static_cast<std::int32_t>(vx) + 8 + k * static_cast<std::int32_t>(pw + 6),
                          static_cast<std::int32_t>(vy + vh) - static_cast<std::int32_t>(ph) - 8});
    }
  }
  const std::uint32_t images_before = presenter_->image_count();
  auto presented = presenter_->Present(
      images, [](const render::PresentOverlay& o) { ImGui_ImplVulkan_RenderDrawData(ImGui::GetDrawData(), o.cmd); },
      capture);
  if (!presented) std::fprintf(stderr, "parafab-editor: %s\n", presented.error().ToString().c_str());
  if (presenter_->image_count() != images_before && presenter_->image_count() > 0)
    ImGui_ImplVulkan_SetMinImageCount(std::max(2u, presenter_->min_image_count()));
  const std::string title = editor_->title();
  if (title != title_) {
    glfwSetWindowTitle(window_, title.c_str());
    title_ = title;
  }
}

int App::Run() {
  if (std::getenv("XDG_RUNTIME_DIR") == nullptr) {
    // The Vulkan loader and Mesa warn without one; a private 0700 directory silences them.
    static std::string dir = (fs::temp_directory_path() / "parafab-editor-XXXXXX").string();
    if (mkdtemp(dir.data()) != nullptr) {
      chmod(dir.c_str(), 0700);
      setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
    }
  }
  if (auto status = Init(); !status) {
    std::fprintf(stderr, "parafab-editor: error: %s\n", status.error().ToString().c_str());
    Shutdown();
    return 1;
  }
  std::deque<std::string> script;
  if (!options_.script.empty()) {
    std::ifstream in(options_.script);
    if (!in) {
      std::fprintf(stderr, "parafab-editor: error: %s: cannot read the script\n", options_.script.c_str());
      Shutdown();
      return 1;
    }
    for (std::string line; std::getline(in, line);) {
      const auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#') continue;
      script.push_back(line.substr(first));
    }
  }
  int frames = 0, wait_frames = 0;
  while (!quit_) {
    if (glfwWindowShouldClose(window_)) {
      if (editor_->unsaved() && options_.script.empty()) {
        close_prompt_ = true;
        glfwSetWindowShouldClose(window_, GLFW_FALSE);
      } else {
        break;
      }
    }
    std::string screenshot;
    if (wait_frames > 0) {
      --wait_frames;
    } else if (!script.empty()) {
      const std::string line = script.front();
      script.pop_front();
      std::printf("> %s\n", line.c_str());
      std::istringstream in(line);
      std::string cmd;
      in >> cmd;
      if (cmd == "screenshot") {
        in >> screenshot;
      } else if (cmd == "frames") {
        in >> wait_frames;
        std::printf("ok\n");
      } else {
        std::printf("%s\n", RunCommand(line).c_str());
      }
      std::fflush(stdout);
    } else if (options_.exit && frames >= options_.frames) {
      break;
    }
    const bool last = options_.exit && script.empty() && wait_frames == 0 && frames + 1 >= options_.frames &&
                      !options_.screenshot.empty();
    Frame(!screenshot.empty() || last);
    ++frames;
    for (const std::string& path : {screenshot, last ? options_.screenshot : std::string()}) {
      if (path.empty()) continue;
      // The window is opaque: whatever alpha the user interface left, the screenshot is too.
      std::vector<std::uint8_t> rgba(presenter_->captured().begin(), presenter_->captured().end());
      for (std::size_t i = 3; i < rgba.size(); i += 4) rgba[i] = 255;
      const bool ok = presenter_->captured_width() > 0 &&
                      stbi_write_png(path.c_str(), static_cast<int>(presenter_->captured_width()),
                                     static_cast<int>(presenter_->captured_height()), 4, rgba.data(),
                                     static_cast<int>(presenter_->captured_width()) * 4) != 0;
      std::printf(ok ? "ok: screenshot %s (%ux%u)\n" : "error: cannot write the screenshot %s\n", path.c_str(),
                  presenter_->captured_width(), presenter_->captured_height());
      std::fflush(stdout);
    }
    if (last) break;
  }
  const std::uint64_t messages = context_->validation_errors() + context_->validation_warnings() - validation_at_start_;
  Shutdown();
  if (messages > 0) {
    std::fprintf(stderr, "parafab-editor: the Vulkan validation layer reported %llu messages\n",
                 static_cast<unsigned long long>(messages));
    return 3;
  }
  return 0;
}

}  // namespace
}  // namespace pf::editor

int main(int argc, char** argv) {
  pf::editor::Options options;
  CLI::App app{"parafab-editor: the scenario editor"};
  app.add_option("scenario", options.scenario, "Scenario file (.pbtxt) or builtin://NAME")->capture_default_str();
  app.add_option("--script", options.script, "Run editor commands from FILE, one per frame (see the source header)");
  app.add_option("--screenshot", options.screenshot, "Write the window to PNG after --frames frames (with --exit)");
  app.add_option("--frames", options.frames, "Frames to draw before --screenshot / --exit")->check(CLI::Range(0, 1000000));
  app.add_flag("--exit", options.exit, "Exit when the script and --frames are done");
  app.add_option("--width", options.width, "Window width")->check(CLI::Range(320, 8192))->capture_default_str();
  app.add_option("--height", options.height, "Window height")->check(CLI::Range(240, 8192))->capture_default_str();
  app.add_option("--asset-root", options.asset_roots, "Extra asset root (repeatable)");
  CLI11_PARSE(app, argc, argv);
  pf::core::SetLogLevel(pf::core::LogLevel::kWarning);
  return pf::editor::App(std::move(options)).Run();
}
