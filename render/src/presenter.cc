#include "pf/render/presenter.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "pf/core/log.h"
#include "pf/core/str.h"
#include "vulkan_internal.h"

namespace pf::render {

VulkanHandles Handles(const VulkanContext& context) {
  const VulkanContext::Impl& c = context.impl();
  return {c.instance, c.physical_device, c.device, c.queue_family, c.queue};
}

struct Presenter::Impl {
  std::shared_ptr<VulkanContext> context;  // first: outlives everything below
  VulkanContext::Impl* ctx = nullptr;
  VkDevice device = VK_NULL_HANDLE;
  Config config;
  VkSurfaceKHR surface = VK_NULL_HANDLE;

  // The swapchain and what hangs off its images.
  VkSwapchainKHR swapchain = VK_NULL_HANDLE;
  VkFormat format = VK_FORMAT_UNDEFINED;
  bool bgra = false;          // B8G8R8A8: the host swaps red and blue on the way in and out
  bool can_capture = false;   // the images allow TRANSFER_SRC
  VkExtent2D extent{};
  std::uint32_t min_images = 0;
  std::vector<VkImage> images;
  std::vector<VkImageView> views;
  std::vector<VkFramebuffer> framebuffers;
  std::vector<VkSemaphore> rendered;  // per image: the frame's commands are done (present waits)
  VkRenderPass render_pass = VK_NULL_HANDLE;
  std::uint32_t wanted_width = 0, wanted_height = 0;
  bool stale = true;  // remake the swapchain before the next frame

  // One frame in flight.
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  VkSemaphore acquired = VK_NULL_HANDLE;
  bool submitted = false;  // the fence will signal

  // Host buffers, grown when a frame needs more, never shrunk.
  VkBuffer staging = VK_NULL_HANDLE;
  MemoryBlock staging_memory;
  VkDeviceSize staging_size = 0;
  VkBuffer readback = VK_NULL_HANDLE;
  MemoryBlock readback_memory;
  VkDeviceSize readback_size = 0;
  std::vector<std::uint8_t> captured;
  std::uint32_t captured_width = 0, captured_height = 0;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();

