#include "pf/render/vulkan_context.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

#if defined(__GLIBC__)
#include <dlfcn.h>
#include <malloc.h>
#endif

#include "pf/core/log.h"
#include "vulkan_internal.h"

namespace pf::render {
namespace {

// See RenderConfig::tune_malloc_for_cpu_device. llvmpipe allocates its binned scene and
// vertex buffers anew every frame (megabytes per pass); with glibc's defaults the freed
// memory goes back to the kernel (trim, or munmap above the mmap threshold) and comes back
// as page faults on zeroed pages in the next frame.
void TuneMallocForCpuDevice() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest (DEFAULT_MMAP_THRESHOLD_MAX, 64-bit)
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
#endif
}

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

core::Location FieldLocation(std::string field) {
  core::Location where;
  where.field = std::move(field);
  return where;
}

std::string Lower(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

const char* DeviceTypeName(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

// Lower is better: discrete, integrated, virtual, cpu (lavapipe), other.
int DeviceRank(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
  }
}

VKAPI_ATTR VkBool32 VKAPI_CALL OnDebugMessage(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                              VkDebugUtilsMessageTypeFlagsEXT /*types*/,
                                              const VkDebugUtilsMessengerCallbackDataEXT* data,
                                              void* user) {
  auto* impl = static_cast<VulkanContext::Impl*>(user);
  const char* message = data && data->pMessage ? data->pMessage : "(no message)";
  if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
    if (impl) impl->errors.fetch_add(1, std::memory_order_relaxed);
    core::LogError("vulkan validation: ", message);
  } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    if (impl) impl->warnings.fetch_add(1, std::memory_order_relaxed);
    core::LogWarning("vulkan validation: ", message);
  }
  return VK_FALSE;
}

VkDebugUtilsMessengerCreateInfoEXT MessengerInfo(VulkanContext::Impl* impl) {
  VkDebugUtilsMessengerCreateInfoEXT info{};
  info.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
  info.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  info.pfnUserCallback = OnDebugMessage;
  info.pUserData = impl;
  return info;
}

bool HasInstanceLayer(const char* name) {
  std::uint32_t count = 0;
  if (vkEnumerateInstanceLayerProperties(&count, nullptr) != VK_SUCCESS) return false;
  std::vector<VkLayerProperties> layers(count);
  if (vkEnumerateInstanceLayerProperties(&count, layers.data()) != VK_SUCCESS) return false;
  return std::ranges::any_of(layers, [&](const VkLayerProperties& l) {
    return std::strcmp(l.layerName, name) == 0;
  });
}

bool HasDeviceExtension(VkPhysicalDevice device, const char* name) {
  std::uint32_t count = 0;
  if (vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr) != VK_SUCCESS) return false;
  std::vector<VkExtensionProperties> extensions(count);
  if (vkEnumerateDeviceExtensionProperties(device, nullptr, &count, extensions.data()) != VK_SUCCESS) return false;
  return std::ranges::any_of(extensions, [&](const VkExtensionProperties& e) { return std::strcmp(e.extensionName, name) == 0; });
}

bool HasInstanceExtension(const char* layer, const char* name) {
  std::uint32_t count = 0;
  if (vkEnumerateInstanceExtensionProperties(layer, &count, nullptr) != VK_SUCCESS) return false;
  std::vector<VkExtensionProperties> extensions(count);
  if (vkEnumerateInstanceExtensionProperties(layer, &count, extensions.data()) != VK_SUCCESS)
    return false;
  return std::ranges::any_of(extensions, [&](const VkExtensionProperties& e) {
    return std::strcmp(e.extensionName, name) == 0;
  });
}

// Sanitizer builds (tools/test --sanitize): the Vulkan loader unloads the driver (lavapipe)
// and the validation layer when an instance goes away, so LeakSanitizer's report at exit
// cannot name the library that made an allocation, and its suppressions
// (tools/sanitizers/lsan.supp, third-party libraries only) cannot match. Keeping them loaded
// for the life of the process lets the report name them, in every program that renders.
void PinVulkanLibrariesForSanitizers() {
#if defined(__SANITIZE_ADDRESS__)
  static std::once_flag once;
  std::call_once(once, [] {
    for (const char* library : {"libvulkan_lvp.so", "libVkLayer_khronos_validation.so"})
      (void)dlopen(library, RTLD_LAZY | RTLD_LOCAL | RTLD_NODELETE);
  });
#endif
}

