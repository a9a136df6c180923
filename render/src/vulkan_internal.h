// Internal to render/: the Vulkan handles behind VulkanContext and small helpers.
#pragma once

#include <vulkan/vulkan.h>

#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "pf/core/result.h"
#include "pf/core/str.h"
#include "pf/render/vulkan_context.h"

namespace pf::render {

const char* VkResultName(VkResult result);

// Ok, or an error "<what> failed: VK_ERROR_...".
inline core::Status VkCheck(VkResult result, std::string_view what) {
  if (result == VK_SUCCESS) return core::Ok();
  return core::Fail(core::StrCat("vulkan: ", what, " failed: ", VkResultName(result)));
}

// Live-object bookkeeping behind LiveVulkanObjects(): render/ creates every Vulkan object
// through Counted(kind, vkCreate...(...)) and destroys it through Destroy(device, handle)
// (or NoteLive(kind, -1) beside the call, for the few without a Destroy overload).
enum class VkKind : int {
  kInstance, kDebugMessenger, kDevice, kCommandPool, kCommandBuffer, kFence, kDeviceMemory, kBuffer,
  kImage, kImageView, kFramebuffer, kRenderPass, kPipelineLayout, kPipeline, kShaderModule, kSurface, kSwapchain,
  kSemaphore, kSampler, kDescriptorSetLayout, kDescriptorPool, kCount
};
void NoteLive(VkKind kind, int delta);
// `result`, after counting one new `kind` object when it is VK_SUCCESS.
inline VkResult Counted(VkKind kind, VkResult result) {
  if (result == VK_SUCCESS) NoteLive(kind, +1);
  return result;
}
// Destroys the object when there is one, counts it gone and nulls the handle.
void Destroy(VkDevice device, VkBuffer& handle);
void Destroy(VkDevice device, VkImage& handle);
void Destroy(VkDevice device, VkImageView& handle);
void Destroy(VkDevice device, VkFramebuffer& handle);
void Destroy(VkDevice device, VkFence& handle);
void Destroy(VkDevice device, VkRenderPass& handle);
void Destroy(VkDevice device, VkPipelineLayout& handle);
void Destroy(VkDevice device, VkPipeline& handle);
void Destroy(VkDevice device, VkShaderModule& handle);
void Destroy(VkDevice device, VkSwapchainKHR& handle);
void Destroy(VkDevice device, VkSemaphore& handle);
void Destroy(VkDevice device, VkSampler& handle);
void Destroy(VkDevice device, VkDescriptorSetLayout& handle);
void Destroy(VkDevice device, VkDescriptorPool& handle);  // frees its sets

// A buffer of `size` bytes (at least 4) for `usage`, exclusive to one queue, without memory.
core::Status CreateBuffer(VkDevice device, VkDeviceSize size, VkBufferUsageFlags usage, VkBuffer* out);

// Records a barrier that makes transfer writes to `buffer` visible to host reads.
inline void BarrierTransferToHost(VkCommandBuffer cmd, VkBuffer buffer) {
  VkBufferMemoryBarrier to_host{};
  to_host.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER;
  to_host.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  to_host.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  to_host.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  to_host.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  to_host.buffer = buffer;
  to_host.offset = 0;
  to_host.size = VK_WHOLE_SIZE;
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0, nullptr, 1, &to_host, 0,
                       nullptr);
}

struct VulkanContext::Impl {
  VkInstance instance = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties{};
  VkPhysicalDeviceMemoryProperties memory_properties{};
  VkDevice device = VK_NULL_HANDLE;
  std::uint32_t queue_family = 0;
  VkQueue queue = VK_NULL_HANDLE;
  VkCommandPool command_pool = VK_NULL_HANDLE;
  DeviceInfo info;
  bool validation = false;
  bool swapchain = false;  // VK_KHR_swapchain enabled
  std::atomic<std::uint64_t> warnings{0};
  std::atomic<std::uint64_t> errors{0};

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();
};

// A memory type allowed by `type_bits` with all `required` flags, preferring one that
// also has `preferred`; -1 when there is none.
int FindMemoryType(const VkPhysicalDeviceMemoryProperties& props, std::uint32_t type_bits,
                   VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred);

// One VkDeviceMemory shared by several buffers or by several images (a pool per usage
// instead of one allocation per resource). Frees the memory, not the resources.
struct MemoryBlock {
  VkDevice device = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkMemoryPropertyFlags flags = 0;
  std::vector<VkDeviceSize> offsets;  // per resource, in the order given
  void* mapped = nullptr;             // whole block, when host visible

  MemoryBlock() = default;
  MemoryBlock(const MemoryBlock&) = delete;
  MemoryBlock& operator=(const MemoryBlock&) = delete;
  MemoryBlock(MemoryBlock&& other) noexcept { *this = std::move(other); }
  MemoryBlock& operator=(MemoryBlock&& other) noexcept;
  ~MemoryBlock() { Free(); }
  void Free();
};

// Allocates one block for all `buffers` (or all `images`; not both, so no
// bufferImageGranularity concerns), binds each at an aligned offset, maps it when host
// visible.
core::Result<MemoryBlock> AllocateBuffers(const VulkanContext::Impl& ctx,
                                          std::span<const VkBuffer> buffers,
                                          VkMemoryPropertyFlags required,
                                          VkMemoryPropertyFlags preferred);
core::Result<MemoryBlock> AllocateImages(const VulkanContext::Impl& ctx,
                                         std::span<const VkImage> images,
                                         VkMemoryPropertyFlags required,
                                         VkMemoryPropertyFlags preferred);

}  // namespace pf::render
