// VulkanContext: a headless Vulkan instance, one device with one graphics queue and a
// command pool; optionally VK_LAYER_KHRONOS_validation with a messenger that counts (and
// logs) every warning and error it reports. Vulkan types stay out of this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pf/core/result.h"

namespace pf::render {

// True when the environment variable PARAFAB_VK_VALIDATION is "1".
bool ValidationFromEnvironment();

// Automatic level of detail (BatchRenderer): simplified copies of every mesh are built with
// meshoptimizer when the meshes are uploaded, and each frame every (view, instance) draws the
// coarsest level whose geometric error, projected at the instance's nearest depth in that
// view, stays within `pixel_error` pixels. Shadow maps always choose their casters' levels
// this way, per shadow-map texel (they change colours only, never depth or ids).
struct LodConfig {
  // Camera views use the simplified levels; false draws every view at full detail.
  bool enabled = true;
  // Largest screen-space error of a simplified level, in pixels (from meshoptimizer's
  // estimate of the level's geometric error). Silhouettes move by about this much at most,
  // depth by about pixel_error × z / f metres at depth z (more on surfaces seen edge-on).
  double pixel_error = 0.5;
  // Most levels per mesh, the full mesh included.
  std::uint32_t max_levels = 8;
  // Each level aims for this fraction of the triangles of the level before it.
  double reduction = 0.5;
  // Meshes with fewer triangles get no simplified levels, and no level goes below this.
  std::uint32_t min_triangles = 32;
};

struct RenderConfig {
  // Load VK_LAYER_KHRONOS_validation and count its warnings/errors (logged through
  // core::LogWarning/LogError). Default: PARAFAB_VK_VALIDATION=1 in the environment.
  bool validation = ValidationFromEnvironment();
  // Use the first device whose name contains this (case-insensitive); "" picks the best:
  // a discrete GPU, else an integrated one, else any (lavapipe's CPU device included).
  std::string device_name;
  // On a CPU device (lavapipe), raise glibc malloc's mmap and trim thresholds (mallopt, for
  // the whole process, once) so that the driver's large per-frame allocations reuse heap
  // memory instead of faulting in fresh zeroed pages every frame; freed memory then stays
  // with the process. No effect on other devices or without glibc.
  bool tune_malloc_for_cpu_device = true;
  // Windows (the swapchain path, render/presenter.h): instance extensions the window system
  // needs (e.g. glfwGetRequiredInstanceExtensions) and the device's VK_KHR_swapchain. A
  // headless context needs neither; asking for what the driver lacks fails Create.
  std::vector<std::string> instance_extensions;
  bool swapchain = false;

  // BatchRenderer settings (VulkanContext ignores them).
  // Level of detail.
  LodConfig lod;
  // Pixels (views × width × height) per layered render pass, rounded down to whole views,
  // at least one view. 0 = automatic: 65,536 on a CPU device (llvmpipe bins a whole pass
  // before it rasterizes it: small passes stay in cache, and rasterizing one overlaps
  // binning the next), otherwise all views in one pass.
  std::uint64_t pass_pixels = 0;
  // Shadows of the directional light: each env's shadow map is shadow_map_size² texels (an
  // orthographic view along the light fitted to the env's visible instances; 0 = automatic:
  // the views' larger side rounded up to a power of two, 64 to 2048). The maps of one
  // layered pass are drawn just before it, so their memory is bounded by the views per pass
  // (and by shadow_memory_bytes, which lowers it).
  bool shadows = true;
  std::uint32_t shadow_map_size = 0;
  std::uint64_t shadow_memory_bytes = 1ull << 30;
  // Textures are resampled into one array of texture_size² layers (smaller when no texture
  // is as large), with mipmaps.
  std::uint32_t texture_size = 512;
};

struct DeviceInfo {
  std::string name;              // VkPhysicalDeviceProperties::deviceName
  std::string type;              // "discrete", "integrated", "virtual", "cpu" or "other"
  std::uint32_t api_version = 0; // VK_MAKE_API_VERSION encoded
  bool has_graphics_queue = false;
  // Vulkan 1.2 shaderOutputLayer (gl_Layer from the vertex shader), which the
  // BatchRenderer needs to draw every view of a frame in one layered pass.
  bool shader_output_layer = false;
};

// The Vulkan devices on this machine. Fails when there is no Vulkan loader or driver.
core::Result<std::vector<DeviceInfo>> ListDevices();

// Vulkan objects that render/ holds now, process-wide, per kind ("instance", "device",
// "buffer", "image", "device_memory", ...; every kind listed, zeros included): a leak shows
// as a count that grows while the work repeats (parafab bench soak prints them).
struct VulkanObjectCount {
  std::string kind;
  std::int64_t live = 0;
};
std::vector<VulkanObjectCount> LiveVulkanObjects();

class VulkanContext {
 public:
  static core::Result<std::shared_ptr<VulkanContext>> Create(const RenderConfig& config = {});
  ~VulkanContext();
  VulkanContext(const VulkanContext&) = delete;
  VulkanContext& operator=(const VulkanContext&) = delete;

  const DeviceInfo& device() const;
  // Whether the validation layer is loaded (asked for and present).
  bool validation_enabled() const;
  // Validation messages of severity warning / error since creation or the last reset.
  std::uint64_t validation_warnings() const;
  std::uint64_t validation_errors() const;
  void ResetValidationCounts();

  struct Impl;  // Vulkan handles; defined in render/src (for render/ only)
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  explicit VulkanContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pf::render