core::Status MakeInstance(VulkanContext::Impl* impl, bool want_validation,
                          const std::vector<std::string>& wanted_extensions) {
  PinVulkanLibrariesForSanitizers();
  bool validation = false;
  if (want_validation) {
    if (!HasInstanceLayer(kValidationLayer)) {
      core::LogWarning("vulkan: validation asked for but ", kValidationLayer,
                       " is not installed (Debian: vulkan-validationlayers); running without");
    } else if (!HasInstanceExtension(nullptr, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) &&
               !HasInstanceExtension(kValidationLayer, VK_EXT_DEBUG_UTILS_EXTENSION_NAME)) {
      core::LogWarning("vulkan: ", VK_EXT_DEBUG_UTILS_EXTENSION_NAME,
                       " is missing; running without validation");
    } else {
      validation = true;
    }
  }

  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "parafab";
  app.applicationVersion = VK_MAKE_API_VERSION(0, 0, 1, 0);
  app.pEngineName = "parafab";
  app.engineVersion = VK_MAKE_API_VERSION(0, 0, 1, 0);
  // 1.2 where the device has it (the BatchRenderer's layered pass); a 1.1 driver still
  // creates this instance and reports what it lacks.
  app.apiVersion = VK_API_VERSION_1_2;

  std::vector<const char*> layers, extensions;
  VkDebugUtilsMessengerCreateInfoEXT messenger_info = MessengerInfo(impl);
  VkInstanceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  info.pApplicationInfo = &app;
  if (validation) {
    layers.push_back(kValidationLayer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    info.pNext = &messenger_info;  // also reports problems in vkCreate/DestroyInstance
  }
  for (const std::string& name : wanted_extensions) {
    if (!HasInstanceExtension(nullptr, name.c_str()))
      return core::Fail(core::StrCat("vulkan: the instance extension ", name, " is not available"));
    if (std::ranges::none_of(extensions, [&](const char* e) { return name == e; })) extensions.push_back(name.c_str());
  }
  info.enabledLayerCount = static_cast<std::uint32_t>(layers.size());
  info.ppEnabledLayerNames = layers.data();
  info.enabledExtensionCount = static_cast<std::uint32_t>(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  const VkResult r = Counted(VkKind::kInstance, vkCreateInstance(&info, nullptr, &impl->instance));
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
    return core::Fail("vulkan: no Vulkan 1.1 driver found (install a GPU driver, or "
                      "mesa-vulkan-drivers for the lavapipe CPU device)");
  PF_TRY(VkCheck(r, "vkCreateInstance"));

  if (validation) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(impl->instance, "vkCreateDebugUtilsMessengerEXT"));
    if (!create) return core::Fail("vulkan: vkCreateDebugUtilsMessengerEXT is missing");
    PF_TRY(VkCheck(Counted(VkKind::kDebugMessenger, create(impl->instance, &messenger_info, nullptr, &impl->messenger)),
                   "vkCreateDebugUtilsMessengerEXT"));
  }
  impl->validation = validation;
  return core::Ok();
}

struct Candidate {
  VkPhysicalDevice device = VK_NULL_HANDLE;
  DeviceInfo info;
  int rank = 0;
  std::uint32_t graphics_family = 0;
};

