// The swapchain path: shows rendered images in a window. For windowed programs (the
// editor); the headless renderer never needs it, and render/ knows nothing of window
// systems: the caller makes the window and its VkSurfaceKHR (e.g. with GLFW) from the
// context's instance, and hands the surface over.
//
// This header exposes Vulkan types (unlike the headless ones): a program that draws its own
// user interface into the presented image (Dear ImGui's Vulkan backend) needs the device,
// queue and render pass.
#pragma once

#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "pf/core/result.h"
#include "pf/render/vulkan_context.h"

namespace pf::render {

// The context's Vulkan handles, for code that records its own commands (a UI backend).
struct VulkanHandles {
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  std::uint32_t queue_family = 0;
  VkQueue queue = VK_NULL_HANDLE;  // the one queue every part of render/ submits to
};
VulkanHandles Handles(const VulkanContext& context);

// What an overlay draws with: it records into `cmd`, inside a render pass on the frame's
// swapchain image (`render_pass`, one colour attachment, contents kept).
struct PresentOverlay {
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  VkRenderPass render_pass = VK_NULL_HANDLE;
  VkExtent2D extent{};
};

class Presenter {
 public:
  struct Config {
    bool vsync = true;  // FIFO; otherwise mailbox or immediate where the surface has them
    std::array<float, 4> clear{0.11f, 0.11f, 0.13f, 1.0f};  // background, RGBA in [0, 1]
  };

  // An RGBA8 image ([height × width × 4], e.g. BatchRenderer::colour(view)) placed with its
  // top-left corner at (x, y) in the window, clipped to it; no scaling.
  struct Image {
    std::span<const std::uint8_t> rgba;
    std::uint32_t width = 0, height = 0;
    std::int32_t x = 0, y = 0;
  };

  // Takes ownership of `surface` (destroyed with the presenter, which must go before the
  // context). `width` × `height`: the window's framebuffer size, used where the surface
  // leaves the size to the program. Fails when the context was made without
  // RenderConfig::swapchain or its queue cannot present to the surface.
  static core::Result<std::unique_ptr<Presenter>> Create(std::shared_ptr<VulkanContext> context, VkSurfaceKHR surface,
                                                         std::uint32_t width, std::uint32_t height, Config config);
  static core::Result<std::unique_ptr<Presenter>> Create(std::shared_ptr<VulkanContext> context, VkSurfaceKHR surface,
                                                         std::uint32_t width, std::uint32_t height) {
    return Create(std::move(context), surface, width, height, Config{});
  }
  ~Presenter();
  Presenter(const Presenter&) = delete;
  Presenter& operator=(const Presenter&) = delete;

  // One frame: waits for the previous one, clears the window, copies `images` in, lets
  // `overlay` draw on top, and presents. With `capture`, the finished frame is also read
  // back (captured()), after this call returns. A window of size zero (minimized) presents
  // nothing; a changed size (Resize, or the surface reporting itself out of date) remakes
  // the swapchain.
  core::Status Present(std::span<const Image> images, const std::function<void(const PresentOverlay&)>& overlay = {},
                       bool capture = false);
  // The window's new framebuffer size; the swapchain is remade at the next Present.
  void Resize(std::uint32_t width, std::uint32_t height);

  std::uint32_t width() const;   // of the swapchain images (0 while minimized)
  std::uint32_t height() const;
  std::uint32_t image_count() const;
  std::uint32_t min_image_count() const;
  VkFormat format() const;
  // The overlay render pass; stays valid while the format does (for ImGui_ImplVulkan_Init).
  VkRenderPass render_pass() const;
  // The last captured frame, RGBA8 [captured_height × captured_width × 4].
  std::span<const std::uint8_t> captured() const;
  std::uint32_t captured_width() const;
  std::uint32_t captured_height() const;

 private:
  struct Impl;
  explicit Presenter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pf::render
