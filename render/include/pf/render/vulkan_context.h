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

struct RenderConfig {
  // Load VK_LAYER_KHRONOS_validation and count its warnings/errors (logged through
  // core::LogWarning/LogError). Default: PARAFAB_VK_VALIDATION=1 in the environment.
  bool validation = ValidationFromEnvironment();
  // Use the first device whose name contains this (case-insensitive); "" picks the best:
  // a discrete GPU, else an integrated one, else any (lavapipe's CPU device included).
  std::string device_name;
};

struct DeviceInfo {
  std::string name;              // VkPhysicalDeviceProperties::deviceName
  std::string type;              // "discrete", "integrated", "virtual", "cpu" or "other"
  std::uint32_t api_version = 0; // VK_MAKE_API_VERSION encoded
  bool has_graphics_queue = false;
};

// The Vulkan devices on this machine. Fails when there is no Vulkan loader or driver.
core::Result<std::vector<DeviceInfo>> ListDevices();

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