core::Result<std::vector<Candidate>> Candidates(VkInstance instance) {
  std::uint32_t count = 0;
  PF_TRY(VkCheck(vkEnumeratePhysicalDevices(instance, &count, nullptr), "vkEnumeratePhysicalDevices"));
  std::vector<VkPhysicalDevice> devices(count);
  PF_TRY(VkCheck(vkEnumeratePhysicalDevices(instance, &count, devices.data()),
                 "vkEnumeratePhysicalDevices"));
  std::vector<Candidate> out;
  for (VkPhysicalDevice d : devices) {
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(d, &props);
    Candidate c;
    c.device = d;
    c.info.name = props.deviceName;
    c.info.type = DeviceTypeName(props.deviceType);
    c.info.api_version = props.apiVersion;
    c.rank = DeviceRank(props.deviceType);
    if (props.apiVersion >= VK_API_VERSION_1_2) {
      VkPhysicalDeviceVulkan12Features features12{};
      features12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
      VkPhysicalDeviceFeatures2 features{};
      features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
      features.pNext = &features12;
      vkGetPhysicalDeviceFeatures2(d, &features);
      c.info.shader_output_layer = features12.shaderOutputLayer == VK_TRUE;
    }
    std::uint32_t num_families = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(d, &num_families, nullptr);
    std::vector<VkQueueFamilyProperties> families(num_families);
    vkGetPhysicalDeviceQueueFamilyProperties(d, &num_families, families.data());
    for (std::uint32_t i = 0; i < num_families; ++i) {
      if ((families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) && families[i].queueCount > 0) {
        c.graphics_family = i;
        c.info.has_graphics_queue = true;
        break;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

const char* VkResultName(VkResult result) {
  switch (result) {
#define PF_VK_CASE(x) case x: return #x;
    PF_VK_CASE(VK_SUCCESS)
    PF_VK_CASE(VK_NOT_READY)
    PF_VK_CASE(VK_TIMEOUT)
    PF_VK_CASE(VK_INCOMPLETE)
    PF_VK_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    PF_VK_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    PF_VK_CASE(VK_ERROR_INITIALIZATION_FAILED)
    PF_VK_CASE(VK_ERROR_DEVICE_LOST)
    PF_VK_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    PF_VK_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    PF_VK_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    PF_VK_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    PF_VK_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    PF_VK_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    PF_VK_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    PF_VK_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
#undef PF_VK_CASE
    default: return "VK_ERROR (unknown code)";
  }
}

int FindMemoryType(const VkPhysicalDeviceMemoryProperties& props, std::uint32_t type_bits,
                   VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred) {
  int fallback = -1;
  for (std::uint32_t i = 0; i < props.memoryTypeCount; ++i) {
    if (!(type_bits & (1u << i))) continue;
    const VkMemoryPropertyFlags f = props.memoryTypes[i].propertyFlags;
    if ((f & required) != required) continue;
    if ((f & preferred) == preferred) return static_cast<int>(i);
    if (fallback < 0) fallback = static_cast<int>(i);
  }
  return fallback;
}

namespace {

constexpr std::array<const char*, static_cast<std::size_t>(VkKind::kCount)> kKindNames = {
    "instance", "debug_messenger", "device", "command_pool", "command_buffer", "fence", "device_memory", "buffer",
    "image", "image_view", "framebuffer", "render_pass", "pipeline_layout", "pipeline", "shader_module", "surface",
    "swapchain", "semaphore", "sampler", "descriptor_set_layout", "descriptor_pool"};
std::array<std::atomic<std::int64_t>, static_cast<std::size_t>(VkKind::kCount)> live_objects{};

template <typename Handle, typename Fn>
void DestroyCounted(VkDevice device, Handle& handle, VkKind kind, Fn destroy) {
  if (handle == VK_NULL_HANDLE) return;
  destroy(device, handle, nullptr);
  handle = VK_NULL_HANDLE;
  NoteLive(kind, -1);
}

}  // namespace

void NoteLive(VkKind kind, int delta) {
  live_objects[static_cast<std::size_t>(kind)].fetch_add(delta, std::memory_order_relaxed);
}

void Destroy(VkDevice d, VkBuffer& h) { DestroyCounted(d, h, VkKind::kBuffer, vkDestroyBuffer); }
void Destroy(VkDevice d, VkImage& h) { DestroyCounted(d, h, VkKind::kImage, vkDestroyImage); }
void Destroy(VkDevice d, VkImageView& h) { DestroyCounted(d, h, VkKind::kImageView, vkDestroyImageView); }
void Destroy(VkDevice d, VkFramebuffer& h) { DestroyCounted(d, h, VkKind::kFramebuffer, vkDestroyFramebuffer); }
void Destroy(VkDevice d, VkFence& h) { DestroyCounted(d, h, VkKind::kFence, vkDestroyFence); }
void Destroy(VkDevice d, VkRenderPass& h) { DestroyCounted(d, h, VkKind::kRenderPass, vkDestroyRenderPass); }
void Destroy(VkDevice d, VkPipelineLayout& h) { DestroyCounted(d, h, VkKind::kPipelineLayout, vkDestroyPipelineLayout); }
void Destroy(VkDevice d, VkPipeline& h) { DestroyCounted(d, h, VkKind::kPipeline, vkDestroyPipeline); }
void Destroy(VkDevice d, VkShaderModule& h) { DestroyCounted(d, h, VkKind::kShaderModule, vkDestroyShaderModule); }
void Destroy(VkDevice d, VkSwapchainKHR& h) { DestroyCounted(d, h, VkKind::kSwapchain, vkDestroySwapchainKHR); }
void Destroy(VkDevice d, VkSemaphore& h) { DestroyCounted(d, h, VkKind::kSemaphore, vkDestroySemaphore); }
void Destroy(VkDevice d, VkSampler& h) { DestroyCounted(d, h, VkKind::kSampler, vkDestroySampler); }
void Destroy(VkDevice d, VkDescriptorSetLayout& h) {
  DestroyCounted(d, h, VkKind::kDescriptorSetLayout, vkDestroyDescriptorSetLayout);
}
void Destroy(VkDevice d, VkDescriptorPool& h) { DestroyCounted(d, h, VkKind::kDescriptorPool, vkDestroyDescriptorPool); }

core::Status CreateBuffer(VkDevice device, VkDeviceSize size, VkBufferUsageFlags usage, VkBuffer* out) {
  VkBufferCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = std::max<VkDeviceSize>(size, 4);
  info.usage = usage;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  return VkCheck(Counted(VkKind::kBuffer, vkCreateBuffer(device, &info, nullptr, out)), "vkCreateBuffer");
}

std::vector<VulkanObjectCount> LiveVulkanObjects() {
  std::vector<VulkanObjectCount> out;
  for (std::size_t i = 0; i < kKindNames.size(); ++i)
    out.push_back({kKindNames[i], live_objects[i].load(std::memory_order_relaxed)});
  return out;
}

MemoryBlock& MemoryBlock::operator=(MemoryBlock&& other) noexcept {
  if (this != &other) {
    Free();
    device = std::exchange(other.device, VK_NULL_HANDLE);
    memory = std::exchange(other.memory, VK_NULL_HANDLE);
    flags = std::exchange(other.flags, 0);
    offsets = std::move(other.offsets);
    mapped = std::exchange(other.mapped, nullptr);
  }
  return *this;
}

void MemoryBlock::Free() {
  if (memory != VK_NULL_HANDLE) {
    if (mapped) vkUnmapMemory(device, memory);
    vkFreeMemory(device, memory, nullptr);
    NoteLive(VkKind::kDeviceMemory, -1);
  }
  memory = VK_NULL_HANDLE;
  mapped = nullptr;
  offsets.clear();
}

namespace {

core::Result<MemoryBlock> AllocateFor(const VulkanContext::Impl& ctx,
                                      std::span<const VkMemoryRequirements> reqs,
                                      VkMemoryPropertyFlags required,
                                      VkMemoryPropertyFlags preferred) {
  MemoryBlock block;
  block.device = ctx.device;
  std::uint32_t type_bits = ~0u;
  VkDeviceSize size = 0;
  for (const VkMemoryRequirements& r : reqs) {
    type_bits &= r.memoryTypeBits;
    size = (size + r.alignment - 1) / r.alignment * r.alignment;
    block.offsets.push_back(size);
    size += r.size;
  }
  const int type = FindMemoryType(ctx.memory_properties, type_bits, required, preferred);
  if (type < 0)
    return core::Fail(core::StrCat("vulkan: no memory type for ", reqs.size(),
                                   " resources with property flags ", required));
  VkMemoryAllocateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  info.allocationSize = std::max<VkDeviceSize>(size, 1);
  info.memoryTypeIndex = static_cast<std::uint32_t>(type);
  PF_TRY(VkCheck(Counted(VkKind::kDeviceMemory, vkAllocateMemory(ctx.device, &info, nullptr, &block.memory)),
                 core::StrCat("vkAllocateMemory (", size, " bytes)")));
  block.flags = ctx.memory_properties.memoryTypes[type].propertyFlags;
  if (block.flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
    PF_TRY(VkCheck(vkMapMemory(ctx.device, block.memory, 0, VK_WHOLE_SIZE, 0, &block.mapped),
                   "vkMapMemory"));
  }
  return block;
}

}  // namespace

core::Result<MemoryBlock> AllocateBuffers(const VulkanContext::Impl& ctx,
                                          std::span<const VkBuffer> buffers,
                                          VkMemoryPropertyFlags required,
                                          VkMemoryPropertyFlags preferred) {
  std::vector<VkMemoryRequirements> reqs(buffers.size());
  for (std::size_t i = 0; i < buffers.size(); ++i)
    vkGetBufferMemoryRequirements(ctx.device, buffers[i], &reqs[i]);
  PF_ASSIGN_OR_RETURN(MemoryBlock block, AllocateFor(ctx, reqs, required, preferred));
  for (std::size_t i = 0; i < buffers.size(); ++i)
    PF_TRY(VkCheck(vkBindBufferMemory(ctx.device, buffers[i], block.memory, block.offsets[i]),
                   "vkBindBufferMemory"));
  return block;
}

core::Result<MemoryBlock> AllocateImages(const VulkanContext::Impl& ctx,
                                         std::span<const VkImage> images,
                                         VkMemoryPropertyFlags required,
                                         VkMemoryPropertyFlags preferred) {
  std::vector<VkMemoryRequirements> reqs(images.size());
  for (std::size_t i = 0; i < images.size(); ++i)
    vkGetImageMemoryRequirements(ctx.device, images[i], &reqs[i]);
  PF_ASSIGN_OR_RETURN(MemoryBlock block, AllocateFor(ctx, reqs, required, preferred));
  for (std::size_t i = 0; i < images.size(); ++i)
    PF_TRY(VkCheck(vkBindImageMemory(ctx.device, images[i], block.memory, block.offsets[i]),
                   "vkBindImageMemory"));
  return block;
}

VulkanContext::Impl::~Impl() {
  if (device != VK_NULL_HANDLE) {
    vkDeviceWaitIdle(device);
    if (command_pool != VK_NULL_HANDLE) {
      vkDestroyCommandPool(device, command_pool, nullptr);
      NoteLive(VkKind::kCommandPool, -1);
    }
    vkDestroyDevice(device, nullptr);
    NoteLive(VkKind::kDevice, -1);
  }
  if (messenger != VK_NULL_HANDLE) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy) {
      destroy(instance, messenger, nullptr);
      NoteLive(VkKind::kDebugMessenger, -1);
    }
  }
  if (instance != VK_NULL_HANDLE) {
    vkDestroyInstance(instance, nullptr);
    NoteLive(VkKind::kInstance, -1);
  }
}

bool ValidationFromEnvironment() {
  const char* v = std::getenv("PARAFAB_VK_VALIDATION");
  return v && std::string_view(v) == "1";
}

core::Result<std::vector<DeviceInfo>> ListDevices() {
  VulkanContext::Impl impl;
  PF_TRY(MakeInstance(&impl, /*want_validation=*/false, {}));
  PF_ASSIGN_OR_RETURN(std::vector<Candidate> candidates, Candidates(impl.instance));
  std::vector<DeviceInfo> out;
  for (Candidate& c : candidates) out.push_back(std::move(c.info));
  return out;
}

core::Result<std::shared_ptr<VulkanContext>> VulkanContext::Create(const RenderConfig& config) {
  auto impl = std::make_unique<Impl>();
  PF_TRY(MakeInstance(impl.get(), config.validation, config.instance_extensions));
  PF_ASSIGN_OR_RETURN(std::vector<Candidate> candidates, Candidates(impl->instance));
  std::erase_if(candidates, [](const Candidate& c) { return !c.info.has_graphics_queue; });
  if (config.swapchain)
    std::erase_if(candidates, [](const Candidate& c) { return !HasDeviceExtension(c.device, VK_KHR_SWAPCHAIN_EXTENSION_NAME); });
  std::string names;
  for (const Candidate& c : candidates) names += core::StrCat(names.empty() ? "" : ", ", c.info.name);
  if (candidates.empty())
    return core::Fail(core::StrCat("vulkan: no device with a graphics queue", config.swapchain ? " and VK_KHR_swapchain" : "",
                                   " found (install a GPU driver, or mesa-vulkan-drivers for the lavapipe CPU device)"));
  const Candidate* chosen = nullptr;
  if (!config.device_name.empty()) {
    const std::string want = Lower(config.device_name);
    for (const Candidate& c : candidates) {
      if (Lower(c.info.name).find(want) != std::string::npos) {
        chosen = &c;
        break;
      }
    }
    if (!chosen)
      return core::Fail(core::StrCat("vulkan: no device named like '", config.device_name,
                                     "'; available: ", names),
                        FieldLocation("device_name"));
  } else {
    chosen = &*std::ranges::min_element(candidates, {}, &Candidate::rank);  // first best
  }
  impl->physical_device = chosen->device;
  impl->info = chosen->info;
  impl->queue_family = chosen->graphics_family;
  vkGetPhysicalDeviceProperties(impl->physical_device, &impl->properties);
  vkGetPhysicalDeviceMemoryProperties(impl->physical_device, &impl->memory_properties);

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{};
  queue_info.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  queue_info.queueFamilyIndex = impl->queue_family;
  queue_info.queueCount = 1;
  queue_info.pQueuePriorities = &priority;
  VkDeviceCreateInfo device_info{};
  device_info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  device_info.queueCreateInfoCount = 1;
  device_info.pQueueCreateInfos = &queue_info;
  VkPhysicalDeviceVulkan12Features features12{};
  features12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  features12.shaderOutputLayer = VK_TRUE;
  if (impl->info.shader_output_layer) device_info.pNext = &features12;
  const char* swapchain_extension = VK_KHR_SWAPCHAIN_EXTENSION_NAME;
  if (config.swapchain) {
    device_info.enabledExtensionCount = 1;
    device_info.ppEnabledExtensionNames = &swapchain_extension;
    impl->swapchain = true;
  }
  PF_TRY(VkCheck(Counted(VkKind::kDevice, vkCreateDevice(impl->physical_device, &device_info, nullptr, &impl->device)),
                 core::StrCat("vkCreateDevice (", impl->info.name, ")")));
  vkGetDeviceQueue(impl->device, impl->queue_family, 0, &impl->queue);

  VkCommandPoolCreateInfo pool_info{};
  pool_info.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool_info.queueFamilyIndex = impl->queue_family;
  PF_TRY(VkCheck(Counted(VkKind::kCommandPool, vkCreateCommandPool(impl->device, &pool_info, nullptr, &impl->command_pool)),
                 "vkCreateCommandPool"));
  if (config.tune_malloc_for_cpu_device && impl->info.type == "cpu") TuneMallocForCpuDevice();
  core::LogInfo("vulkan: using ", impl->info.name, " (", impl->info.type, ")",
                impl->validation ? " with validation" : "");
  return std::shared_ptr<VulkanContext>(new VulkanContext(std::move(impl)));
}

VulkanContext::VulkanContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VulkanContext::~VulkanContext() = default;

const DeviceInfo& VulkanContext::device() const { return impl_->info; }
bool VulkanContext::validation_enabled() const { return impl_->validation; }
std::uint64_t VulkanContext::validation_warnings() const { return impl_->warnings.load(); }
std::uint64_t VulkanContext::validation_errors() const { return impl_->errors.load(); }
void VulkanContext::ResetValidationCounts() {
  impl_->warnings.store(0);
  impl_->errors.store(0);
}

}  // namespace pf::render
