#include "pf/render/batch_renderer.h"

#include <chrono>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <utility>

#include "pf/core/check.h"
#include "pf/core/log.h"
#include "pf/render/camera.h"
#include "vulkan_internal.h"

namespace pf::render {
namespace shaders {
std::span<const std::uint32_t> BatchVertSpirv();
std::span<const std::uint32_t> BatchFragSpirv();
}  // namespace shaders

namespace {

// Interleaved vertex of the shared vertex buffer (locations 0 and 1 of batch.vert).
struct Vertex {
  float position[3];
  float normal[3];
};

// One per visible instance per env, std430 layout of `Instance` in batch.vert.
struct InstanceGpu {
  float X_WG_scaled[16];  // column-major
  float normal_W[12];     // 3 columns, xyz + padding
  float colour[4];
  std::uint32_t ids[4];   // segmentation, semantic, 0, 0
};
static_assert(sizeof(InstanceGpu) == 144);

// Push constants of both shaders (`View`).
struct ViewPush {
  float clip_from_world[16];  // column-major
  float z_row_CW[4];
  float light_dir_W[4];
  float light[4];
};
static_assert(sizeof(ViewPush) == 112);

struct MeshRange {
  std::uint32_t first_index = 0;
  std::uint32_t index_count = 0;
  std::int32_t vertex_offset = 0;
  core::Vec4 colour;
};

struct DrawGroup {
  std::uint32_t mesh = 0;
  std::uint32_t first_instance = 0;
  std::uint32_t count = 0;
};

// Output images: colour, linear depth, instance id, semantic id.
constexpr std::array<VkFormat, 4> kOutputFormats = {
    VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_R32_SFLOAT, VK_FORMAT_R32_UINT, VK_FORMAT_R32_UINT};
constexpr std::array<std::uint32_t, 4> kOutputTexelBytes = {4, 4, 4, 4};
constexpr std::uint32_t kNumOutputs = 4;
constexpr std::size_t kInitialInstanceCapacity = 256;

core::Location FieldLocation(std::string field) {
  core::Location where;
  where.field = std::move(field);
  return where;
}

void StoreMatrix(const core::Mat4& m, float* out16) {
  for (int c = 0; c < 4; ++c)
    for (int r = 0; r < 4; ++r) out16[c * 4 + r] = static_cast<float>(m(r, c));
}

}  // namespace

struct BatchRenderer::Impl {
  std::shared_ptr<VulkanContext> context;  // first: outlives every member below
  VulkanContext::Impl* ctx = nullptr;
  VkDevice device = VK_NULL_HANDLE;

  // Meshes: one vertex buffer, one index buffer, one memory block.
  std::vector<MeshRange> meshes;
  VkBuffer vertex_buffer = VK_NULL_HANDLE;
  VkBuffer index_buffer = VK_NULL_HANDLE;
  MemoryBlock mesh_memory;

  VkFormat depth_format = VK_FORMAT_UNDEFINED;
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout pipeline_layout = VK_NULL_HANDLE;
  VkRenderPass render_pass = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkDescriptorPool descriptor_pool = VK_NULL_HANDLE;
  VkDescriptorSet descriptor_set = VK_NULL_HANDLE;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;

  // Per-frame instance records (host visible, rewritten each frame).
  VkBuffer instance_buffer = VK_NULL_HANDLE;
  MemoryBlock instance_memory;
  std::size_t instance_capacity = 0;

  // Render targets for num_views × width × height.
  std::uint32_t num_views = 0, width = 0, height = 0;
  std::array<VkImage, kNumOutputs> images{};
  VkImage depth_image = VK_NULL_HANDLE;
  MemoryBlock target_memory;
  std::vector<VkImageView> layer_views;  // [num_views × kNumOutputs]
  VkImageView depth_view = VK_NULL_HANDLE;
  std::vector<VkFramebuffer> framebuffers;  // [num_views]
  VkBuffer readback_buffer = VK_NULL_HANDLE;
  MemoryBlock readback_memory;
  std::array<VkDeviceSize, kNumOutputs> readback_offsets{};

  // Host copies of the outputs.
  std::vector<std::uint8_t> colour;    // [num_views × H × W × 4]
  std::vector<float> depth;            // [num_views × H × W]
  std::vector<std::uint32_t> instance; // [num_views × H × W]
  std::vector<std::uint32_t> semantic; // [num_views × H × W]

  // Scratch reused every frame.
  std::vector<std::uint32_t> order;       // instance indices sorted by mesh
  std::vector<DrawGroup> groups;          // draws, env by env
  std::vector<std::uint32_t> env_groups;  // [num_envs + 1] first group of each env

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();

