// The swapchain path with a real window: GLFW under Xvfb (CTest runs this binary through
// xvfb-run), lavapipe, VK_LAYER_KHRONOS_validation on; any validation message fails.
#include <catch2/catch.hpp>

#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "pf/assets/primitives.h"
#include "pf/core/log.h"
#include "pf/render/batch_renderer.h"
#include "pf/render/camera.h"
#include "pf/render/presenter.h"
#include "support/test_support.h"

namespace pf::render {
namespace {

int g_validation_messages = 0;

// GLFW, a window without a client API (Vulkan draws into it), and a validated Vulkan context
// with the window system's instance extensions and VK_KHR_swapchain.
struct Window {
  GLFWwindow* window = nullptr;
  std::shared_ptr<VulkanContext> context;

  Window(int width, int height) {
    if (std::getenv("DISPLAY") == nullptr) FAIL("no DISPLAY: run this test under xvfb-run (CTest does)");
    static std::string runtime_dir;
    if (std::getenv("XDG_RUNTIME_DIR") == nullptr) {
      runtime_dir = (std::filesystem::temp_directory_path() / "pf_presenter_test_XXXXXX").string();
      REQUIRE(mkdtemp(runtime_dir.data()) != nullptr);
      chmod(runtime_dir.c_str(), 0700);
      setenv("XDG_RUNTIME_DIR", runtime_dir.c_str(), 1);
    }
    core::SetLogSink([](core::LogLevel level, std::string_view line) {
      if (level >= core::LogLevel::kWarning && line.find("vulkan validation") != std::string_view::npos)
        ++g_validation_messages;
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    });
    g_validation_messages = 0;
    glfwSetErrorCallback([](int code, const char* text) { std::fprintf(stderr, "GLFW error %d: %s\n", code, text); });
    REQUIRE(glfwInit() == GLFW_TRUE);
    REQUIRE(glfwVulkanSupported() == GLFW_TRUE);
    glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
    window = glfwCreateWindow(width, height, "parafab presenter test", nullptr, nullptr);
    REQUIRE(window != nullptr);
    RenderConfig config;
    config.validation = true;
    config.swapchain = true;
    std::uint32_t count = 0;
    const char** names = glfwGetRequiredInstanceExtensions(&count);
    REQUIRE(names != nullptr);
    for (std::uint32_t i = 0; i < count; ++i) config.instance_extensions.push_back(names[i]);
    auto made = VulkanContext::Create(config);
    if (!made) FAIL(made.error().ToString());
    context = *made;
    REQUIRE(context->validation_enabled());
  }
  VkSurfaceKHR Surface() const {
    VkSurfaceKHR surface = VK_NULL_HANDLE;
    REQUIRE(glfwCreateWindowSurface(Handles(*context).instance, window, nullptr, &surface) == VK_SUCCESS);
    return surface;
  }
  ~Window() {
    context.reset();
    if (window) glfwDestroyWindow(window);
    glfwTerminate();
  }
};

// A rendered view to show: a sphere over a plate, 120x90.
struct View {
  std::vector<assets::MeshData> meshes;
  core::RenderSnapshot snapshot;
  View() {
    meshes.push_back(assets::MakeSphereMesh(0.1, 32));
    meshes.push_back(assets::MakeBoxMesh(core::Vec3(0.6, 0.4, 0.02)));
    snapshot.instances.resize(2);
    snapshot.instances[0].mesh.value = 0;
    snapshot.instances[0].body = 0;
    snapshot.instances[1].mesh.value = 1;
    snapshot.instances[1].body = 1;
    snapshot.Resize(1, 2, 1);
    core::PoseToArray(core::MakePose(core::Vec3(0, 0, 0.1)), &snapshot.body_poses[0]);
    core::PoseToArray(core::MakePose(core::Vec3(0, 0, -0.01)), &snapshot.body_poses[7]);
    snapshot.segmentation_ids = {1, 2};
    snapshot.instance_visible = {1, 1};
    core::CameraIntrinsics K;
    K.width = 120;
    K.height = 90;
    K.fx = K.fy = 100.0;
    K.cx = 59.5;
    K.cy = 44.5;
    K.near = 0.05;
    K.far = 5.0;
    snapshot.camera_intrinsics[0] = K;
    core::PoseToArray(LookAt(core::Vec3(0.6, -0.5, 0.5), core::Vec3(0, 0, 0.05)), &snapshot.camera_poses[0]);
  }
  std::vector<RenderMeshInput> Inputs() const {
    return {{meshes[0], core::Vec4(0.9, 0.3, 0.2, 1.0)}, {meshes[1], core::Vec4(0.3, 0.5, 0.8, 1.0)}};
  }
};

// Pixel (x, y) of an RGBA8 image of width w.
const std::uint8_t* Pixel(std::span<const std::uint8_t> rgba, std::uint32_t w, std::uint32_t x, std::uint32_t y) {
  return rgba.data() + (static_cast<std::size_t>(y) * w + x) * 4;
}

TEST_CASE("presenter: a rendered view, the clear colour and an overlay reach the window; resizing remakes the swapchain",
          "[render][presenter]") {
  Window w(320, 240);
  {
    const std::int64_t before = [] {
      std::int64_t n = 0;
      for (const auto& c : LiveVulkanObjects()) n += c.live;
      return n;
    }();
    View view;
    auto renderer = BatchRenderer::Create(w.context, view.Inputs());
    if (!renderer) FAIL(renderer.error().ToString());
    REQUIRE((*renderer)->Render(view.snapshot));
    const auto colour = (*renderer)->colour(0);

    Presenter::Config config;
    config.clear = {0.0f, 0.0f, 1.0f, 1.0f};
    int fb_w = 0, fb_h = 0;
    glfwGetFramebufferSize(w.window, &fb_w, &fb_h);
    auto presenter = Presenter::Create(w.context, w.Surface(), static_cast<std::uint32_t>(fb_w),
                                       static_cast<std::uint32_t>(fb_h), config);
    if (!presenter) FAIL(presenter.error().ToString());
    Presenter& p = **presenter;
    REQUIRE(p.width() == 320);
    REQUIRE(p.height() == 240);
    REQUIRE(p.render_pass() != VK_NULL_HANDLE);
    REQUIRE(p.image_count() >= 2);

    // The view at (10, 20), a second copy half outside the window (clipped), and an overlay
    // that clears a rectangle inside the render pass (as a UI would draw).
    const Presenter::Image images[] = {{colour, 120, 90, 10, 20}, {colour, 120, 90, 260, 200}};
    bool overlay_ran = false;
    auto overlay = [&](const PresentOverlay& o) {
      overlay_ran = true;
      CHECK(o.extent.width == 320);
      VkClearAttachment clear{};
      clear.aspectMask = VK_IMAGE_ASPECT_COLOR_BIT;
      clear.colorAttachment = 0;
      clear.clearValue.color.float32[0] = 0.0f;
      clear.clearValue.color.float32[1] = 1.0f;
      clear.clearValue.color.float32[2] = 0.0f;
      clear.clearValue.color.float32[3] = 1.0f;
      VkClearRect rect{};
      rect.rect = {{200, 10}, {40, 30}};
      rect.layerCount = 1;
      vkCmdClearAttachments(o.cmd, 1, &clear, 1, &rect);
    };
    for (int frame = 0; frame < 3; ++frame) {
      glfwPollEvents();
      auto status = p.Present(images, overlay, /*capture=*/frame == 2);
      if (!status) FAIL(status.error().ToString());
    }
    REQUIRE(overlay_ran);
    REQUIRE(p.captured_width() == 320);
    REQUIRE(p.captured_height() == 240);
    const auto shot = p.captured();
    // The view's pixels arrive unchanged, wherever the swapchain's byte order.
    int same = 0;
    for (std::uint32_t y = 0; y < 90; ++y)
      for (std::uint32_t x = 0; x < 120; ++x) {
        const std::uint8_t* a = Pixel(shot, 320, 10 + x, 20 + y);
        const std::uint8_t* b = Pixel(colour, 120, x, y);
        same += a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
      }
    CHECK(same == 120 * 90);
    // The clipped copy: its top-left corner is at (260, 200).
    CHECK(std::equal(Pixel(shot, 320, 260, 200), Pixel(shot, 320, 260, 200) + 3, Pixel(colour, 120, 0, 0)));
    // Clear colour elsewhere, the overlay's rectangle on top.
    const std::uint8_t* background = Pixel(shot, 320, 300, 100);
    CHECK((background[0] == 0 && background[1] == 0 && background[2] == 255));
    const std::uint8_t* overlay_pixel = Pixel(shot, 320, 220, 25);
    CHECK((overlay_pixel[0] == 0 && overlay_pixel[1] == 255 && overlay_pixel[2] == 0));

    // A bigger window: the next frame has the new size.
    glfwSetWindowSize(w.window, 400, 300);
    for (int i = 0; i < 50; ++i) {
      glfwPollEvents();
      glfwGetFramebufferSize(w.window, &fb_w, &fb_h);
      if (fb_w == 400) break;
      glfwWaitEventsTimeout(0.02);
    }
    REQUIRE(fb_w == 400);
    p.Resize(static_cast<std::uint32_t>(fb_w), static_cast<std::uint32_t>(fb_h));
    REQUIRE(p.Present(images, {}, true));
    CHECK(p.width() == 400);
    CHECK(p.height() == 300);
    CHECK(p.captured_width() == 400);
    const std::uint8_t* corner = Pixel(p.captured(), 400, 399, 299);
    CHECK((corner[0] == 0 && corner[1] == 0 && corner[2] == 255));
    // Wrong input is an error, not a crash.
    const Presenter::Image short_image[] = {{std::span(colour).first(16), 120, 90, 0, 0}};
    CHECK_FALSE(p.Present(short_image));

    presenter->reset();
    renderer->reset();
    std::int64_t after = 0;
    for (const auto& c : LiveVulkanObjects()) after += c.live;
    CHECK(after == before);
  }
  w.context.reset();
  CHECK(g_validation_messages == 0);
}

TEST_CASE("presenter: a context made without swapchain support is refused, and the surface is released",
          "[render][presenter]") {
  Window w(64, 48);
  RenderConfig config;  // the window system's instance extensions, no VK_KHR_swapchain
  config.validation = true;
  std::uint32_t count = 0;
  const char** names = glfwGetRequiredInstanceExtensions(&count);
  for (std::uint32_t i = 0; i < count; ++i) config.instance_extensions.push_back(names[i]);
  auto context = VulkanContext::Create(config);
  if (!context) FAIL(context.error().ToString());
  VkSurfaceKHR surface = VK_NULL_HANDLE;
  REQUIRE(glfwCreateWindowSurface(Handles(**context).instance, w.window, nullptr, &surface) == VK_SUCCESS);
  auto refused = Presenter::Create(*context, surface, 64, 48);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("RenderConfig::swapchain"));
  auto no_surface = Presenter::Create(w.context, VK_NULL_HANDLE, 64, 48);
  REQUIRE_FALSE(no_surface);
  CHECK_THAT(no_surface.error().message, Catch::Contains("surface"));
  // A surface still alive here would be reported by the validation layer.
  context->reset();
  w.context.reset();
  CHECK(g_validation_messages == 0);
}

}  // namespace
}  // namespace pf::render