  core::Status Remake();
  void DestroySwapchainResources();
  core::Status EnsureBuffer(VkDeviceSize size, VkBufferUsageFlags usage, VkBuffer* buffer, MemoryBlock* memory,
                            VkDeviceSize* capacity);
  core::Status WaitFrame();
};

namespace {

VkImageMemoryBarrier ImageBarrier(VkImage image, VkImageLayout from, VkImageLayout to, VkAccessFlags src,
                                  VkAccessFlags dst) {
  VkImageMemoryBarrier b{};
  b.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER;
  b.srcAccessMask = src;
  b.dstAccessMask = dst;
  b.oldLayout = from;
  b.newLayout = to;
  b.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  b.image = image;
  b.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
  return b;
}

}  // namespace

core::Status Presenter::Impl::WaitFrame() {
  if (!submitted) return core::Ok();
  PF_TRY(VkCheck(vkWaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences"));
  PF_TRY(VkCheck(vkResetFences(device, 1, &fence), "vkResetFences"));
  submitted = false;
  return core::Ok();
}

void Presenter::Impl::DestroySwapchainResources() {
  for (VkFramebuffer& f : framebuffers) Destroy(device, f);
  framebuffers.clear();
  for (VkImageView& v : views) Destroy(device, v);
  views.clear();
  for (VkSemaphore& s : rendered) Destroy(device, s);
  rendered.clear();
  images.clear();
}

core::Status Presenter::Impl::Remake() {
  PF_TRY(WaitFrame());
  // Presentation may still read the old images: the whole queue must be idle.
  PF_TRY(VkCheck(vkQueueWaitIdle(ctx->queue), "vkQueueWaitIdle"));
  VkSurfaceCapabilitiesKHR caps{};
  PF_TRY(VkCheck(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(ctx->physical_device, surface, &caps),
                 "vkGetPhysicalDeviceSurfaceCapabilitiesKHR"));
  VkExtent2D size = caps.currentExtent;
  if (size.width == std::numeric_limits<std::uint32_t>::max()) {  // the program chooses
    size.width = std::clamp(wanted_width, caps.minImageExtent.width, caps.maxImageExtent.width);
    size.height = std::clamp(wanted_height, caps.minImageExtent.height, caps.maxImageExtent.height);
  }
  DestroySwapchainResources();
  extent = size;
  if (size.width == 0 || size.height == 0) {  // minimized: nothing to present to
    Destroy(device, swapchain);
    stale = false;
    return core::Ok();
  }
  if (!(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT) ||
      !(caps.supportedUsageFlags & VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT))
    return core::Fail("vulkan: the window surface does not take transfers and colour attachments");
  can_capture = (caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_SRC_BIT) != 0;

  std::uint32_t count = 0;
  PF_TRY(VkCheck(vkGetPhysicalDeviceSurfaceFormatsKHR(ctx->physical_device, surface, &count, nullptr),
                 "vkGetPhysicalDeviceSurfaceFormatsKHR"));
  std::vector<VkSurfaceFormatKHR> formats(count);
  PF_TRY(VkCheck(vkGetPhysicalDeviceSurfaceFormatsKHR(ctx->physical_device, surface, &count, formats.data()),
                 "vkGetPhysicalDeviceSurfaceFormatsKHR"));
  // UNORM formats show the renderer's bytes as they are; only those two byte orders are
  // supported (the host swizzles BGRA).
  const auto pick = std::ranges::find_if(formats, [](const VkSurfaceFormatKHR& f) {
    return (f.format == VK_FORMAT_B8G8R8A8_UNORM || f.format == VK_FORMAT_R8G8B8A8_UNORM) &&
           f.colorSpace == VK_COLOR_SPACE_SRGB_NONLINEAR_KHR;
  });
  if (pick == formats.end())
    return core::Fail("vulkan: the window surface offers no B8G8R8A8_UNORM or R8G8B8A8_UNORM format");
  const VkFormat new_format = pick->format;
  bgra = new_format == VK_FORMAT_B8G8R8A8_UNORM;

  std::uint32_t mode_count = 0;
  PF_TRY(VkCheck(vkGetPhysicalDeviceSurfacePresentModesKHR(ctx->physical_device, surface, &mode_count, nullptr),
                 "vkGetPhysicalDeviceSurfacePresentModesKHR"));
  std::vector<VkPresentModeKHR> modes(mode_count);
  PF_TRY(VkCheck(vkGetPhysicalDeviceSurfacePresentModesKHR(ctx->physical_device, surface, &mode_count, modes.data()),
                 "vkGetPhysicalDeviceSurfacePresentModesKHR"));
  VkPresentModeKHR mode = VK_PRESENT_MODE_FIFO_KHR;  // always there
  if (!config.vsync) {
    for (VkPresentModeKHR m : {VK_PRESENT_MODE_MAILBOX_KHR, VK_PRESENT_MODE_IMMEDIATE_KHR})
      if (std::ranges::find(modes, m) != modes.end()) {
        mode = m;
        break;
      }
  }

  min_images = std::max(caps.minImageCount, 2u);
  std::uint32_t wanted = min_images + 1;
  if (caps.maxImageCount > 0) wanted = std::min(wanted, caps.maxImageCount);
  VkSwapchainCreateInfoKHR info{};
  info.sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR;
  info.surface = surface;
  info.minImageCount = wanted;
  info.imageFormat = new_format;
  info.imageColorSpace = pick->colorSpace;
  info.imageExtent = size;
  info.imageArrayLayers = 1;
  info.imageUsage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT |
                    (can_capture ? VK_IMAGE_USAGE_TRANSFER_SRC_BIT : 0);
  info.imageSharingMode = VK_SHARING_MODE_EXCLUSIVE;
  info.preTransform = (caps.supportedTransforms & VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR)
                          ? VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR
                          : caps.currentTransform;
  info.compositeAlpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
  for (VkCompositeAlphaFlagBitsKHR a : {VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR, VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR,
                                        VK_COMPOSITE_ALPHA_PRE_MULTIPLIED_BIT_KHR, VK_COMPOSITE_ALPHA_POST_MULTIPLIED_BIT_KHR})
    if (caps.supportedCompositeAlpha & a) {
      info.compositeAlpha = a;
      break;
    }
  info.presentMode = mode;
  info.clipped = VK_TRUE;
  info.oldSwapchain = swapchain;
  VkSwapchainKHR made = VK_NULL_HANDLE;
  PF_TRY(VkCheck(Counted(VkKind::kSwapchain, vkCreateSwapchainKHR(device, &info, nullptr, &made)), "vkCreateSwapchainKHR"));
  Destroy(device, swapchain);  // the old one, retired by the new
  swapchain = made;

  if (render_pass == VK_NULL_HANDLE || new_format != format) {
    Destroy(device, render_pass);
    format = new_format;
    // The overlay pass: keeps what the transfers wrote, ends ready to present.
    VkAttachmentDescription attachment{};
    attachment.format = format;
    attachment.samples = VK_SAMPLE_COUNT_1_BIT;
    attachment.loadOp = VK_ATTACHMENT_LOAD_OP_LOAD;
    attachment.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
    attachment.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
    attachment.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
    attachment.initialLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    attachment.finalLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
    VkAttachmentReference ref{0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
    VkSubpassDescription subpass{};
    subpass.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS;
    subpass.colorAttachmentCount = 1;
    subpass.pColorAttachments = &ref;
    VkSubpassDependency dependency{};
    dependency.srcSubpass = VK_SUBPASS_EXTERNAL;
    dependency.dstSubpass = 0;
    dependency.srcStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT;
    dependency.dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
    dependency.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    dependency.dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_READ_BIT | VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
    VkRenderPassCreateInfo rp{};
    rp.sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO;
    rp.attachmentCount = 1;
    rp.pAttachments = &attachment;
    rp.subpassCount = 1;
    rp.pSubpasses = &subpass;
    rp.dependencyCount = 1;
    rp.pDependencies = &dependency;
    PF_TRY(VkCheck(Counted(VkKind::kRenderPass, vkCreateRenderPass(device, &rp, nullptr, &render_pass)),
                   "vkCreateRenderPass"));
  }

  std::uint32_t n = 0;
  PF_TRY(VkCheck(vkGetSwapchainImagesKHR(device, swapchain, &n, nullptr), "vkGetSwapchainImagesKHR"));
  images.resize(n);
  PF_TRY(VkCheck(vkGetSwapchainImagesKHR(device, swapchain, &n, images.data()), "vkGetSwapchainImagesKHR"));
  views.assign(n, VK_NULL_HANDLE);
  framebuffers.assign(n, VK_NULL_HANDLE);
  rendered.assign(n, VK_NULL_HANDLE);
  for (std::uint32_t i = 0; i < n; ++i) {
    VkImageViewCreateInfo view{};
    view.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO;
    view.image = images[i];
    view.viewType = VK_IMAGE_VIEW_TYPE_2D;
    view.format = format;
    view.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    PF_TRY(VkCheck(Counted(VkKind::kImageView, vkCreateImageView(device, &view, nullptr, &views[i])), "vkCreateImageView"));
    VkFramebufferCreateInfo fb{};
    fb.sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO;
    fb.renderPass = render_pass;
    fb.attachmentCount = 1;
    fb.pAttachments = &views[i];
    fb.width = size.width;
    fb.height = size.height;
    fb.layers = 1;
    PF_TRY(VkCheck(Counted(VkKind::kFramebuffer, vkCreateFramebuffer(device, &fb, nullptr, &framebuffers[i])),
                   "vkCreateFramebuffer"));
    VkSemaphoreCreateInfo sem{};
    sem.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO;
    PF_TRY(VkCheck(Counted(VkKind::kSemaphore, vkCreateSemaphore(device, &sem, nullptr, &rendered[i])), "vkCreateSemaphore"));
  }
  stale = false;
  return core::Ok();
}

core::Status Presenter::Impl::EnsureBuffer(VkDeviceSize size, VkBufferUsageFlags usage, VkBuffer* buffer,
                                           MemoryBlock* memory, VkDeviceSize* capacity) {
  if (size <= *capacity && *buffer != VK_NULL_HANDLE) return core::Ok();
  Destroy(device, *buffer);
  memory->Free();
  *capacity = 0;
  PF_TRY(CreateBuffer(device, size, usage, buffer));
  PF_ASSIGN_OR_RETURN(*memory, AllocateBuffers(*ctx, std::span<const VkBuffer>(buffer, 1),
                                               VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                               VK_MEMORY_PROPERTY_HOST_CACHED_BIT));
  *capacity = std::max<VkDeviceSize>(size, 4);
  return core::Ok();
}

Presenter::Impl::~Impl() {
  if (device != VK_NULL_HANDLE) {
    vkDeviceWaitIdle(device);
    DestroySwapchainResources();
    Destroy(device, swapchain);
    Destroy(device, render_pass);
    Destroy(device, staging);
    staging_memory.Free();
    Destroy(device, readback);
    readback_memory.Free();
    Destroy(device, acquired);
    Destroy(device, fence);
    if (cmd != VK_NULL_HANDLE) {
      vkFreeCommandBuffers(device, ctx->command_pool, 1, &cmd);
      NoteLive(VkKind::kCommandBuffer, -1);
    }
  }
  if (surface != VK_NULL_HANDLE && ctx != nullptr) {
    vkDestroySurfaceKHR(ctx->instance, surface, nullptr);
    NoteLive(VkKind::kSurface, -1);
  }
}

core::Result<std::unique_ptr<Presenter>> Presenter::Create(std::shared_ptr<VulkanContext> context, VkSurfaceKHR surface,
                                                           std::uint32_t width, std::uint32_t height, Config config) {
  if (!context) return core::Fail("render: Presenter needs a Vulkan context");
  if (surface == VK_NULL_HANDLE) return core::Fail("render: Presenter needs a window surface");
  auto impl = std::make_unique<Impl>();
  impl->context = std::move(context);
  impl->ctx = &impl->context->impl();
  NoteLive(VkKind::kSurface, +1);  // ours from here on, whatever happens below
  impl->surface = surface;
  if (!impl->ctx->swapchain)
    return core::Fail("render: the Vulkan context was made without RenderConfig::swapchain");
  impl->device = impl->ctx->device;
  impl->config = config;
  impl->wanted_width = width;
  impl->wanted_height = height;
  VkBool32 supported = VK_FALSE;
  PF_TRY(VkCheck(vkGetPhysicalDeviceSurfaceSupportKHR(impl->ctx->physical_device, impl->ctx->queue_family, surface,
                                                      &supported),
                 "vkGetPhysicalDeviceSurfaceSupportKHR"));
  if (!supported)
    return core::Fail(core::StrCat("vulkan: ", impl->ctx->info.name, "'s graphics queue cannot present to this window"));
  VkCommandBufferAllocateInfo alloc{};
  alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  alloc.commandPool = impl->ctx->command_pool;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  PF_TRY(VkCheck(Counted(VkKind::kCommandBuffer, vkAllocateCommandBuffers(impl->device, &alloc, &impl->cmd)),
                 "vkAllocateCommandBuffers"));
  VkFenceCreateInfo fence{};
  fence.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  PF_TRY(VkCheck(Counted(VkKind::kFence, vkCreateFence(impl->device, &fence, nullptr, &impl->fence)), "vkCreateFence"));
  VkSemaphoreCreateInfo sem{};
  sem.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO;
  PF_TRY(VkCheck(Counted(VkKind::kSemaphore, vkCreateSemaphore(impl->device, &sem, nullptr, &impl->acquired)),
                 "vkCreateSemaphore"));
  PF_TRY(impl->Remake());
  return std::unique_ptr<Presenter>(new Presenter(std::move(impl)));
}

Presenter::Presenter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Presenter::~Presenter() = default;

void Presenter::Resize(std::uint32_t width, std::uint32_t height) {
  if (width == impl_->wanted_width && height == impl_->wanted_height && impl_->extent.width == width &&
      impl_->extent.height == height)
    return;
  impl_->wanted_width = width;
  impl_->wanted_height = height;
  impl_->stale = true;
}

core::Status Presenter::Present(std::span<const Image> images, const std::function<void(const PresentOverlay&)>& overlay,
                                bool capture) {
  Impl& p = *impl_;
  PF_TRY(p.WaitFrame());
  if (p.stale) PF_TRY(p.Remake());
  if (p.swapchain == VK_NULL_HANDLE) {
    // Minimized: look again next time.
    p.stale = true;
    return core::Ok();
  }
  std::uint32_t index = 0;
  VkResult acquired = vkAcquireNextImageKHR(p.device, p.swapchain, UINT64_MAX, p.acquired, VK_NULL_HANDLE, &index);
  if (acquired == VK_ERROR_OUT_OF_DATE_KHR) {
    PF_TRY(p.Remake());
    if (p.swapchain == VK_NULL_HANDLE) return core::Ok();
    acquired = vkAcquireNextImageKHR(p.device, p.swapchain, UINT64_MAX, p.acquired, VK_NULL_HANDLE, &index);
  }
  if (acquired == VK_SUBOPTIMAL_KHR) {
    p.stale = true;  // still presentable: remake after this frame
  } else {
    PF_TRY(VkCheck(acquired, "vkAcquireNextImageKHR"));
  }
  const VkImage image = p.images[index];
  const VkExtent2D extent = p.extent;

  // The images, clipped, into the staging buffer (swizzled for BGRA swapchains).
  struct Copy {
    const Image* image;
    VkDeviceSize offset;
    std::uint32_t row_length;
    VkOffset3D at;    // top-left in the window: the clipped rectangle's corner
    VkExtent3D size;  // of the clipped rectangle
  };
  std::vector<Copy> copies;
  VkDeviceSize staged = 0;
  for (const Image& im : images) {
    if (im.rgba.size() < static_cast<std::size_t>(im.width) * im.height * 4)
      return core::Fail(core::StrCat("render: Present: an image of ", im.width, "x", im.height, " needs ",
                                     static_cast<std::size_t>(im.width) * im.height * 4, " bytes, got ", im.rgba.size()));
    const std::int64_t x0 = std::max<std::int64_t>(im.x, 0), y0 = std::max<std::int64_t>(im.y, 0);
    const std::int64_t x1 = std::min<std::int64_t>(static_cast<std::int64_t>(im.x) + im.width, extent.width);
    const std::int64_t y1 = std::min<std::int64_t>(static_cast<std::int64_t>(im.y) + im.height, extent.height);
    if (x1 <= x0 || y1 <= y0) continue;
    copies.push_back({&im, staged, static_cast<std::uint32_t>(x1 - x0),
                      {static_cast<std::int32_t>(x0), static_cast<std::int32_t>(y0), 0},
                      {static_cast<std::uint32_t>(x1 - x0), static_cast<std::uint32_t>(y1 - y0), 1}});
    staged += static_cast<VkDeviceSize>(x1 - x0) * static_cast<VkDeviceSize>(y1 - y0) * 4;
  }
  if (staged > 0) {
    PF_TRY(p.EnsureBuffer(staged, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &p.staging, &p.staging_memory, &p.staging_size));
    auto* base = static_cast<std::uint8_t*>(p.staging_memory.mapped);
    for (const Copy& copy : copies) {
      const Image& im = *copy.image;
      const std::int64_t x0 = copy.at.x, y0 = copy.at.y;
      const std::size_t row_bytes = static_cast<std::size_t>(copy.size.width) * 4;
      for (std::int64_t y = y0; y < y0 + copy.size.height; ++y) {
        const std::uint8_t* src = im.rgba.data() + (static_cast<std::size_t>(y - im.y) * im.width + static_cast<std::size_t>(x0 - im.x)) * 4;
        std::uint8_t* dst = base + copy.offset + static_cast<std::size_t>(y - y0) * row_bytes;
        std::memcpy(dst, src, row_bytes);
        if (p.bgra)
          for (std::size_t i = 0; i < row_bytes; i += 4) std::swap(dst[i], dst[i + 2]);
      }
    }
  }
  const bool read_back = capture && p.can_capture;
  const VkDeviceSize frame_bytes = static_cast<VkDeviceSize>(extent.width) * extent.height * 4;
  if (read_back)
    PF_TRY(p.EnsureBuffer(frame_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &p.readback, &p.readback_memory, &p.readback_size));

  VkCommandBuffer cmd = p.cmd;
  PF_TRY(VkCheck(vkResetCommandBuffer(cmd, 0), "vkResetCommandBuffer"));
  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  PF_TRY(VkCheck(vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer"));
  const VkImageMemoryBarrier to_transfer =
      ImageBarrier(image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0, VK_ACCESS_TRANSFER_WRITE_BIT);
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, nullptr, 0, nullptr, 1,
                       &to_transfer);
  VkClearColorValue clear{};
  for (int i = 0; i < 4; ++i) clear.float32[i] = p.config.clear[static_cast<std::size_t>(i)];
  const VkImageSubresourceRange range{VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
  vkCmdClearColorImage(cmd, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &clear, 1, &range);
  if (!copies.empty()) {
    const VkImageMemoryBarrier after_clear = ImageBarrier(image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                                          VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_ACCESS_TRANSFER_WRITE_BIT,
                                                          VK_ACCESS_TRANSFER_WRITE_BIT);
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, nullptr, 0, nullptr, 1,
                         &after_clear);
    std::vector<VkBufferImageCopy> regions;
    for (const Copy& c : copies) {
      VkBufferImageCopy r{};
      r.bufferOffset = c.offset;
      r.bufferRowLength = c.row_length;
      r.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
      r.imageOffset = c.at;
      r.imageExtent = c.size;
      regions.push_back(r);
    }
    vkCmdCopyBufferToImage(cmd, p.staging, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                           static_cast<std::uint32_t>(regions.size()), regions.data());
  }
  VkRenderPassBeginInfo rp{};
  rp.sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO;
  rp.renderPass = p.render_pass;
  rp.framebuffer = p.framebuffers[index];
  rp.renderArea = {{0, 0}, extent};
  vkCmdBeginRenderPass(cmd, &rp, VK_SUBPASS_CONTENTS_INLINE);
  if (overlay) overlay(PresentOverlay{cmd, p.render_pass, extent});
  vkCmdEndRenderPass(cmd);
  if (read_back) {
    const VkImageMemoryBarrier to_src =
        ImageBarrier(image, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                     VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, nullptr,
                         0, nullptr, 1, &to_src);
    VkBufferImageCopy r{};
    r.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    r.imageExtent = {extent.width, extent.height, 1};
    vkCmdCopyImageToBuffer(cmd, image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, p.readback, 1, &r);
    const VkImageMemoryBarrier to_present = ImageBarrier(image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                                                         VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_ACCESS_TRANSFER_READ_BIT, 0);
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, nullptr, 0,
                         nullptr, 1, &to_present);
    BarrierTransferToHost(cmd, p.readback);
  }
  PF_TRY(VkCheck(vkEndCommandBuffer(cmd), "vkEndCommandBuffer"));

  const VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
  VkSubmitInfo submit{};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.waitSemaphoreCount = 1;
  submit.pWaitSemaphores = &p.acquired;
  submit.pWaitDstStageMask = &wait_stage;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cmd;
  submit.signalSemaphoreCount = 1;
  submit.pSignalSemaphores = &p.rendered[index];
  PF_TRY(VkCheck(vkQueueSubmit(p.ctx->queue, 1, &submit, p.fence), "vkQueueSubmit"));
  p.submitted = true;

  VkPresentInfoKHR present{};
  present.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR;
  present.waitSemaphoreCount = 1;
  present.pWaitSemaphores = &p.rendered[index];
  present.swapchainCount = 1;
  present.pSwapchains = &p.swapchain;
  present.pImageIndices = &index;
  const VkResult presented = vkQueuePresentKHR(p.ctx->queue, &present);
  if (presented == VK_ERROR_OUT_OF_DATE_KHR || presented == VK_SUBOPTIMAL_KHR) {
    p.stale = true;
  } else {
    PF_TRY(VkCheck(presented, "vkQueuePresentKHR"));
  }

  if (read_back) {
    PF_TRY(p.WaitFrame());
    p.captured.resize(static_cast<std::size_t>(frame_bytes));
    std::memcpy(p.captured.data(), p.readback_memory.mapped, p.captured.size());
    if (p.bgra)
      for (std::size_t i = 0; i < p.captured.size(); i += 4) std::swap(p.captured[i], p.captured[i + 2]);
    p.captured_width = extent.width;
    p.captured_height = extent.height;
  } else if (capture) {
    return core::Fail("vulkan: the window surface does not allow reading its images back (no TRANSFER_SRC)");
  }
  return core::Ok();
}

std::uint32_t Presenter::width() const { return impl_->swapchain ? impl_->extent.width : 0; }
std::uint32_t Presenter::height() const { return impl_->swapchain ? impl_->extent.height : 0; }
std::uint32_t Presenter::image_count() const { return static_cast<std::uint32_t>(impl_->images.size()); }
std::uint32_t Presenter::min_image_count() const { return impl_->min_images; }
VkFormat Presenter::format() const { return impl_->format; }
VkRenderPass Presenter::render_pass() const { return impl_->render_pass; }
std::span<const std::uint8_t> Presenter::captured() const { return impl_->captured; }
std::uint32_t Presenter::captured_width() const { return impl_->captured_width; }
std::uint32_t Presenter::captured_height() const { return impl_->captured_height; }

}  // namespace pf::render