  core::Status Init(const std::vector<RenderMeshInput>& inputs);
  core::Status UploadMeshes(const std::vector<RenderMeshInput>& inputs);
  core::Status CreatePipeline();
  core::Status EnsureInstanceCapacity(std::size_t records);
  core::Status EnsureTargets(std::uint32_t views, std::uint32_t w, std::uint32_t h);
  void DestroyTargets();
  core::Status CreateBuffer(VkDeviceSize size, VkBufferUsageFlags usage, VkBuffer* out) const;
  core::Status SubmitAndWait();
};

core::Status BatchRenderer::Impl::CreateBuffer(VkDeviceSize size, VkBufferUsageFlags usage,
                                               VkBuffer* out) const {
  VkBufferCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = std::max<VkDeviceSize>(size, 4);
  info.usage = usage;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  return VkCheck(vkCreateBuffer(device, &info, nullptr, out), "vkCreateBuffer");
}

core::Status BatchRenderer::Impl::SubmitAndWait() {
  VkSubmitInfo submit{};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cmd;
  PF_TRY(VkCheck(vkQueueSubmit(ctx->queue, 1, &submit, fence), "vkQueueSubmit"));
  PF_TRY(VkCheck(vkWaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences"));
  return VkCheck(vkResetFences(device, 1, &fence), "vkResetFences");
}

core::Status BatchRenderer::Impl::Init(const std::vector<RenderMeshInput>& inputs) {
  ctx = &context->impl();
  device = ctx->device;

  VkCommandBufferAllocateInfo alloc{};
  alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  alloc.commandPool = ctx->command_pool;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  PF_TRY(VkCheck(vkAllocateCommandBuffers(device, &alloc, &cmd), "vkAllocateCommandBuffers"));
  VkFenceCreateInfo fence_info{};
  fence_info.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  PF_TRY(VkCheck(vkCreateFence(device, &fence_info, nullptr, &fence), "vkCreateFence"));

  for (VkFormat f : {VK_FORMAT_D32_SFLOAT, VK_FORMAT_X8_D24_UNORM_PACK32, VK_FORMAT_D32_SFLOAT_S8_UINT,
                     VK_FORMAT_D24_UNORM_S8_UINT}) {
    VkFormatProperties props;
    vkGetPhysicalDeviceFormatProperties(ctx->physical_device, f, &props);
    if (props.optimalTilingFeatures & VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT) {
      depth_format = f;
      break;
    }
  }
  if (depth_format == VK_FORMAT_UNDEFINED)
    return core::Fail("vulkan: the device supports no depth attachment format");
  for (VkFormat f : kOutputFormats) {
    VkFormatProperties props;
    vkGetPhysicalDeviceFormatProperties(ctx->physical_device, f, &props);
    if (!(props.optimalTilingFeatures & VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT))
      return core::Fail(core::StrCat("vulkan: format ", static_cast<int>(f),
                                     " is not usable as a colour attachment"));
  }
  if (ctx->properties.limits.maxColorAttachments < kNumOutputs)
    return core::Fail("vulkan: the device allows fewer than 4 colour attachments");

  PF_TRY(UploadMeshes(inputs));
  PF_TRY(CreatePipeline());
  return EnsureInstanceCapacity(kInitialInstanceCapacity);
}

core::Status BatchRenderer::Impl::UploadMeshes(const std::vector<RenderMeshInput>& inputs) {
  std::vector<Vertex> vertices;
  std::vector<std::uint32_t> indices;
  for (std::size_t m = 0; m < inputs.size(); ++m) {
    const assets::MeshData& mesh = inputs[m].mesh.get();
      core::Location where = FieldLocation(core::StrCat("meshes[", m, "]"));
    where.file = mesh.source.string();
    const std::size_t nv = mesh.num_vertices();
    if (mesh.positions.size() % 3 != 0 || mesh.indices.size() % 3 != 0)
      return core::Fail("positions and indices must come in threes", where);
    if (mesh.normals.size() != mesh.positions.size())
      return core::Fail(core::StrCat("has ", mesh.normals.size() / 3, " normals for ", nv,
                                     " vertices"), where);
    for (std::uint32_t i : mesh.indices)
      if (i >= nv) return core::Fail(core::StrCat("index ", i, " out of range (", nv, " vertices)"), where);
    MeshRange range;
    range.first_index = static_cast<std::uint32_t>(indices.size());
    range.index_count = static_cast<std::uint32_t>(mesh.indices.size());
    range.vertex_offset = static_cast<std::int32_t>(vertices.size());
    range.colour = inputs[m].colour;
    meshes.push_back(range);
    for (std::size_t v = 0; v < nv; ++v) {
      Vertex vertex;
      std::memcpy(vertex.position, &mesh.positions[3 * v], sizeof(vertex.position));
      std::memcpy(vertex.normal, &mesh.normals[3 * v], sizeof(vertex.normal));
      vertices.push_back(vertex);
    }
    indices.insert(indices.end(), mesh.indices.begin(), mesh.indices.end());
  }
  const VkDeviceSize vertex_bytes = vertices.size() * sizeof(Vertex);
  const VkDeviceSize index_bytes = indices.size() * sizeof(std::uint32_t);
  PF_TRY(CreateBuffer(vertex_bytes, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                      &vertex_buffer));
  PF_TRY(CreateBuffer(index_bytes, VK_BUFFER_USAGE_INDEX_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                      &index_buffer));
  const std::array<VkBuffer, 2> buffers = {vertex_buffer, index_buffer};
  PF_ASSIGN_OR_RETURN(mesh_memory,
                      AllocateBuffers(*ctx, buffers, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                          VK_MEMORY_PROPERTY_HOST_COHERENT_BIT));
  const bool direct = (mesh_memory.flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
                      (mesh_memory.flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  if (direct) {  // unified memory (lavapipe, integrated GPUs): write in place
    auto* base = static_cast<std::uint8_t*>(mesh_memory.mapped);
    if (vertex_bytes) std::memcpy(base + mesh_memory.offsets[0], vertices.data(), vertex_bytes);
    if (index_bytes) std::memcpy(base + mesh_memory.offsets[1], indices.data(), index_bytes);
    return core::Ok();
  }
  // Discrete GPU: one staging buffer, two copies, one submission.
  VkBuffer staging = VK_NULL_HANDLE;
  PF_TRY(CreateBuffer(vertex_bytes + index_bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &staging));
  struct StagingGuard {
    VkDevice device;
    VkBuffer buffer;
    ~StagingGuard() { vkDestroyBuffer(device, buffer, nullptr); }
  } guard{device, staging};
  PF_ASSIGN_OR_RETURN(MemoryBlock staging_memory,
                      AllocateBuffers(*ctx, std::span<const VkBuffer>(&staging, 1),
                                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                          VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0));
  auto* base = static_cast<std::uint8_t*>(staging_memory.mapped);
  if (vertex_bytes) std::memcpy(base, vertices.data(), vertex_bytes);
  if (index_bytes) std::memcpy(base + vertex_bytes, indices.data(), index_bytes);
  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  PF_TRY(VkCheck(vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer"));
  if (vertex_bytes) {
    const VkBufferCopy copy{0, 0, vertex_bytes};
    vkCmdCopyBuffer(cmd, staging, vertex_buffer, 1, &copy);
  }
  if (index_bytes) {
    const VkBufferCopy copy{vertex_bytes, 0, index_bytes};
    vkCmdCopyBuffer(cmd, staging, index_buffer, 1, &copy);
  }
  VkMemoryBarrier barrier{};
  barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_VERTEX_ATTRIBUTE_READ_BIT | VK_ACCESS_INDEX_READ_BIT;
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_VERTEX_INPUT_BIT, 0,
                       1, &barrier, 0, nullptr, 0, nullptr);
  PF_TRY(VkCheck(vkEndCommandBuffer(cmd), "vkEndCommandBuffer"));
  return SubmitAndWait();
}

core::Status BatchRenderer::Impl::CreatePipeline() {
  // Descriptor set: the instance storage buffer.
  VkDescriptorSetLayoutBinding binding{};
  binding.binding = 0;
  binding.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
  binding.descriptorCount = 1;
  binding.stageFlags = VK_SHADER_STAGE_VERTEX_BIT;
  VkDescriptorSetLayoutCreateInfo set_info{};
  set_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
  set_info.bindingCount = 1;
  set_info.pBindings = &binding;
  PF_TRY(VkCheck(vkCreateDescriptorSetLayout(device, &set_info, nullptr, &set_layout),
                 "vkCreateDescriptorSetLayout"));
  VkPushConstantRange push{};
  push.stageFlags = VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT;
  push.offset = 0;
  push.size = sizeof(ViewPush);
  VkPipelineLayoutCreateInfo layout_info{};
  layout_info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  layout_info.setLayoutCount = 1;
  layout_info.pSetLayouts = &set_layout;
  layout_info.pushConstantRangeCount = 1;
  layout_info.pPushConstantRanges = &push;
  PF_TRY(VkCheck(vkCreatePipelineLayout(device, &layout_info, nullptr, &pipeline_layout),
                 "vkCreatePipelineLayout"));

  VkDescriptorPoolSize pool_size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1};
  VkDescriptorPoolCreateInfo pool_info{};
  pool_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
  pool_info.maxSets = 1;
  pool_info.poolSizeCount = 1;
  pool_info.pPoolSizes = &pool_size;
  PF_TRY(VkCheck(vkCreateDescriptorPool(device, &pool_info, nullptr, &descriptor_pool),
                 "vkCreateDescriptorPool"));
  VkDescriptorSetAllocateInfo ds_alloc{};
  ds_alloc.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
  ds_alloc.descriptorPool = descriptor_pool;
  ds_alloc.descriptorSetCount = 1;
  ds_alloc.pSetLayouts = &set_layout;
  PF_TRY(VkCheck(vkAllocateDescriptorSets(device, &ds_alloc, &descriptor_set),
                 "vkAllocateDescriptorSets"));

  // Render pass: 4 outputs (cleared, kept, left ready for transfer) + depth.
  std::array<VkAttachmentDescription, kNumOutputs + 1> attachments{};
  for (std::uint32_t i = 0; i <= kNumOutputs; ++i) {
    VkAttachmentDescription& a = attachments[i];
    const bool is_depth = i == kNumOutputs;
    a.format = is_depth ? depth_format : kOutputFormats[i];
    a.samples = VK_SAMPLE_COUNT_1_BIT;
    a.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
    a.storeOp = is_depth ? VK_ATTACHMENT_STORE_OP_DONT_CARE : VK_ATTACHMENT_STORE_OP_STORE;
    a.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
    a.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
    a.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    a.finalLayout = is_depth ? VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL
                             : VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
  }
  std::array<VkAttachmentReference, kNumOutputs> colour_refs{};
  for (std::uint32_t i = 0; i < kNumOutputs; ++i)
    colour_refs[i] = {i, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
  const VkAttachmentReference depth_ref{kNumOutputs, VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL};
  VkSubpassDescription subpass{};
  subpass.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS;
  subpass.colorAttachmentCount = kNumOutputs;
  subpass.pColorAttachments = colour_refs.data();
  subpass.pDepthStencilAttachment = &depth_ref;
  std::array<VkSubpassDependency, 2> deps{};
  // Earlier passes (the shared depth image) and earlier readback copies before this pass.
  deps[0].srcSubpass = VK_SUBPASS_EXTERNAL;
  deps[0].dstSubpass = 0;
  deps[0].srcStageMask = VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  deps[0].dstStageMask = VK_PIPELINE_STAGE_EARLY_FRAGMENT_TESTS_BIT |
                         VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT |
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  deps[0].srcAccessMask = VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT;
  deps[0].dstAccessMask = VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_READ_BIT |
                          VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT |
                          VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
  // Outputs written before the readback copies.
  deps[1].srcSubpass = 0;
  deps[1].dstSubpass = VK_SUBPASS_EXTERNAL;
  deps[1].srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  deps[1].dstStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT;
  deps[1].srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
  deps[1].dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
  VkRenderPassCreateInfo rp_info{};
  rp_info.sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO;
  rp_info.attachmentCount = static_cast<std::uint32_t>(attachments.size());
  rp_info.pAttachments = attachments.data();
  rp_info.subpassCount = 1;
  rp_info.pSubpasses = &subpass;
  rp_info.dependencyCount = static_cast<std::uint32_t>(deps.size());
  rp_info.pDependencies = deps.data();
  PF_TRY(VkCheck(vkCreateRenderPass(device, &rp_info, nullptr, &render_pass), "vkCreateRenderPass"));

  // Shaders, embedded at build time.
  auto make_module = [&](std::span<const std::uint32_t> words, VkShaderModule* out) {
    VkShaderModuleCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
    info.codeSize = words.size_bytes();
    info.pCode = words.data();
    return VkCheck(vkCreateShaderModule(device, &info, nullptr, out), "vkCreateShaderModule");
  };
  VkShaderModule vert = VK_NULL_HANDLE, frag = VK_NULL_HANDLE;
  struct ModuleGuard {
    VkDevice device;
    VkShaderModule* modules[2];
    ~ModuleGuard() {
      for (VkShaderModule* m : modules)
        if (*m != VK_NULL_HANDLE) vkDestroyShaderModule(device, *m, nullptr);
    }
  } module_guard{device, {&vert, &frag}};
  PF_TRY(make_module(shaders::BatchVertSpirv(), &vert));
  PF_TRY(make_module(shaders::BatchFragSpirv(), &frag));
  std::array<VkPipelineShaderStageCreateInfo, 2> stages{};
  stages[0].sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  stages[0].stage = VK_SHADER_STAGE_VERTEX_BIT;
  stages[0].module = vert;
  stages[0].pName = "main";
  stages[1].sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  stages[1].stage = VK_SHADER_STAGE_FRAGMENT_BIT;
  stages[1].module = frag;
  stages[1].pName = "main";

  const VkVertexInputBindingDescription vertex_binding{0, sizeof(Vertex), VK_VERTEX_INPUT_RATE_VERTEX};
  const std::array<VkVertexInputAttributeDescription, 2> vertex_attrs = {{
      {0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(Vertex, position)},
      {1, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(Vertex, normal)},
  }};
  VkPipelineVertexInputStateCreateInfo vertex_input{};
  vertex_input.sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO;
  vertex_input.vertexBindingDescriptionCount = 1;
  vertex_input.pVertexBindingDescriptions = &vertex_binding;
  vertex_input.vertexAttributeDescriptionCount = static_cast<std::uint32_t>(vertex_attrs.size());
  vertex_input.pVertexAttributeDescriptions = vertex_attrs.data();
  VkPipelineInputAssemblyStateCreateInfo assembly{};
  assembly.sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO;
  assembly.topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST;
  VkPipelineViewportStateCreateInfo viewport{};
  viewport.sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO;
  viewport.viewportCount = 1;
  viewport.scissorCount = 1;
  VkPipelineRasterizationStateCreateInfo raster{};
  raster.sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO;
  raster.polygonMode = VK_POLYGON_MODE_FILL;
  // Counter-clockwise meshes stay counter-clockwise (positive area) under ClipFromCamera.
  raster.cullMode = VK_CULL_MODE_BACK_BIT;
  raster.frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE;
  raster.lineWidth = 1.0f;
  VkPipelineMultisampleStateCreateInfo multisample{};
  multisample.sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO;
  multisample.rasterizationSamples = VK_SAMPLE_COUNT_1_BIT;
  VkPipelineDepthStencilStateCreateInfo depth_state{};
  depth_state.sType = VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO;
  depth_state.depthTestEnable = VK_TRUE;
  depth_state.depthWriteEnable = VK_TRUE;
  depth_state.depthCompareOp = VK_COMPARE_OP_LESS;
  std::array<VkPipelineColorBlendAttachmentState, kNumOutputs> blend{};
  for (auto& b : blend)
    b.colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT |
                       VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT;
  VkPipelineColorBlendStateCreateInfo blend_state{};
  blend_state.sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO;
  blend_state.attachmentCount = kNumOutputs;
  blend_state.pAttachments = blend.data();
  const std::array<VkDynamicState, 2> dynamic_states = {VK_DYNAMIC_STATE_VIEWPORT,
                                                        VK_DYNAMIC_STATE_SCISSOR};
  VkPipelineDynamicStateCreateInfo dynamic{};
  dynamic.sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO;
  dynamic.dynamicStateCount = static_cast<std::uint32_t>(dynamic_states.size());
  dynamic.pDynamicStates = dynamic_states.data();

  VkGraphicsPipelineCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO;
  info.stageCount = static_cast<std::uint32_t>(stages.size());
  info.pStages = stages.data();
  info.pVertexInputState = &vertex_input;
  info.pInputAssemblyState = &assembly;
  info.pViewportState = &viewport;
  info.pRasterizationState = &raster;
  info.pMultisampleState = &multisample;
  info.pDepthStencilState = &depth_state;
  info.pColorBlendState = &blend_state;
  info.pDynamicState = &dynamic;
  info.layout = pipeline_layout;
  info.renderPass = render_pass;
  info.subpass = 0;
  return VkCheck(vkCreateGraphicsPipelines(device, VK_NULL_HANDLE, 1, &info, nullptr, &pipeline),
                 "vkCreateGraphicsPipelines");
}

core::Status BatchRenderer::Impl::EnsureInstanceCapacity(std::size_t records) {
  if (records <= instance_capacity && instance_buffer != VK_NULL_HANDLE) return core::Ok();
  const std::size_t capacity = std::max(records, std::max(kInitialInstanceCapacity, 2 * instance_capacity));
  if (instance_buffer != VK_NULL_HANDLE) {
    vkDestroyBuffer(device, instance_buffer, nullptr);
    instance_buffer = VK_NULL_HANDLE;
  }
  instance_memory.Free();
  PF_TRY(CreateBuffer(capacity * sizeof(InstanceGpu), VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                      &instance_buffer));
  PF_ASSIGN_OR_RETURN(instance_memory,
                      AllocateBuffers(*ctx, std::span<const VkBuffer>(&instance_buffer, 1),
                                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                          VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                      VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT));
  instance_capacity = capacity;
  VkDescriptorBufferInfo buffer_info{instance_buffer, 0, VK_WHOLE_SIZE};
  VkWriteDescriptorSet write{};
  write.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
  write.dstSet = descriptor_set;
  write.dstBinding = 0;
  write.descriptorCount = 1;
  write.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
  write.pBufferInfo = &buffer_info;
  vkUpdateDescriptorSets(device, 1, &write, 0, nullptr);
  return core::Ok();
}

void BatchRenderer::Impl::DestroyTargets() {
  for (VkFramebuffer fb : framebuffers) vkDestroyFramebuffer(device, fb, nullptr);
  framebuffers.clear();
  for (VkImageView v : layer_views) vkDestroyImageView(device, v, nullptr);
  layer_views.clear();
  if (depth_view != VK_NULL_HANDLE) vkDestroyImageView(device, depth_view, nullptr);
  depth_view = VK_NULL_HANDLE;
  for (VkImage& image : images) {
    if (image != VK_NULL_HANDLE) vkDestroyImage(device, image, nullptr);
    image = VK_NULL_HANDLE;
  }
  if (depth_image != VK_NULL_HANDLE) vkDestroyImage(device, depth_image, nullptr);
  depth_image = VK_NULL_HANDLE;
  target_memory.Free();
  if (readback_buffer != VK_NULL_HANDLE) vkDestroyBuffer(device, readback_buffer, nullptr);
  readback_buffer = VK_NULL_HANDLE;
  readback_memory.Free();
  num_views = width = height = 0;
}

core::Status BatchRenderer::Impl::EnsureTargets(std::uint32_t views, std::uint32_t w,
                                                std::uint32_t h) {
  if (views == num_views && w == width && h == height) return core::Ok();
  const VkPhysicalDeviceLimits& limits = ctx->properties.limits;
  if (views > limits.maxImageArrayLayers)
    return core::Fail(core::StrCat("render: ", views, " views exceed the device's ",
                                   limits.maxImageArrayLayers, " image array layers"));
  if (w > limits.maxFramebufferWidth || h > limits.maxFramebufferHeight)
    return core::Fail(core::StrCat("render: view size ", w, "x", h, " exceeds the device's ",
                                   limits.maxFramebufferWidth, "x", limits.maxFramebufferHeight));
  DestroyTargets();

  auto make_image = [&](VkFormat format, std::uint32_t layers, VkImageUsageFlags usage, VkImage* out) {
    VkImageCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO;
    info.imageType = VK_IMAGE_TYPE_2D;
    info.format = format;
    info.extent = {w, h, 1};
    info.mipLevels = 1;
    info.arrayLayers = layers;
    info.samples = VK_SAMPLE_COUNT_1_BIT;
    info.tiling = VK_IMAGE_TILING_OPTIMAL;
    info.usage = usage;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    return VkCheck(vkCreateImage(device, &info, nullptr, out), "vkCreateImage");
  };
  std::array<VkImage, kNumOutputs + 1> all{};
  for (std::uint32_t i = 0; i < kNumOutputs; ++i) {
    PF_TRY(make_image(kOutputFormats[i], views,
                      VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, &images[i]));
    all[i] = images[i];
  }
  PF_TRY(make_image(depth_format, 1, VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT, &depth_image));
  all[kNumOutputs] = depth_image;
  PF_ASSIGN_OR_RETURN(target_memory,
                      AllocateImages(*ctx, all, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0));

  auto make_view = [&](VkImage image, VkFormat format, VkImageAspectFlags aspect,
                       std::uint32_t layer, VkImageView* out) {
    VkImageViewCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO;
    info.image = image;
    info.viewType = VK_IMAGE_VIEW_TYPE_2D;
    info.format = format;
    info.subresourceRange = {aspect, 0, 1, layer, 1};
    return VkCheck(vkCreateImageView(device, &info, nullptr, out), "vkCreateImageView");
  };
  PF_TRY(make_view(depth_image, depth_format, VK_IMAGE_ASPECT_DEPTH_BIT, 0, &depth_view));
  layer_views.assign(static_cast<std::size_t>(views) * kNumOutputs, VK_NULL_HANDLE);
  framebuffers.assign(views, VK_NULL_HANDLE);
  for (std::uint32_t v = 0; v < views; ++v) {
    std::array<VkImageView, kNumOutputs + 1> attachments{};
    for (std::uint32_t i = 0; i < kNumOutputs; ++i) {
      VkImageView* view = &layer_views[static_cast<std::size_t>(v) * kNumOutputs + i];
      PF_TRY(make_view(images[i], kOutputFormats[i], VK_IMAGE_ASPECT_COLOR_BIT, v, view));
      attachments[i] = *view;
    }
    attachments[kNumOutputs] = depth_view;
    VkFramebufferCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO;
    info.renderPass = render_pass;
    info.attachmentCount = static_cast<std::uint32_t>(attachments.size());
    info.pAttachments = attachments.data();
    info.width = w;
    info.height = h;
    info.layers = 1;
    PF_TRY(VkCheck(vkCreateFramebuffer(device, &info, nullptr, &framebuffers[v]), "vkCreateFramebuffer"));
  }

  const VkDeviceSize pixels = static_cast<VkDeviceSize>(views) * w * h;
  VkDeviceSize total = 0;
  for (std::uint32_t i = 0; i < kNumOutputs; ++i) {
    readback_offsets[i] = total;
    total += pixels * kOutputTexelBytes[i];
  }
  PF_TRY(CreateBuffer(total, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback_buffer));
  PF_ASSIGN_OR_RETURN(readback_memory,
                      AllocateBuffers(*ctx, std::span<const VkBuffer>(&readback_buffer, 1),
                                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                                      VK_MEMORY_PROPERTY_HOST_CACHED_BIT));
  colour.assign(pixels * 4, 0);
  depth.assign(pixels, 0.0f);
  instance.assign(pixels, 0);
  semantic.assign(pixels, 0);
  num_views = views;
  width = w;
  height = h;
  return core::Ok();
}

BatchRenderer::Impl::~Impl() {
  if (device == VK_NULL_HANDLE) return;
  vkDeviceWaitIdle(device);
  DestroyTargets();
  if (instance_buffer != VK_NULL_HANDLE) vkDestroyBuffer(device, instance_buffer, nullptr);
  if (vertex_buffer != VK_NULL_HANDLE) vkDestroyBuffer(device, vertex_buffer, nullptr);
  if (index_buffer != VK_NULL_HANDLE) vkDestroyBuffer(device, index_buffer, nullptr);
  if (pipeline != VK_NULL_HANDLE) vkDestroyPipeline(device, pipeline, nullptr);
  if (render_pass != VK_NULL_HANDLE) vkDestroyRenderPass(device, render_pass, nullptr);
  if (pipeline_layout != VK_NULL_HANDLE) vkDestroyPipelineLayout(device, pipeline_layout, nullptr);
  if (descriptor_pool != VK_NULL_HANDLE) vkDestroyDescriptorPool(device, descriptor_pool, nullptr);
  if (set_layout != VK_NULL_HANDLE) vkDestroyDescriptorSetLayout(device, set_layout, nullptr);
  if (fence != VK_NULL_HANDLE) vkDestroyFence(device, fence, nullptr);
  if (cmd != VK_NULL_HANDLE) vkFreeCommandBuffers(device, ctx->command_pool, 1, &cmd);
}

// ---------------------------------------------------------------------------------------

core::Result<std::unique_ptr<BatchRenderer>> BatchRenderer::Create(
    std::shared_ptr<VulkanContext> context, const std::vector<RenderMeshInput>& meshes) {
  if (!context) return core::Fail("render: BatchRenderer::Create needs a VulkanContext");
  auto impl = std::make_unique<Impl>();
  impl->context = std::move(context);
  PF_TRY(impl->Init(meshes));
  return std::unique_ptr<BatchRenderer>(new BatchRenderer(std::move(impl)));
}

core::Result<std::unique_ptr<BatchRenderer>> BatchRenderer::Create(
    const RenderConfig& config, const std::vector<RenderMeshInput>& meshes) {
  PF_ASSIGN_OR_RETURN(std::shared_ptr<VulkanContext> context, VulkanContext::Create(config));
  return Create(std::move(context), meshes);
}

BatchRenderer::BatchRenderer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BatchRenderer::~BatchRenderer() = default;

namespace {

core::Status CheckSnapshot(const core::RenderSnapshot& s, std::size_t num_meshes) {
  const std::size_t envs = s.num_envs, n = s.num_instances();
  const std::size_t views = envs * s.num_cameras;
  auto size_error = [](const char* field, std::size_t got, std::size_t want) {
    return core::Fail(core::StrCat("render: snapshot.", field, " has ", got, " entries, expected ", want),
                      FieldLocation(field));
  };
  if (views == 0) return core::Fail("render: snapshot has no views (num_envs × num_cameras = 0)");
  if (s.body_poses.size() != envs * s.num_bodies * core::kPoseSize)
    return size_error("body_poses", s.body_poses.size(), envs * s.num_bodies * core::kPoseSize);
  if (s.segmentation_ids.size() != envs * n)
    return size_error("segmentation_ids", s.segmentation_ids.size(), envs * n);
  if (s.instance_visible.size() != envs * n)
    return size_error("instance_visible", s.instance_visible.size(), envs * n);
  if (s.camera_intrinsics.size() != views)
    return size_error("camera_intrinsics", s.camera_intrinsics.size(), views);
  if (s.camera_poses.size() != views * core::kPoseSize)
    return size_error("camera_poses", s.camera_poses.size(), views * core::kPoseSize);
  if (s.lights.size() != envs) return size_error("lights", s.lights.size(), envs);
  for (std::size_t k = 0; k < n; ++k) {
    const core::InstanceDesc& inst = s.instances[k];
    const std::string field = core::StrCat("instances[", k, "]");
    if (!inst.mesh.valid() || inst.mesh.value >= num_meshes)
      return core::Fail(core::StrCat("render: mesh id ", inst.mesh.value, " not uploaded (",
                                     num_meshes, " meshes)"), FieldLocation(field));
    if (inst.body >= s.num_bodies)
      return core::Fail(core::StrCat("render: body ", inst.body, " out of range (", s.num_bodies,
                                     " bodies)"), FieldLocation(field));
    if ((inst.scale.array() == 0.0).any())
      return core::Fail("render: zero scale", FieldLocation(field));
  }
  const core::CameraIntrinsics& first = s.camera_intrinsics[0];
  for (std::size_t v = 0; v < views; ++v) {
    const core::CameraIntrinsics& K = s.camera_intrinsics[v];
    const std::string field = core::StrCat("camera_intrinsics[", v, "]");
    if (K.width == 0 || K.height == 0)
      return core::Fail("render: camera with zero width or height", FieldLocation(field));
    if (K.width != first.width || K.height != first.height)
      return core::Fail(core::StrCat("render: every view must have the same size; view ", v, " is ",
                                     K.width, "x", K.height, ", view 0 is ", first.width, "x",
                                     first.height), FieldLocation(field));
    if (!(K.near > 0.0) || !(K.far > K.near))
      return core::Fail(core::StrCat("render: need 0 < near < far, got near ", K.near, " far ", K.far),
                        FieldLocation(field));
    if (!(K.fx > 0.0) || !(K.fy > 0.0))
      return core::Fail("render: focal lengths must be positive", FieldLocation(field));
  }
  return core::Ok();
}

}  // namespace

core::Status BatchRenderer::Render(const core::RenderSnapshot& s) {
  using Clock = std::chrono::steady_clock;
  const auto ms_since = [](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  };
  const auto t_record = Clock::now();
  Impl& r = *impl_;
  PF_TRY(CheckSnapshot(s, r.meshes.size()));
  const std::uint32_t envs = s.num_envs, n = s.num_instances();
  const std::uint32_t views = envs * s.num_cameras;
  const std::uint32_t w = s.camera_intrinsics[0].width, h = s.camera_intrinsics[0].height;
  PF_TRY(r.EnsureTargets(views, w, h));
  PF_TRY(r.EnsureInstanceCapacity(static_cast<std::size_t>(envs) * n));

  // Instance records, env by env, grouped by mesh: one instanced draw per (env, mesh).
  r.order.resize(n);
  for (std::uint32_t k = 0; k < n; ++k) r.order[k] = k;
  std::ranges::stable_sort(r.order, {}, [&](std::uint32_t k) { return s.instances[k].mesh.value; });
  auto* records = static_cast<InstanceGpu*>(r.instance_memory.mapped);
  r.groups.clear();
  r.env_groups.assign(envs + 1, 0);
  std::uint32_t written = 0;
  for (std::uint32_t e = 0; e < envs; ++e) {
    r.env_groups[e] = static_cast<std::uint32_t>(r.groups.size());
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t k = r.order[i];
      const std::size_t ek = static_cast<std::size_t>(e) * n + k;
      if (!s.instance_visible[ek]) continue;
      const core::InstanceDesc& inst = s.instances[k];
      const MeshRange& mesh = r.meshes[inst.mesh.value];
      if (mesh.index_count == 0) continue;
      const core::Pose X_WB = core::PoseFromArray(
          &s.body_poses[(static_cast<std::size_t>(e) * s.num_bodies + inst.body) * core::kPoseSize]);
      const core::Pose X_WG = X_WB * inst.X_BG;
      core::Mat4 M = core::Mat4::Identity();
      M.topLeftCorner<3, 3>() = X_WG.linear() * inst.scale.asDiagonal();
      M.topRightCorner<3, 1>() = X_WG.translation();
      const core::Mat3 normal = X_WG.linear() * inst.scale.cwiseInverse().asDiagonal();
      InstanceGpu& rec = records[written];
      StoreMatrix(M, rec.X_WG_scaled);
      for (int c = 0; c < 3; ++c) {
        for (int row = 0; row < 3; ++row) rec.normal_W[c * 4 + row] = static_cast<float>(normal(row, c));
        rec.normal_W[c * 4 + 3] = 0.0f;
      }
      for (int c = 0; c < 4; ++c) rec.colour[c] = static_cast<float>(mesh.colour[c]);
      rec.ids[0] = s.segmentation_ids[ek];
      rec.ids[1] = inst.semantic_class;
      rec.ids[2] = rec.ids[3] = 0;
      if (!r.groups.empty() && r.groups.size() > r.env_groups[e] &&
          r.groups.back().mesh == inst.mesh.value) {
        ++r.groups.back().count;
      } else {
        r.groups.push_back({inst.mesh.value, written, 1});
      }
      ++written;
    }
  }
  r.env_groups[envs] = static_cast<std::uint32_t>(r.groups.size());

  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  PF_TRY(VkCheck(vkResetCommandBuffer(r.cmd, 0), "vkResetCommandBuffer"));
  PF_TRY(VkCheck(vkBeginCommandBuffer(r.cmd, &begin), "vkBeginCommandBuffer"));
  vkCmdBindPipeline(r.cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, r.pipeline);
  vkCmdBindDescriptorSets(r.cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, r.pipeline_layout, 0, 1,
                          &r.descriptor_set, 0, nullptr);
  const VkDeviceSize zero = 0;
  vkCmdBindVertexBuffers(r.cmd, 0, 1, &r.vertex_buffer, &zero);
  vkCmdBindIndexBuffer(r.cmd, r.index_buffer, 0, VK_INDEX_TYPE_UINT32);
  const VkViewport viewport{0.0f, 0.0f, static_cast<float>(w), static_cast<float>(h), 0.0f, 1.0f};
  const VkRect2D scissor{{0, 0}, {w, h}};

  std::array<VkClearValue, kNumOutputs + 1> clears{};
  clears[0].color.float32[0] = clears[0].color.float32[1] = clears[0].color.float32[2] = 0.0f;
  clears[0].color.float32[3] = 0.0f;
  clears[1].color.float32[0] = 0.0f;  // depth output: 0 = background
  clears[2].color.uint32[0] = 0;
  clears[3].color.uint32[0] = 0;
  clears[kNumOutputs].depthStencil = {1.0f, 0};
  for (std::uint32_t e = 0; e < envs; ++e) {
    const core::DirectionalLight& light = s.lights[e];
    for (std::uint32_t c = 0; c < s.num_cameras; ++c) {
      const std::uint32_t v = e * s.num_cameras + c;
      const core::Pose X_WC = core::PoseFromArray(&s.camera_poses[static_cast<std::size_t>(v) * core::kPoseSize]);
      const core::Mat4 X_CW = X_WC.inverse().matrix();
      ViewPush push{};
      StoreMatrix(ClipFromCamera(s.camera_intrinsics[v]) * X_CW, push.clip_from_world);
      for (int i = 0; i < 4; ++i) push.z_row_CW[i] = static_cast<float>(X_CW(2, i));
      const core::Vec3 dir = light.direction_W.normalized();
      for (int i = 0; i < 3; ++i) {
        push.light_dir_W[i] = static_cast<float>(dir[i]);
        push.light[i] = static_cast<float>(light.colour[i] * light.intensity);
      }
      push.light[3] = static_cast<float>(light.ambient);

      VkRenderPassBeginInfo rp{};
      rp.sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO;
      rp.renderPass = r.render_pass;
      rp.framebuffer = r.framebuffers[v];
      rp.renderArea = scissor;
      rp.clearValueCount = static_cast<std::uint32_t>(clears.size());
      rp.pClearValues = clears.data();
      vkCmdBeginRenderPass(r.cmd, &rp, VK_SUBPASS_CONTENTS_INLINE);
      vkCmdSetViewport(r.cmd, 0, 1, &viewport);
      vkCmdSetScissor(r.cmd, 0, 1, &scissor);
      vkCmdPushConstants(r.cmd, r.pipeline_layout,
                         VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0,
                         sizeof(ViewPush), &push);
      for (std::uint32_t g = r.env_groups[e]; g < r.env_groups[e + 1]; ++g) {
        const DrawGroup& group = r.groups[g];
        const MeshRange& mesh = r.meshes[group.mesh];
        vkCmdDrawIndexed(r.cmd, mesh.index_count, group.count, mesh.first_index,
                         mesh.vertex_offset, group.first_instance);
      }
      vkCmdEndRenderPass(r.cmd);
    }
  }
  // All layers of each output in one copy: the buffer holds [num_views × H × W × C].
  for (std::uint32_t i = 0; i < kNumOutputs; ++i) {
    VkBufferImageCopy copy{};
    copy.bufferOffset = r.readback_offsets[i];
    copy.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, views};
    copy.imageExtent = {w, h, 1};
    vkCmdCopyImageToBuffer(r.cmd, r.images[i], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                           r.readback_buffer, 1, &copy);
  }
  VkBufferMemoryBarrier to_host{};
  to_host.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER;
  to_host.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  to_host.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  to_host.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  to_host.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  to_host.buffer = r.readback_buffer;
  to_host.offset = 0;
  to_host.size = VK_WHOLE_SIZE;
  vkCmdPipelineBarrier(r.cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0,
                       nullptr, 1, &to_host, 0, nullptr);
  PF_TRY(VkCheck(vkEndCommandBuffer(r.cmd), "vkEndCommandBuffer"));
  timings_.record_ms = ms_since(t_record);
  const auto t_gpu = Clock::now();
  PF_TRY(r.SubmitAndWait());
  timings_.gpu_ms = ms_since(t_gpu);
  const auto t_readback = Clock::now();

  if (!(r.readback_memory.flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) {
    VkMappedMemoryRange range{};
    range.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
    range.memory = r.readback_memory.memory;
    range.offset = 0;
    range.size = VK_WHOLE_SIZE;
    PF_TRY(VkCheck(vkInvalidateMappedMemoryRanges(r.device, 1, &range), "vkInvalidateMappedMemoryRanges"));
  }
  const auto* base = static_cast<const std::uint8_t*>(r.readback_memory.mapped) + r.readback_memory.offsets[0];
  std::memcpy(r.colour.data(), base + r.readback_offsets[0], r.colour.size());
  std::memcpy(r.depth.data(), base + r.readback_offsets[1], r.depth.size() * sizeof(float));
  std::memcpy(r.instance.data(), base + r.readback_offsets[2], r.instance.size() * sizeof(std::uint32_t));
  std::memcpy(r.semantic.data(), base + r.readback_offsets[3], r.semantic.size() * sizeof(std::uint32_t));
  timings_.readback_ms = ms_since(t_readback);
  return core::Ok();
}

const BatchRenderer::Timings& BatchRenderer::last_timings() const { return timings_; }

std::uint32_t BatchRenderer::num_views() const { return impl_->num_views; }
std::uint32_t BatchRenderer::width() const { return impl_->width; }
std::uint32_t BatchRenderer::height() const { return impl_->height; }
std::span<const std::uint8_t> BatchRenderer::colour() const { return impl_->colour; }
std::span<const float> BatchRenderer::depth() const { return impl_->depth; }
std::span<const std::uint32_t> BatchRenderer::instance_ids() const { return impl_->instance; }
std::span<const std::uint32_t> BatchRenderer::semantic_ids() const { return impl_->semantic; }

std::span<const std::uint8_t> BatchRenderer::colour(std::uint32_t view) const {
  PF_CHECK(view < impl_->num_views, "view ", view, " of ", impl_->num_views);
  const std::size_t px = static_cast<std::size_t>(impl_->width) * impl_->height;
  return colour().subspan(view * px * 4, px * 4);
}
std::span<const float> BatchRenderer::depth(std::uint32_t view) const {
  PF_CHECK(view < impl_->num_views, "view ", view, " of ", impl_->num_views);
  const std::size_t px = static_cast<std::size_t>(impl_->width) * impl_->height;
  return depth().subspan(view * px, px);
}
std::span<const std::uint32_t> BatchRenderer::instance_ids(std::uint32_t view) const {
  PF_CHECK(view < impl_->num_views, "view ", view, " of ", impl_->num_views);
  const std::size_t px = static_cast<std::size_t>(impl_->width) * impl_->height;
  return instance_ids().subspan(view * px, px);
}
std::span<const std::uint32_t> BatchRenderer::semantic_ids(std::uint32_t view) const {
  PF_CHECK(view < impl_->num_views, "view ", view, " of ", impl_->num_views);
  const std::size_t px = static_cast<std::size_t>(impl_->width) * impl_->height;
  return semantic_ids().subspan(view * px, px);
}

VulkanContext& BatchRenderer::context() { return *impl_->context; }

}  // namespace pf::render
