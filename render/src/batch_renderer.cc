#include "pf/render/batch_renderer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <utility>

#include "mesh_lod.h"
#include "pf/core/check.h"
#include "pf/core/log.h"
#include "pf/render/camera.h"
#include "vulkan_internal.h"

namespace pf::render {
namespace shaders {
// batch.vert and batch.frag without and with shadows, textures (render/CMakeLists.txt).
std::span<const std::uint32_t> BatchVertSpirv();
std::span<const std::uint32_t> BatchVertShadowsSpirv();
std::span<const std::uint32_t> BatchVertTexturesSpirv();
std::span<const std::uint32_t> BatchVertShadowsTexturesSpirv();
std::span<const std::uint32_t> BatchFragSpirv();
std::span<const std::uint32_t> BatchFragShadowsSpirv();
std::span<const std::uint32_t> BatchFragTexturesSpirv();
std::span<const std::uint32_t> BatchFragShadowsTexturesSpirv();
std::span<const std::uint32_t> ShadowVertSpirv();
}  // namespace shaders

namespace {

// Interleaved vertex of the shared vertex buffer (locations 0 and 1 of batch.vert). The
// texture coordinates (location 2) follow all vertices in the same buffer, as binding 2:
// only pipelines that draw textures fetch them.
struct Vertex {
  float position[3];
  float normal[3];
};

// One per drawn (view, instance): the per-instance vertex attributes of batch.vert. Shadow
// passes use the same records (shadow.vert reads clip_from_G and ids only).
struct InstanceGpu {
  float clip_from_G[16];   // [4 × 4] column-major, Vulkan clip space from the mesh frame
  float shadow_from_G[12]; // [3 × 4] rows: shadow-map u, v and depth from the mesh frame
  float light_G[4];        // xyz: unit direction towards the light, mesh axes (R_WG^T l_W); w: ambient
  float half_G[4];         // xyz: unit half vector of light and view, mesh axes; w: specular exponent
  float inv_scale[4];      // 1 / mesh scale per axis; w: texture layer (0 = none)
  float colour[4];         // linear RGBA, rgb × light colour × intensity
  float specular[4];       // rgb: light colour × intensity × specular strength
  std::uint32_t ids[4];    // segmentation id, semantic class, layer (view or env), shadow-map layer
};
static_assert(sizeof(InstanceGpu) == 208);
constexpr std::uint32_t kNoShadow = ~0u;

struct MeshGpu {
  std::uint32_t first_level = 0;  // into Impl::levels
  std::uint32_t num_levels = 0;
  core::Vec3 centre = core::Vec3::Zero();  // bounding sphere, mesh frame
  double radius = 0.0;
  core::Vec4 colour = core::Vec4::Ones();
  std::uint32_t texture_layer = 0;  // 0 = untextured (layer 0 is white)
  double specular = 0.0, shininess = 32.0;
};

// Instances larger than this (bounding-sphere radius, metres) cast no shadow: they would
// spread one env's shadow map over a region far larger than the scene.
constexpr double kMaxCasterRadius = 20.0;
// Receivers sample the shadow map this far (metres) towards the light, against acne.
constexpr double kShadowBias = 0.002;

// One level of detail of one mesh: a range of the shared index buffer. Levels of all meshes
// are numbered together; that number is a frame's bucket (one draw) key.
struct LevelGpu {
  std::uint32_t mesh = 0;
  std::uint32_t first_index = 0;
  std::uint32_t index_count = 0;
  std::int32_t vertex_offset = 0;
  double error = 0.0;  // mesh units
};

struct DrawGpu {
  std::uint32_t level = 0;
  std::uint32_t first_instance = 0;
  std::uint32_t count = 0;
};

// Output images: colour, linear depth, instance id, semantic id.
constexpr std::array<VkFormat, 4> kOutputFormats = {
    VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_R32_SFLOAT, VK_FORMAT_R32_UINT, VK_FORMAT_R32_UINT};
constexpr std::array<std::uint32_t, 4> kOutputTexelBytes = {4, 4, 4, 4};
constexpr std::uint32_t kNumOutputs = 4;
constexpr std::uint32_t kNumSlots = 2;  // frames in flight
constexpr std::uint32_t kNotDrawn = ~0u;
constexpr std::uint32_t kNoSlot = ~0u;
// RenderConfig::pass_pixels on a CPU device. Measured with llvmpipe on 2 cores (bench
// render): 64 Ki pixels per pass (4 views at 128×128) used about 20% less CPU per view than
// one pass for all views, and about as little as one pass per view.
constexpr std::uint64_t kCpuPassPixels = 65536;

core::Location FieldLocation(std::string field) {
  core::Location where;
  where.field = std::move(field);
  return where;
}

template <class Matrix>
void StoreMatrix(const Matrix& m, float* out) {  // column-major
  for (int c = 0; c < m.cols(); ++c)
    for (int r = 0; r < m.rows(); ++r) out[c * m.rows() + r] = static_cast<float>(m(r, c));
}

// One frame's resources; two of them take turns, so that the next frame draws while the
// host still reads this one.
struct FrameSlot {
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  // Per-instance records (host visible, rewritten each frame).
  VkBuffer instance_buffer = VK_NULL_HANDLE;
  MemoryBlock instance_memory;
  std::size_t instance_capacity = 0;
  // The four layered outputs of capacity × width × height, of which this frame draws the first
  // `views` layers. Direct: linear images in host-visible memory that the host reads in place.
  // Otherwise: optimal images, copied each frame into `readback_buffer` ([views × H × W ×
  // texel] per output, each output at its capacity's offset). The capacity is the most views
  // drawn at this size so far: frames with fewer views (a VecEnv's asynchronous batches, its
  // ended envs) reuse the outputs instead of making new ones.
  std::uint32_t views = 0, capacity = 0, width = 0, height = 0;
  bool direct = false;
  bool fresh = false;  // direct outputs not drawn into yet (still in the preinitialized layout)
  std::array<VkImage, kNumOutputs> images{};
  MemoryBlock image_memory;
  std::vector<VkImageView> pass_views;      // [num_passes × kNumOutputs] the pass's layers
  std::vector<VkFramebuffer> framebuffers;  // [num_passes] those + the shared depth buffer
  VkBuffer readback_buffer = VK_NULL_HANDLE;
  MemoryBlock readback_memory;
  std::array<VkDeviceSize, kNumOutputs> readback_offsets{};
  std::array<std::uint8_t*, kNumOutputs> outputs{};  // where the host reads each output
  BatchRenderer::FrameStats stats;
};

}  // namespace

struct BatchRenderer::Impl {
  std::shared_ptr<VulkanContext> context;  // first: outlives every member below
  VulkanContext::Impl* ctx = nullptr;
  VkDevice device = VK_NULL_HANDLE;
  LodConfig lod;

  // Meshes: one vertex and one index buffer (every level of every mesh), one memory block.
  std::vector<MeshGpu> meshes;
  std::vector<LevelGpu> levels;
  VkBuffer vertex_buffer = VK_NULL_HANDLE;  // [vertices] Vertex, then [vertices] uv
  VkDeviceSize uv_offset = 0;
  VkBuffer index_buffer = VK_NULL_HANDLE;
  bool textured = false;  // some mesh has a texture: the pipeline samples them
  MemoryBlock mesh_memory;

  VkFormat depth_format = VK_FORMAT_UNDEFINED;
  VkPipelineLayout pipeline_layout = VK_NULL_HANDLE;
  VkRenderPass render_pass = VK_NULL_HANDLE;       // clears the outputs
  VkRenderPass render_pass_load = VK_NULL_HANDLE;  // keeps them (zeroed by the host)
  VkPipeline pipeline = VK_NULL_HANDLE;

  // Whether outputs can be linear images read in place (a CPU device: its "device memory" is
  // host memory, and a copy would only cost time).
  bool direct_possible = false;
  // Pixels per layered render pass (RenderConfig::pass_pixels, resolved), and the views per
  // pass that gives at the current view size.
  std::uint64_t pass_pixels = 0;
  std::uint32_t views_per_pass = 0;
  // The layered depth buffer for views_per_pass × width × height, shared by every pass of
  // both slots (passes run one after the other); made for frames of up to `num_views` views
  // (the most so far at this size).
  std::uint32_t num_views = 0, width = 0, height = 0;
  VkImage depth_image = VK_NULL_HANDLE;
  MemoryBlock depth_memory;
  VkImageView depth_view = VK_NULL_HANDLE;

  // Materials: every texture resampled into the layers 1.. of one mipmapped 2D-array image
  // (layer 0 is white, for untextured meshes).
  std::uint32_t texture_size = 512;  // RenderConfig::texture_size
  VkImage texture_image = VK_NULL_HANDLE;
  MemoryBlock texture_memory;
  VkImageView texture_view = VK_NULL_HANDLE;
  VkSampler texture_sampler = VK_NULL_HANDLE;

  // Shadows: one map per env of a pass, drawn by a depth-only layered pass just before it
  // into the layers of `shadow_image` (1 × 1 × 1 and never drawn when shadows are off).
  bool shadows = false;                 // RenderConfig::shadows
  std::uint32_t shadow_size_config = 0;  // RenderConfig::shadow_map_size; 0 = automatic
  std::uint32_t shadow_size = 0;         // side of the maps now (EnsureDepth)
  std::uint64_t shadow_memory_bytes = 0;
  VkFormat shadow_format = VK_FORMAT_UNDEFINED;
  VkSampler shadow_sampler = VK_NULL_HANDLE;
  VkRenderPass shadow_pass = VK_NULL_HANDLE;
  VkPipeline shadow_pipeline = VK_NULL_HANDLE;
  std::uint32_t shadow_layers = 0, shadow_cameras = 0;  // layers: envs one pass touches at most
  VkImage shadow_image = VK_NULL_HANDLE;
  MemoryBlock shadow_memory;
  VkImageView shadow_view = VK_NULL_HANDLE;
  VkFramebuffer shadow_framebuffer = VK_NULL_HANDLE;
  bool shadow_fresh = false;  // created, not yet moved out of the undefined layout

  // The textures and the shadow maps, bound once per frame.
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkDescriptorPool descriptor_pool = VK_NULL_HANDLE;
  VkDescriptorSet descriptor_set = VK_NULL_HANDLE;

  std::array<FrameSlot, kNumSlots> slots;
  std::uint32_t next_slot = 0;        // the slot the next Submit uses
  std::uint32_t in_flight = 0;        // submitted, not collected
  std::uint32_t collected = kNoSlot;  // slot whose results the accessors show

  // Scratch of the record builder, grown when a snapshot needs more, never shrunk.
  std::vector<core::Pose> X_WG;           // [num_envs × num_instances]
  std::vector<std::uint32_t> keys;        // [num_views × num_instances] bucket or kNotDrawn
  std::vector<std::uint32_t> bucket;      // [num_passes × num levels] count, then next free record
  std::vector<DrawGpu> draws;             // [≤ num_passes × num levels] by pass
  std::vector<std::uint32_t> pass_draws;  // [2 × num_passes + 1] first draw of each pass (then each shadow pass)
  // Per env: the light's view of it (BuildRecords).
  struct ShadowView {
    bool casts = false;                                  // something in the env casts a shadow
    core::Mat4 clip_from_W = core::Mat4::Identity();     // the shadow pass's clip space
    Eigen::Matrix<double, 3, 4> map_from_W;              // receivers: u, v, depth (biased)
    double pixels_per_metre = 0.0;                       // of the shadow map
  };
  std::vector<ShadowView> shadow_views;
  std::vector<std::uint32_t> shadow_keys;  // [Σ passes' envs × num_instances] bucket or kNotDrawn

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();

  core::Status Init(const std::vector<RenderMeshInput>& inputs);
  core::Status UploadMeshes(const std::vector<RenderMeshInput>& inputs);
  core::Status UploadTextures(const std::vector<RenderMeshInput>& inputs);
  // Copies `bytes` into a staging buffer and records `record` (transfers from it) in a
  // one-time command buffer, submitted and waited for.
  core::Status UploadThroughStaging(std::span<const std::uint8_t> bytes,
                                    const std::function<void(VkCommandBuffer, VkBuffer)>& record);
  core::Status CreatePipeline();
  core::Status CreateShadowPipeline(VkShaderModule vert);
  core::Status EnsureDepth(std::uint32_t views, std::uint32_t cameras, std::uint32_t w, std::uint32_t h);
  core::Status CreateShadowMaps(std::uint32_t layers);
  // A device-local, optimally tiled 2D-array image (layers × w × h, `mips` levels), its
  // memory, and a view of all of it.
  core::Status CreateArrayImage(VkFormat format, std::uint32_t w, std::uint32_t h, std::uint32_t mips,
                                std::uint32_t layers, VkImageUsageFlags usage, VkImageAspectFlags aspect,
                                VkImage* image, MemoryBlock* memory, VkImageView* view);
  void WriteDescriptors();
  // The first and last env whose views layered pass `pass` of a `views`-view frame draws
  // (its shadow maps: layer e - first for env e).
  std::pair<std::uint32_t, std::uint32_t> PassEnvs(std::uint32_t pass, std::uint32_t cameras, std::uint32_t views) const {
    return {pass * views_per_pass / cameras, (std::min((pass + 1) * views_per_pass, views) - 1) / cameras};
  }
  // Shadow maps a frame of `views` views draws: Σ over its passes of the envs each touches.
  std::size_t ShadowSlots(std::uint32_t views, std::uint32_t cameras) const {
    std::size_t total = 0;
    for (std::uint32_t p = 0; p * views_per_pass < views; ++p) {
      const auto [first, last] = PassEnvs(p, cameras, views);
      total += last - first + 1;
    }
    return total;
  }
  core::Status EnsureSlot(FrameSlot& slot, std::size_t records, std::uint32_t views,
                          std::uint32_t w, std::uint32_t h);
  core::Status CreateOutputs(FrameSlot& slot, bool direct);
  void DestroyOutputs(FrameSlot& slot);
  void DestroyDepth();
  core::Status CreateBuffer(VkDeviceSize size, VkBufferUsageFlags usage, VkBuffer* out) const;
  core::Status SubmitAndWait(VkCommandBuffer cmd, VkFence fence);
  // Writes the records of `s` into `slot`, bucketed by level; fills `draws` and the stats.
  void BuildRecords(const core::RenderSnapshot& s, FrameSlot& slot);
  void RecordCommands(FrameSlot& slot);
  const FrameSlot* Shown() const { return collected == kNoSlot ? nullptr : &slots[collected]; }
};

core::Status BatchRenderer::Impl::CreateBuffer(VkDeviceSize size, VkBufferUsageFlags usage,
                                               VkBuffer* out) const {
  return render::CreateBuffer(device, size, usage, out);
}

core::Status BatchRenderer::Impl::SubmitAndWait(VkCommandBuffer cmd, VkFence fence) {
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
  if (!ctx->info.shader_output_layer)
    return core::Fail(core::StrCat("vulkan: ", ctx->info.name,
                                   " lacks Vulkan 1.2 shaderOutputLayer (gl_Layer in vertex shaders), "
                                   "which the batch renderer's layered pass needs"));

  for (FrameSlot& slot : slots) {
    VkCommandBufferAllocateInfo alloc{};
    alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    alloc.commandPool = ctx->command_pool;
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    PF_TRY(VkCheck(Counted(VkKind::kCommandBuffer, vkAllocateCommandBuffers(device, &alloc, &slot.cmd)),
                   "vkAllocateCommandBuffers"));
    VkFenceCreateInfo fence_info{};
    fence_info.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    PF_TRY(VkCheck(Counted(VkKind::kFence, vkCreateFence(device, &fence_info, nullptr, &slot.fence)), "vkCreateFence"));
  }

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

  direct_possible = ctx->info.type == "cpu";
  for (VkFormat f : kOutputFormats) {
    VkFormatProperties props;
    vkGetPhysicalDeviceFormatProperties(ctx->physical_device, f, &props);
    direct_possible = direct_possible && (props.linearTilingFeatures & VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT);
  }

  // Shadow maps are drawn as depth attachments and sampled with depth comparison.
  bool shadow_linear = false;
  for (VkFormat f : {VK_FORMAT_D32_SFLOAT, VK_FORMAT_D16_UNORM}) {
    VkFormatProperties props;
    vkGetPhysicalDeviceFormatProperties(ctx->physical_device, f, &props);
    const VkFormatFeatureFlags need = VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT | VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT;
    if ((props.optimalTilingFeatures & need) == need) {
      shadow_format = f;
      shadow_linear = props.optimalTilingFeatures & VK_FORMAT_FEATURE_SAMPLED_IMAGE_FILTER_LINEAR_BIT;
      break;
    }
  }
  if (shadow_format == VK_FORMAT_UNDEFINED)
    return core::Fail("vulkan: the device supports no sampled depth format for shadow maps");

  VkSamplerCreateInfo sampler{};
  sampler.sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO;
  sampler.magFilter = VK_FILTER_LINEAR;
  sampler.minFilter = VK_FILTER_LINEAR;
  sampler.mipmapMode = VK_SAMPLER_MIPMAP_MODE_LINEAR;
  sampler.addressModeU = sampler.addressModeV = sampler.addressModeW = VK_SAMPLER_ADDRESS_MODE_REPEAT;
  sampler.maxLod = VK_LOD_CLAMP_NONE;
  PF_TRY(VkCheck(Counted(VkKind::kSampler, vkCreateSampler(device, &sampler, nullptr, &texture_sampler)),
                 "vkCreateSampler"));
  // Shadow lookups: lit (1) where the receiver is no farther than the stored depth, with
  // 2 × 2 percentage-closer filtering where the format allows; outside the map is lit.
  sampler.magFilter = sampler.minFilter = shadow_linear ? VK_FILTER_LINEAR : VK_FILTER_NEAREST;
  sampler.mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST;
  sampler.addressModeU = sampler.addressModeV = sampler.addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_BORDER;
  sampler.borderColor = VK_BORDER_COLOR_FLOAT_OPAQUE_WHITE;
  sampler.compareEnable = VK_TRUE;
  sampler.compareOp = VK_COMPARE_OP_LESS_OR_EQUAL;
  sampler.maxLod = 0.0f;
  PF_TRY(VkCheck(Counted(VkKind::kSampler, vkCreateSampler(device, &sampler, nullptr, &shadow_sampler)),
                 "vkCreateSampler"));

  const VkPhysicalDeviceLimits& limits = ctx->properties.limits;
  if (shadow_size_config > std::min({limits.maxFramebufferWidth, limits.maxFramebufferHeight, limits.maxImageDimension2D}))
    return core::Fail(core::StrCat("render: shadow_map_size ", shadow_size_config, " exceeds the device's ",
                                   std::min({limits.maxFramebufferWidth, limits.maxImageDimension2D}), " texels"),
                      FieldLocation("shadow_map_size"));
  if (texture_size == 0 || texture_size > limits.maxImageDimension2D)
    return core::Fail(core::StrCat("render: texture_size ", texture_size, " must be in [1, ",
                                   limits.maxImageDimension2D, "]"), FieldLocation("texture_size"));
  PF_TRY(UploadMeshes(inputs));
  PF_TRY(UploadTextures(inputs));
  return CreatePipeline();
}

core::Status BatchRenderer::Impl::UploadMeshes(const std::vector<RenderMeshInput>& inputs) {
  std::vector<Vertex> vertices;
  std::vector<float> uvs;
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

    const MeshLods lods = BuildMeshLods(mesh, lod);
    MeshGpu gpu;
    gpu.first_level = static_cast<std::uint32_t>(levels.size());
    gpu.num_levels = static_cast<std::uint32_t>(lods.levels.size());
    gpu.centre = lods.centre;
    gpu.radius = lods.radius;
    gpu.colour = inputs[m].colour;
    gpu.specular = inputs[m].specular;
    gpu.shininess = inputs[m].shininess;
    if (!(gpu.specular >= 0.0 && gpu.specular <= 1.0) || !(gpu.shininess > 0.0))
      return core::Fail(core::StrCat("specular ", gpu.specular, " must be in [0, 1] and shininess ", gpu.shininess,
                                     " positive"), where);
    meshes.push_back(gpu);
    const auto vertex_offset = static_cast<std::int32_t>(vertices.size());
    uvs.insert(uvs.end(), lods.uvs.begin(), lods.uvs.end());
    for (const MeshLevel& level : lods.levels) {
      LevelGpu l;
      l.mesh = static_cast<std::uint32_t>(m);
      l.first_index = static_cast<std::uint32_t>(indices.size());
      l.index_count = static_cast<std::uint32_t>(level.indices.size());
      l.vertex_offset = vertex_offset;
      l.error = level.error;
      levels.push_back(l);
      indices.insert(indices.end(), level.indices.begin(), level.indices.end());
    }
    for (std::size_t v = 0; v < lods.positions.size() / 3; ++v) {
      Vertex vertex;
      std::memcpy(vertex.position, &lods.positions[3 * v], sizeof(vertex.position));
      std::memcpy(vertex.normal, &lods.normals[3 * v], sizeof(vertex.normal));
      vertices.push_back(vertex);
    }
  }

  uv_offset = vertices.size() * sizeof(Vertex);
  std::vector<std::uint8_t> vertex_data(uv_offset + uvs.size() * sizeof(float));
  if (!vertices.empty()) std::memcpy(vertex_data.data(), vertices.data(), uv_offset);
  if (!uvs.empty()) std::memcpy(vertex_data.data() + uv_offset, uvs.data(), uvs.size() * sizeof(float));
  const VkDeviceSize vertex_bytes = vertex_data.size();
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
    if (vertex_bytes) std::memcpy(base + mesh_memory.offsets[0], vertex_data.data(), vertex_bytes);
    if (index_bytes) std::memcpy(base + mesh_memory.offsets[1], indices.data(), index_bytes);
    return core::Ok();
  }
  // Discrete GPU: one staging buffer, two copies, one submission.
  std::vector<std::uint8_t> bytes(vertex_data);
  bytes.insert(bytes.end(), reinterpret_cast<const std::uint8_t*>(indices.data()),
               reinterpret_cast<const std::uint8_t*>(indices.data()) + index_bytes);
  return UploadThroughStaging(bytes, [&](VkCommandBuffer cmd, VkBuffer staging) {
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
  });
}

core::Status BatchRenderer::Impl::UploadThroughStaging(std::span<const std::uint8_t> bytes,
                                                       const std::function<void(VkCommandBuffer, VkBuffer)>& record) {
  VkBuffer staging = VK_NULL_HANDLE;
  PF_TRY(CreateBuffer(bytes.size(), VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &staging));
  struct StagingGuard {
    VkDevice device;
    VkBuffer buffer;
    ~StagingGuard() { Destroy(device, buffer); }
  } guard{device, staging};
  PF_ASSIGN_OR_RETURN(MemoryBlock staging_memory,
                      AllocateBuffers(*ctx, std::span<const VkBuffer>(&staging, 1),
                                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0));
  if (!bytes.empty()) std::memcpy(staging_memory.mapped, bytes.data(), bytes.size());
  VkCommandBuffer cmd = slots[0].cmd;
  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  PF_TRY(VkCheck(vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer"));
  record(cmd, staging);
  PF_TRY(VkCheck(vkEndCommandBuffer(cmd), "vkEndCommandBuffer"));
  return SubmitAndWait(cmd, slots[0].fence);
}

namespace {

// Texture `t` resampled (bilinear, wrapping) to size × size RGBA8.
std::vector<std::uint8_t> Resample(const assets::TextureData& t, std::uint32_t size) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(size) * size * 4);
  const auto W = static_cast<std::int64_t>(t.width), H = static_cast<std::int64_t>(t.height);
  auto texel = [&](std::int64_t x, std::int64_t y, int c) {
    x = ((x % W) + W) % W;
    y = ((y % H) + H) % H;
    return static_cast<double>(t.rgba[(static_cast<std::size_t>(y) * t.width + static_cast<std::size_t>(x)) * 4 + c]);
  };
  for (std::uint32_t j = 0; j < size; ++j) {
    const double sy = (j + 0.5) * static_cast<double>(H) / size - 0.5;
    const auto y0 = static_cast<std::int64_t>(std::floor(sy));
    const double fy = sy - static_cast<double>(y0);
    for (std::uint32_t i = 0; i < size; ++i) {
      const double sx = (i + 0.5) * static_cast<double>(W) / size - 0.5;
      const auto x0 = static_cast<std::int64_t>(std::floor(sx));
      const double fx = sx - static_cast<double>(x0);
      for (int c = 0; c < 4; ++c) {
        const double v = (1 - fy) * ((1 - fx) * texel(x0, y0, c) + fx * texel(x0 + 1, y0, c)) +
                         fy * ((1 - fx) * texel(x0, y0 + 1, c) + fx * texel(x0 + 1, y0 + 1, c));
        out[(static_cast<std::size_t>(j) * size + i) * 4 + static_cast<std::size_t>(c)] =
            static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return out;
}

}  // namespace

core::Status BatchRenderer::Impl::UploadTextures(const std::vector<RenderMeshInput>& inputs) {
  // Distinct textures in order of first use; each becomes a layer.
  std::vector<const assets::TextureData*> textures;
  std::uint32_t largest = 1;
  for (std::size_t m = 0; m < inputs.size(); ++m) {
    const assets::TextureData* t = inputs[m].texture.get();
    if (t == nullptr) continue;
    core::Location where = FieldLocation(core::StrCat("meshes[", m, "].texture"));
    where.file = t->source.string();
    if (t->width == 0 || t->height == 0 || t->rgba.size() != static_cast<std::size_t>(t->width) * t->height * 4)
      return core::Fail(core::StrCat("texture of ", t->width, "x", t->height, " has ", t->rgba.size(), " bytes"), where);
    auto it = std::find(textures.begin(), textures.end(), t);
    if (it == textures.end()) {
      textures.push_back(t);
      largest = std::max({largest, t->width, t->height});
      it = textures.end() - 1;
    }
    meshes[m].texture_layer = static_cast<std::uint32_t>(it - textures.begin()) + 1;
  }
  const auto layers = static_cast<std::uint32_t>(textures.size()) + 1;
  if (layers > ctx->properties.limits.maxImageArrayLayers)
    return core::Fail(core::StrCat("render: ", textures.size(), " textures exceed the device's ",
                                   ctx->properties.limits.maxImageArrayLayers - 1, " texture layers"));
  // Layer side: a power of two, no larger than needed, at most texture_size.
  std::uint32_t size = 1;
  while (size < std::min(largest, std::max<std::uint32_t>(texture_size, 1))) size *= 2;
  if (size > std::max<std::uint32_t>(texture_size, 1)) size /= 2;
  std::uint32_t mips = 1;
  while ((size >> mips) > 0) ++mips;

  // Host: every mip level of every layer, level by level ([layers × h × w × 4] each).
  std::vector<std::uint8_t> data;
  std::vector<VkDeviceSize> level_offsets(mips);
  std::vector<std::vector<std::uint8_t>> current(layers);
  for (std::uint32_t l = 0; l < layers; ++l)
    current[l] = l == 0 ? std::vector<std::uint8_t>(static_cast<std::size_t>(size) * size * 4, 255)
                        : Resample(*textures[l - 1], size);
  for (std::uint32_t m = 0; m < mips; ++m) {
    const std::uint32_t side = size >> m;
    level_offsets[m] = data.size();
    for (std::uint32_t l = 0; l < layers; ++l) {
      if (m > 0) {  // 2 × 2 box filter of the level above
        const std::uint32_t above = side * 2;
        std::vector<std::uint8_t> next(static_cast<std::size_t>(side) * side * 4);
        for (std::uint32_t y = 0; y < side; ++y)
          for (std::uint32_t x = 0; x < side; ++x)
            for (std::uint32_t c = 0; c < 4; ++c) {
              auto at = [&](std::uint32_t xx, std::uint32_t yy) {
                return static_cast<unsigned>(current[l][(static_cast<std::size_t>(yy) * above + xx) * 4 + c]);
              };
              next[(static_cast<std::size_t>(y) * side + x) * 4 + c] = static_cast<std::uint8_t>(
                  (at(2 * x, 2 * y) + at(2 * x + 1, 2 * y) + at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1) + 2) / 4);
            }
        current[l] = std::move(next);
      }
      data.insert(data.end(), current[l].begin(), current[l].end());
    }
  }

  PF_TRY(CreateArrayImage(VK_FORMAT_R8G8B8A8_UNORM, size, size, mips, layers,
                          VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT, VK_IMAGE_ASPECT_COLOR_BIT,
                          &texture_image, &texture_memory, &texture_view));
  const VkImageSubresourceRange whole{VK_IMAGE_ASPECT_COLOR_BIT, 0, mips, 0, layers};

  return UploadThroughStaging(data, [&](VkCommandBuffer cmd, VkBuffer staging) {
    VkImageMemoryBarrier barrier{};
    barrier.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER;
    barrier.srcAccessMask = 0;
    barrier.dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    barrier.oldLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    barrier.newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    barrier.srcQueueFamilyIndex = barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.image = texture_image;
    barrier.subresourceRange = whole;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, nullptr, 0,
                         nullptr, 1, &barrier);
    std::vector<VkBufferImageCopy> copies(mips);
    for (std::uint32_t m = 0; m < mips; ++m) {
      copies[m].bufferOffset = level_offsets[m];
      copies[m].imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, m, 0, layers};
      copies[m].imageExtent = {size >> m, size >> m, 1};
    }
    vkCmdCopyBufferToImage(cmd, staging, texture_image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, mips, copies.data());
    barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
    barrier.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    barrier.newLayout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, 0, 0, nullptr,
                         0, nullptr, 1, &barrier);
  });
}

namespace {

// The fixed-function state of the camera and shadow pipelines: triangle lists, a dynamic
// viewport and scissor, one sample, depth test (less) with writes, every colour attachment
// written in full.
core::Status CreateGraphicsPipeline(VkDevice device, VkPipelineLayout layout, VkRenderPass pass,
                                    std::span<const VkPipelineShaderStageCreateInfo> stages,
                                    std::span<const VkVertexInputBindingDescription> bindings,
                                    std::span<const VkVertexInputAttributeDescription> attrs,
                                    VkCullModeFlags cull, bool depth_bias, std::uint32_t colour_attachments,
                                    VkPipeline* out) {
  VkPipelineVertexInputStateCreateInfo vertex_input{};
  vertex_input.sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO;
  vertex_input.vertexBindingDescriptionCount = static_cast<std::uint32_t>(bindings.size());
  vertex_input.pVertexBindingDescriptions = bindings.data();
  vertex_input.vertexAttributeDescriptionCount = static_cast<std::uint32_t>(attrs.size());
  vertex_input.pVertexAttributeDescriptions = attrs.data();
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
  raster.cullMode = cull;
  raster.frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE;
  raster.lineWidth = 1.0f;
  raster.depthBiasEnable = depth_bias ? VK_TRUE : VK_FALSE;
  raster.depthBiasConstantFactor = depth_bias ? 1.0f : 0.0f;
  raster.depthBiasSlopeFactor = depth_bias ? 1.5f : 0.0f;
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
  blend_state.attachmentCount = colour_attachments;
  blend_state.pAttachments = blend.data();
  const std::array<VkDynamicState, 2> dynamic_states = {VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR};
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
  info.pColorBlendState = colour_attachments > 0 ? &blend_state : nullptr;
  info.pDynamicState = &dynamic;
  info.layout = layout;
  info.renderPass = pass;
  info.subpass = 0;
  return VkCheck(Counted(VkKind::kPipeline, vkCreateGraphicsPipelines(device, VK_NULL_HANDLE, 1, &info, nullptr, out)),
                 "vkCreateGraphicsPipelines");
}

}  // namespace

core::Status BatchRenderer::Impl::CreatePipeline() {
  // One descriptor set: the textures (binding 0) and the shadow maps (binding 1).
  std::array<VkDescriptorSetLayoutBinding, 2> bindings{};
  for (std::uint32_t b = 0; b < 2; ++b) {
    bindings[b].binding = b;
    bindings[b].descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;
    bindings[b].descriptorCount = 1;
    bindings[b].stageFlags = VK_SHADER_STAGE_FRAGMENT_BIT;
  }
  VkDescriptorSetLayoutCreateInfo set_info{};
  set_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
  set_info.bindingCount = static_cast<std::uint32_t>(bindings.size());
  set_info.pBindings = bindings.data();
  PF_TRY(VkCheck(Counted(VkKind::kDescriptorSetLayout, vkCreateDescriptorSetLayout(device, &set_info, nullptr, &set_layout)),
                 "vkCreateDescriptorSetLayout"));
  const VkDescriptorPoolSize pool_size{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 2};
  VkDescriptorPoolCreateInfo pool_info{};
  pool_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
  pool_info.maxSets = 1;
  pool_info.poolSizeCount = 1;
  pool_info.pPoolSizes = &pool_size;
  PF_TRY(VkCheck(Counted(VkKind::kDescriptorPool, vkCreateDescriptorPool(device, &pool_info, nullptr, &descriptor_pool)),
                 "vkCreateDescriptorPool"));
  VkDescriptorSetAllocateInfo alloc_info{};
  alloc_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
  alloc_info.descriptorPool = descriptor_pool;
  alloc_info.descriptorSetCount = 1;
  alloc_info.pSetLayouts = &set_layout;
  PF_TRY(VkCheck(vkAllocateDescriptorSets(device, &alloc_info, &descriptor_set), "vkAllocateDescriptorSets"));

  VkPipelineLayoutCreateInfo layout_info{};
  layout_info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  layout_info.setLayoutCount = 1;
  layout_info.pSetLayouts = &set_layout;
  PF_TRY(VkCheck(Counted(VkKind::kPipelineLayout, vkCreatePipelineLayout(device, &layout_info, nullptr, &pipeline_layout)),
                 "vkCreatePipelineLayout"));

  // Render passes: 4 outputs (kept) + depth (cleared), all layered; the outputs are
  // cleared by the pass (render_pass) or were zeroed by the host (render_pass_load, outputs
  // read in place). The two are compatible: one pipeline and one set of framebuffers serve
  // both. After the pass a barrier moves the outputs to the transfer (copy) or general (host
  // read) layout.
  for (const bool load : {false, true}) {
    std::array<VkAttachmentDescription, kNumOutputs + 1> attachments{};
    for (std::uint32_t i = 0; i <= kNumOutputs; ++i) {
      VkAttachmentDescription& a = attachments[i];
      const bool is_depth = i == kNumOutputs;
      a.format = is_depth ? depth_format : kOutputFormats[i];
      a.samples = VK_SAMPLE_COUNT_1_BIT;
      a.loadOp = load && !is_depth ? VK_ATTACHMENT_LOAD_OP_LOAD : VK_ATTACHMENT_LOAD_OP_CLEAR;
      a.storeOp = is_depth ? VK_ATTACHMENT_STORE_OP_DONT_CARE : VK_ATTACHMENT_STORE_OP_STORE;
      a.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
      a.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
      a.initialLayout = load && !is_depth ? VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL : VK_IMAGE_LAYOUT_UNDEFINED;
      a.finalLayout = is_depth ? VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL
                               : VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL;
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
    // The previous pass's depth writes, and the previous use of this slot's outputs (copies,
    // layout transitions), before this pass.
    VkSubpassDependency dep{};
    dep.srcSubpass = VK_SUBPASS_EXTERNAL;
    dep.dstSubpass = 0;
    dep.srcStageMask = VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT |
                       VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
    dep.dstStageMask = VK_PIPELINE_STAGE_EARLY_FRAGMENT_TESTS_BIT |
                       VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT |
                       VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
    dep.srcAccessMask = VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT | VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
    dep.dstAccessMask = VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_READ_BIT |
                        VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT |
                        VK_ACCESS_COLOR_ATTACHMENT_READ_BIT | VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
    VkRenderPassCreateInfo rp_info{};
    rp_info.sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO;
    rp_info.attachmentCount = static_cast<std::uint32_t>(attachments.size());
    rp_info.pAttachments = attachments.data();
    rp_info.subpassCount = 1;
    rp_info.pSubpasses = &subpass;
    rp_info.dependencyCount = 1;
    rp_info.pDependencies = &dep;
    PF_TRY(VkCheck(Counted(VkKind::kRenderPass,
                           vkCreateRenderPass(device, &rp_info, nullptr, load ? &render_pass_load : &render_pass)),
                   "vkCreateRenderPass"));
  }

  // Shaders, embedded at build time.
  auto make_module = [&](std::span<const std::uint32_t> words, VkShaderModule* out) {
    VkShaderModuleCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
    info.codeSize = words.size_bytes();
    info.pCode = words.data();
    return VkCheck(Counted(VkKind::kShaderModule, vkCreateShaderModule(device, &info, nullptr, out)),
                   "vkCreateShaderModule");
  };
  VkShaderModule vert = VK_NULL_HANDLE, frag = VK_NULL_HANDLE, shadow_vert = VK_NULL_HANDLE;
  struct ModuleGuard {
    VkDevice device;
    VkShaderModule* modules[3];
    ~ModuleGuard() {
      for (VkShaderModule* m : modules) Destroy(device, *m);
    }
  } module_guard{device, {&vert, &frag, &shadow_vert}};
  textured = std::any_of(meshes.begin(), meshes.end(), [](const MeshGpu& m) { return m.texture_layer != 0; });
  PF_TRY(make_module(shadows ? (textured ? shaders::BatchVertShadowsTexturesSpirv() : shaders::BatchVertShadowsSpirv())
                             : (textured ? shaders::BatchVertTexturesSpirv() : shaders::BatchVertSpirv()),
                     &vert));
  PF_TRY(make_module(shadows ? (textured ? shaders::BatchFragShadowsTexturesSpirv() : shaders::BatchFragShadowsSpirv())
                             : (textured ? shaders::BatchFragTexturesSpirv() : shaders::BatchFragSpirv()),
                     &frag));
  PF_TRY(make_module(shaders::ShadowVertSpirv(), &shadow_vert));
  PF_TRY(CreateShadowPipeline(shadow_vert));
  std::array<VkPipelineShaderStageCreateInfo, 2> stages{};
  stages[0].sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  stages[0].stage = VK_SHADER_STAGE_VERTEX_BIT;
  stages[0].module = vert;
  stages[0].pName = "main";
  stages[1].sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  stages[1].stage = VK_SHADER_STAGE_FRAGMENT_BIT;
  stages[1].module = frag;
  stages[1].pName = "main";

  std::vector<VkVertexInputBindingDescription> vertex_bindings = {
      {0, sizeof(Vertex), VK_VERTEX_INPUT_RATE_VERTEX},
      {1, sizeof(InstanceGpu), VK_VERTEX_INPUT_RATE_INSTANCE},
  };
  if (textured) vertex_bindings.push_back({2, 2 * sizeof(float), VK_VERTEX_INPUT_RATE_VERTEX});
  // At most sixteen locations: the least every Vulkan device offers. The variant's shaders
  // read only some of them.
  std::vector<VkVertexInputAttributeDescription> vertex_attrs = {{
      {0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(Vertex, position)},
      {1, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(Vertex, normal)},
      {2, 2, VK_FORMAT_R32G32_SFLOAT, 0},
      {3, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, clip_from_G) + 0},
      {4, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, clip_from_G) + 16},
      {5, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, clip_from_G) + 32},
      {6, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, clip_from_G) + 48},
      {7, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, shadow_from_G) + 0},
      {8, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, shadow_from_G) + 16},
      {9, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, shadow_from_G) + 32},
      {10, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, light_G)},
      {11, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, half_G)},
      {12, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, inv_scale)},
      {13, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, colour)},
      {14, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, specular)},
      {15, 1, VK_FORMAT_R32G32B32A32_UINT, offsetof(InstanceGpu, ids)},
  }};
  std::erase_if(vertex_attrs, [&](const VkVertexInputAttributeDescription& a) {
    return (a.location == 2 && !textured) || (a.location >= 7 && a.location <= 9 && !shadows);
  });
  // Counter-clockwise meshes stay counter-clockwise (positive area) under ClipFromCamera.
  return CreateGraphicsPipeline(device, pipeline_layout, render_pass, stages, vertex_bindings, vertex_attrs,
                                VK_CULL_MODE_BACK_BIT, false, kNumOutputs, &pipeline);
}

core::Status BatchRenderer::Impl::CreateShadowPipeline(VkShaderModule vert) {
  // Depth only, cleared; afterwards read by the next camera pass's fragment shaders.
  VkAttachmentDescription a{};
  a.format = shadow_format;
  a.samples = VK_SAMPLE_COUNT_1_BIT;
  a.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
  a.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
  a.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
  a.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
  a.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  a.finalLayout = VK_IMAGE_LAYOUT_DEPTH_STENCIL_READ_ONLY_OPTIMAL;
  const VkAttachmentReference depth_ref{0, VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL};
  VkSubpassDescription subpass{};
  subpass.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS;
  subpass.pDepthStencilAttachment = &depth_ref;
  std::array<VkSubpassDependency, 2> deps{};
  // After the previous camera pass's reads of the maps (and the previous maps' writes).
  deps[0].srcSubpass = VK_SUBPASS_EXTERNAL;
  deps[0].dstSubpass = 0;
  deps[0].srcStageMask = VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT | VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT;
  deps[0].dstStageMask = VK_PIPELINE_STAGE_EARLY_FRAGMENT_TESTS_BIT | VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT;
  deps[0].srcAccessMask = VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT;
  deps[0].dstAccessMask = VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_READ_BIT | VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT;
  // Before the camera pass samples them.
  deps[1].srcSubpass = 0;
  deps[1].dstSubpass = VK_SUBPASS_EXTERNAL;
  deps[1].srcStageMask = VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT;
  deps[1].dstStageMask = VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT;
  deps[1].srcAccessMask = VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT;
  deps[1].dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
  VkRenderPassCreateInfo rp_info{};
  rp_info.sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO;
  rp_info.attachmentCount = 1;
  rp_info.pAttachments = &a;
  rp_info.subpassCount = 1;
  rp_info.pSubpasses = &subpass;
  rp_info.dependencyCount = static_cast<std::uint32_t>(deps.size());
  rp_info.pDependencies = deps.data();
  PF_TRY(VkCheck(Counted(VkKind::kRenderPass, vkCreateRenderPass(device, &rp_info, nullptr, &shadow_pass)),
                 "vkCreateRenderPass"));

  VkPipelineShaderStageCreateInfo stage{};
  stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  stage.stage = VK_SHADER_STAGE_VERTEX_BIT;
  stage.module = vert;
  stage.pName = "main";
  const std::array<VkVertexInputBindingDescription, 2> vertex_bindings = {{
      {0, sizeof(Vertex), VK_VERTEX_INPUT_RATE_VERTEX},
      {1, sizeof(InstanceGpu), VK_VERTEX_INPUT_RATE_INSTANCE},
  }};
  const std::array<VkVertexInputAttributeDescription, 6> vertex_attrs = {{
      {0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(Vertex, position)},
      {3, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, clip_from_G) + 0},
      {4, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, clip_from_G) + 16},
      {5, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, clip_from_G) + 32},
      {6, 1, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(InstanceGpu, clip_from_G) + 48},
      {15, 1, VK_FORMAT_R32G32B32A32_UINT, offsetof(InstanceGpu, ids)},
  }};
  // No culling: open meshes (planes, thin parts) cast from either side. Slope-scaled depth
  // bias against acne on surfaces at a grazing angle to the light. The camera pipeline's
  // layout: the descriptor set stays bound.
  return CreateGraphicsPipeline(device, pipeline_layout, shadow_pass, std::span(&stage, 1), vertex_bindings,
                                vertex_attrs, VK_CULL_MODE_NONE, true, 0, &shadow_pipeline);
}

core::Status BatchRenderer::Impl::CreateArrayImage(VkFormat format, std::uint32_t w, std::uint32_t h,
                                                   std::uint32_t mips, std::uint32_t layers, VkImageUsageFlags usage,
                                                   VkImageAspectFlags aspect, VkImage* image, MemoryBlock* memory,
                                                   VkImageView* view) {
  VkImageCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO;
  info.imageType = VK_IMAGE_TYPE_2D;
  info.format = format;
  info.extent = {w, h, 1};
  info.mipLevels = mips;
  info.arrayLayers = layers;
  info.samples = VK_SAMPLE_COUNT_1_BIT;
  info.tiling = VK_IMAGE_TILING_OPTIMAL;
  info.usage = usage;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
  PF_TRY(VkCheck(Counted(VkKind::kImage, vkCreateImage(device, &info, nullptr, image)), "vkCreateImage"));
  PF_ASSIGN_OR_RETURN(*memory, AllocateImages(*ctx, std::span<const VkImage>(image, 1), VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0));
  VkImageViewCreateInfo view_info{};
  view_info.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO;
  view_info.image = *image;
  view_info.viewType = VK_IMAGE_VIEW_TYPE_2D_ARRAY;
  view_info.format = format;
  view_info.subresourceRange = {aspect, 0, mips, 0, layers};
  return VkCheck(Counted(VkKind::kImageView, vkCreateImageView(device, &view_info, nullptr, view)), "vkCreateImageView");
}

core::Status BatchRenderer::Impl::CreateShadowMaps(std::uint32_t layers) {
  Destroy(device, shadow_framebuffer);
  Destroy(device, shadow_view);
  Destroy(device, shadow_image);
  shadow_memory.Free();
  const std::uint32_t side = shadows ? shadow_size : 1;
  PF_TRY(CreateArrayImage(shadow_format, side, side, 1, layers,
                          VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT | VK_IMAGE_USAGE_SAMPLED_BIT,
                          VK_IMAGE_ASPECT_DEPTH_BIT, &shadow_image, &shadow_memory, &shadow_view));
  if (shadows) {
    VkFramebufferCreateInfo fb{};
    fb.sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO;
    fb.renderPass = shadow_pass;
    fb.attachmentCount = 1;
    fb.pAttachments = &shadow_view;
    fb.width = side;
    fb.height = side;
    fb.layers = layers;
    PF_TRY(VkCheck(Counted(VkKind::kFramebuffer, vkCreateFramebuffer(device, &fb, nullptr, &shadow_framebuffer)),
                   "vkCreateFramebuffer"));
  }
  shadow_layers = layers;
  shadow_fresh = true;
  WriteDescriptors();
  return core::Ok();
}

void BatchRenderer::Impl::WriteDescriptors() {
  const std::array<VkDescriptorImageInfo, 2> images = {{
      {texture_sampler, texture_view, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL},
      {shadow_sampler, shadow_view, VK_IMAGE_LAYOUT_DEPTH_STENCIL_READ_ONLY_OPTIMAL},
  }};
  std::array<VkWriteDescriptorSet, 2> writes{};
  for (std::uint32_t b = 0; b < 2; ++b) {
    writes[b].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
    writes[b].dstSet = descriptor_set;
    writes[b].dstBinding = b;
    writes[b].descriptorCount = 1;
    writes[b].descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;
    writes[b].pImageInfo = &images[b];
  }
  vkUpdateDescriptorSets(device, static_cast<std::uint32_t>(writes.size()), writes.data(), 0, nullptr);
}

core::Status BatchRenderer::Impl::EnsureSlot(FrameSlot& slot, std::size_t records, std::uint32_t views,
                                             std::uint32_t w, std::uint32_t h) {
  if (records > slot.instance_capacity || slot.instance_buffer == VK_NULL_HANDLE) {
    const std::size_t capacity = std::max<std::size_t>(records, 2 * slot.instance_capacity);
    Destroy(device, slot.instance_buffer);
    slot.instance_memory.Free();
    slot.instance_capacity = 0;
    PF_TRY(CreateBuffer(std::max<std::size_t>(capacity, 1) * sizeof(InstanceGpu),
                        VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, &slot.instance_buffer));
    PF_ASSIGN_OR_RETURN(slot.instance_memory,
                        AllocateBuffers(*ctx, std::span<const VkBuffer>(&slot.instance_buffer, 1),
                                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                            VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                        VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT));
    slot.instance_capacity = capacity;
  }
  if (views > slot.capacity || slot.width != w || slot.height != h) {
    DestroyOutputs(slot);
    slot.capacity = views;
    slot.width = w;
    slot.height = h;
    if (!direct_possible || !CreateOutputs(slot, true)) {
      DestroyOutputs(slot);
      slot.capacity = views;
      slot.width = w;
      slot.height = h;
      PF_TRY(CreateOutputs(slot, false));
    }
  }
  slot.views = views;
  if (slot.framebuffers.empty()) {
    // Passes over the whole capacity: a frame with fewer views uses the first ones.
    const std::uint32_t capacity = slot.capacity;
    const std::uint32_t passes = (capacity + views_per_pass - 1) / views_per_pass;
    slot.pass_views.assign(static_cast<std::size_t>(passes) * kNumOutputs, VK_NULL_HANDLE);
    slot.framebuffers.assign(passes, VK_NULL_HANDLE);
    for (std::uint32_t p = 0; p < passes; ++p) {
      const std::uint32_t first = p * views_per_pass, count = std::min(views_per_pass, capacity - first);
      std::array<VkImageView, kNumOutputs + 1> attachments{};
      for (std::uint32_t i = 0; i < kNumOutputs; ++i) {
        VkImageViewCreateInfo info{};
        info.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO;
        info.image = slot.images[i];
        info.viewType = VK_IMAGE_VIEW_TYPE_2D_ARRAY;
        info.format = kOutputFormats[i];
        info.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, first, count};
        VkImageView& view = slot.pass_views[static_cast<std::size_t>(p) * kNumOutputs + i];
        PF_TRY(VkCheck(Counted(VkKind::kImageView, vkCreateImageView(device, &info, nullptr, &view)), "vkCreateImageView"));
        attachments[i] = view;
      }
      attachments[kNumOutputs] = depth_view;
      VkFramebufferCreateInfo info{};
      info.sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO;
      info.renderPass = render_pass;
      info.attachmentCount = static_cast<std::uint32_t>(attachments.size());
      info.pAttachments = attachments.data();
      info.width = w;
      info.height = h;
      info.layers = count;
      PF_TRY(VkCheck(Counted(VkKind::kFramebuffer, vkCreateFramebuffer(device, &info, nullptr, &slot.framebuffers[p])),
                     "vkCreateFramebuffer"));
    }
  }
  return core::Ok();
}

core::Status BatchRenderer::Impl::CreateOutputs(FrameSlot& slot, bool direct) {
  const std::uint32_t views = slot.capacity, w = slot.width, h = slot.height;
  slot.direct = direct;
  for (std::uint32_t i = 0; i < kNumOutputs; ++i) {
    VkImageCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO;
    info.imageType = VK_IMAGE_TYPE_2D;
    info.format = kOutputFormats[i];
    info.extent = {w, h, 1};
    info.mipLevels = 1;
    info.arrayLayers = views;
    info.samples = VK_SAMPLE_COUNT_1_BIT;
    info.tiling = direct ? VK_IMAGE_TILING_LINEAR : VK_IMAGE_TILING_OPTIMAL;
    info.usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | (direct ? 0 : VK_IMAGE_USAGE_TRANSFER_SRC_BIT);
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    // Linear images start preinitialized: the host zeroes them before each frame.
    info.initialLayout = direct ? VK_IMAGE_LAYOUT_PREINITIALIZED : VK_IMAGE_LAYOUT_UNDEFINED;
    if (direct) {
      VkImageFormatProperties props{};
      if (vkGetPhysicalDeviceImageFormatProperties(ctx->physical_device, info.format, info.imageType, info.tiling,
                                                   info.usage, 0, &props) != VK_SUCCESS ||
          props.maxArrayLayers < views || props.maxExtent.width < w || props.maxExtent.height < h)
        return core::Fail("render: linear outputs not supported at this size");
    }
    PF_TRY(VkCheck(Counted(VkKind::kImage, vkCreateImage(device, &info, nullptr, &slot.images[i])), "vkCreateImage"));
  }
  if (direct) {
    PF_ASSIGN_OR_RETURN(slot.image_memory,
                        AllocateImages(*ctx, slot.images, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                                       VK_MEMORY_PROPERTY_HOST_CACHED_BIT));
    // The host reads each output as [num_views × H × W × texel]: only tightly packed
    // layouts qualify.
    for (std::uint32_t i = 0; i < kNumOutputs; ++i) {
      const VkImageSubresource sub{VK_IMAGE_ASPECT_COLOR_BIT, 0, 0};
      VkSubresourceLayout layout{};
      vkGetImageSubresourceLayout(device, slot.images[i], &sub, &layout);
      const VkDeviceSize row = static_cast<VkDeviceSize>(w) * kOutputTexelBytes[i];
      if (layout.rowPitch != row || (views > 1 && layout.arrayPitch != row * h))
        return core::Fail("render: linear outputs are not tightly packed");
      slot.outputs[i] = static_cast<std::uint8_t*>(slot.image_memory.mapped) + slot.image_memory.offsets[i] +
                        layout.offset;
    }
    slot.fresh = true;
  } else {
    PF_ASSIGN_OR_RETURN(slot.image_memory,
                        AllocateImages(*ctx, slot.images, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0));
  }
  if (direct) return core::Ok();

  const VkDeviceSize pixels = static_cast<VkDeviceSize>(views) * w * h;
  VkDeviceSize total = 0;
  for (std::uint32_t i = 0; i < kNumOutputs; ++i) {
    slot.readback_offsets[i] = total;
    total += pixels * kOutputTexelBytes[i];
  }
  PF_TRY(CreateBuffer(total, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &slot.readback_buffer));
  PF_ASSIGN_OR_RETURN(slot.readback_memory,
                      AllocateBuffers(*ctx, std::span<const VkBuffer>(&slot.readback_buffer, 1),
                                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                                      VK_MEMORY_PROPERTY_HOST_CACHED_BIT));
  for (std::uint32_t i = 0; i < kNumOutputs; ++i)
    slot.outputs[i] = static_cast<std::uint8_t*>(slot.readback_memory.mapped) +
                      slot.readback_memory.offsets[0] + slot.readback_offsets[i];
  return core::Ok();
}

namespace {

void DestroyFramebuffers(VkDevice device, FrameSlot& slot) {
  for (VkFramebuffer& fb : slot.framebuffers) Destroy(device, fb);
  slot.framebuffers.clear();
  for (VkImageView& v : slot.pass_views) Destroy(device, v);
  slot.pass_views.clear();
}

}  // namespace

void BatchRenderer::Impl::DestroyOutputs(FrameSlot& slot) {
  DestroyFramebuffers(device, slot);
  for (VkImage& image : slot.images) Destroy(device, image);
  slot.image_memory.Free();
  Destroy(device, slot.readback_buffer);
  slot.readback_memory.Free();
  slot.outputs = {};
  slot.views = slot.capacity = slot.width = slot.height = 0;
  slot.direct = false;
}

void BatchRenderer::Impl::DestroyDepth() {
  // Framebuffers name the depth view: each slot makes new ones when it next draws.
  for (FrameSlot& slot : slots) DestroyFramebuffers(device, slot);
  Destroy(device, depth_view);
  Destroy(device, depth_image);
  depth_memory.Free();
  num_views = width = height = 0;
  Destroy(device, shadow_framebuffer);
  Destroy(device, shadow_view);
  Destroy(device, shadow_image);
  shadow_memory.Free();
  shadow_layers = shadow_cameras = 0;
}

core::Status BatchRenderer::Impl::EnsureDepth(std::uint32_t views, std::uint32_t cameras, std::uint32_t w,
                                              std::uint32_t h) {
  if (views <= num_views && w == width && h == height && cameras == shadow_cameras) return core::Ok();
  const VkPhysicalDeviceLimits& limits = ctx->properties.limits;
  const std::uint32_t max_layers = std::min(limits.maxImageArrayLayers, limits.maxFramebufferLayers);
  if (views > max_layers)
    return core::Fail(core::StrCat("render: ", views, " views exceed the device's ", max_layers,
                                   " image array / framebuffer layers"));
  if (w > limits.maxFramebufferWidth || h > limits.maxFramebufferHeight)
    return core::Fail(core::StrCat("render: view size ", w, "x", h, " exceeds the device's ",
                                   limits.maxFramebufferWidth, "x", limits.maxFramebufferHeight));
  // A frame in flight may still draw with the old one.
  PF_TRY(VkCheck(vkQueueWaitIdle(ctx->queue), "vkQueueWaitIdle"));
  DestroyDepth();
  views_per_pass = static_cast<std::uint32_t>(
      std::clamp<std::uint64_t>(pass_pixels / (static_cast<std::uint64_t>(w) * h), 1, views));
  // Envs a run of `vpp` consecutive views touches at most: that many shadow maps per pass.
  auto envs_touched = [cameras](std::uint32_t vpp) { return std::min(vpp, (vpp + cameras - 2) / cameras + 1); };
  if (shadows) {
    // Automatic size: the views' larger side, rounded up to a power of two (texels about
    // as fine as the views' pixels over the scene).
    if (shadow_size_config != 0) {
      shadow_size = shadow_size_config;
    } else {
      shadow_size = 64;
      while (shadow_size < std::max(w, h) && shadow_size < 2048) shadow_size *= 2;
      shadow_size = std::min({shadow_size, limits.maxFramebufferWidth, limits.maxFramebufferHeight});
    }
    const std::uint64_t map_bytes = static_cast<std::uint64_t>(shadow_size) * shadow_size * 4;
    const auto budget_maps = static_cast<std::uint32_t>(
        std::clamp<std::uint64_t>(shadow_memory_bytes / map_bytes, 1, limits.maxImageArrayLayers));
    if (envs_touched(views_per_pass) > budget_maps)
      views_per_pass = std::max<std::uint32_t>((budget_maps - 1) * cameras, 1);
  }
  PF_TRY(CreateShadowMaps(shadows ? envs_touched(views_per_pass) : 1));
  shadow_cameras = cameras;
  const std::uint32_t layers = views_per_pass;
  PF_TRY(CreateArrayImage(depth_format, w, h, 1, layers, VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT,
                          VK_IMAGE_ASPECT_DEPTH_BIT, &depth_image, &depth_memory, &depth_view));
  num_views = views;
  width = w;
  height = h;
  return core::Ok();
}

BatchRenderer::Impl::~Impl() {
  if (device == VK_NULL_HANDLE) return;
  vkDeviceWaitIdle(device);
  DestroyDepth();
  for (FrameSlot& slot : slots) {
    DestroyOutputs(slot);
    Destroy(device, slot.instance_buffer);
    slot.instance_memory.Free();
    Destroy(device, slot.fence);
    if (slot.cmd != VK_NULL_HANDLE) {
      vkFreeCommandBuffers(device, ctx->command_pool, 1, &slot.cmd);
      NoteLive(VkKind::kCommandBuffer, -1);
    }
  }
  Destroy(device, vertex_buffer);
  Destroy(device, index_buffer);
  Destroy(device, texture_view);
  Destroy(device, texture_image);
  Destroy(device, texture_sampler);
  Destroy(device, shadow_sampler);
  Destroy(device, pipeline);
  Destroy(device, shadow_pipeline);
  Destroy(device, render_pass);
  Destroy(device, render_pass_load);
  Destroy(device, shadow_pass);
  Destroy(device, pipeline_layout);
  Destroy(device, descriptor_pool);
  Destroy(device, set_layout);
}

// ---------------------------------------------------------------------------------------
// Per frame.

namespace {

// Frustum of one view in its camera frame, for bounding spheres.
struct ViewFrustum {
  // Inward unit normals of the left, right, top and bottom planes (all through the origin).
  std::array<core::Vec3, 4> normals;
  double near = 0.0, far = 0.0;
  // Pixels per metre of error at unit depth, worst case over the image: a displacement d at
  // depth z moves the image point by at most |d| * f / z * sqrt(1 + tan² of the ray angle).
  double pixels_per_metre = 0.0;
};

ViewFrustum MakeFrustum(const core::CameraIntrinsics& K) {
  // Visible x/z in [x0, x1], y/z in [y0, y1].
  const double x0 = -K.cx / K.fx, x1 = (K.width - K.cx) / K.fx;
  const double y0 = -K.cy / K.fy, y1 = (K.height - K.cy) / K.fy;
  ViewFrustum f;
  f.normals = {core::Vec3(1, 0, -x0).normalized(), core::Vec3(-1, 0, x1).normalized(),
               core::Vec3(0, 1, -y0).normalized(), core::Vec3(0, -1, y1).normalized()};
  f.near = K.near;
  f.far = K.far;
  const double tx = std::max(std::abs(x0), std::abs(x1)), ty = std::max(std::abs(y0), std::abs(y1));
  f.pixels_per_metre = std::max(K.fx, K.fy) * std::sqrt(1.0 + tx * tx + ty * ty);
  return f;
}

}  // namespace

void BatchRenderer::Impl::BuildRecords(const core::RenderSnapshot& s, FrameSlot& slot) {
  const std::uint32_t envs = s.num_envs, cams = s.num_cameras, n = s.num_instances();
  const std::uint32_t views = envs * cams;

  // World from mesh frame of every visible (env, instance), shared by the env's cameras.
  for (std::uint32_t e = 0; e < envs; ++e) {
    for (std::uint32_t k = 0; k < n; ++k) {
      const std::size_t ek = static_cast<std::size_t>(e) * n + k;
      if (!s.instance_visible[ek]) continue;
      const core::InstanceDesc& inst = s.instances[k];
      X_WG[ek] = core::PoseFromArray(
                     &s.body_poses[(static_cast<std::size_t>(e) * s.num_bodies + inst.body) * core::kPoseSize]) *
                 inst.X_BG;
    }
  }
  auto casts = [&](std::size_t ek, const core::InstanceDesc& inst) {
    const MeshGpu& mesh = meshes[inst.mesh.value];
    return s.instance_visible[ek] && levels[mesh.first_level].index_count > 0 &&
           mesh.radius * inst.scale.cwiseAbs().maxCoeff() <= kMaxCasterRadius;
  };

  // The light's view of each env: an orthographic box along the light around the bounding
  // spheres of everything that casts. Receivers farther along the light than the box are
  // still shadowed by what is in it (their depth clamps to the far plane).
  if (shadows) {
    if (shadow_views.size() < envs) shadow_views.resize(envs);
    for (std::uint32_t e = 0; e < envs; ++e) {
      ShadowView& sv = shadow_views[e];
      const core::Vec3 d = s.lights[e].direction_W.normalized();  // light frame +z
      const core::Vec3 x = (std::abs(d.z()) < 0.9 ? core::Vec3::UnitZ() : core::Vec3::UnitX()).cross(d).normalized();
      core::Mat3 R_LW;
      R_LW.row(0) = x.transpose();
      R_LW.row(1) = d.cross(x).transpose();
      R_LW.row(2) = d.transpose();
      core::Vec3 lo = core::Vec3::Constant(1e300), hi = core::Vec3::Constant(-1e300);
      sv.casts = false;
      for (std::uint32_t k = 0; k < n; ++k) {
        const std::size_t ek = static_cast<std::size_t>(e) * n + k;
        const core::InstanceDesc& inst = s.instances[k];
        if (!casts(ek, inst)) continue;
        const MeshGpu& mesh = meshes[inst.mesh.value];
        const core::Vec3 c_L = R_LW * (X_WG[ek] * inst.scale.cwiseProduct(mesh.centre));
        const double r = mesh.radius * inst.scale.cwiseAbs().maxCoeff() * (1.0 + 1e-5) + 1e-6;
        lo = lo.cwiseMin(c_L - core::Vec3::Constant(r));
        hi = hi.cwiseMax(c_L + core::Vec3::Constant(r));
        sv.casts = true;
      }
      if (!sv.casts) continue;
      const core::Vec3 extent = (hi - lo).cwiseMax(core::Vec3::Constant(1e-6));
      // map = (u, v, depth) in [0, 1]³ over the box; clip = (2u - 1, 2v - 1, depth, 1).
      core::Mat4 map_from_W = core::Mat4::Identity();
      map_from_W.topLeftCorner<3, 3>() = extent.cwiseInverse().asDiagonal() * R_LW;
      map_from_W.topRightCorner<3, 1>() = -lo.cwiseQuotient(extent);
      core::Mat4 clip_from_map = core::Mat4::Identity();
      clip_from_map(0, 0) = clip_from_map(1, 1) = 2.0;
      clip_from_map(0, 3) = clip_from_map(1, 3) = -1.0;
      sv.clip_from_W = clip_from_map * map_from_W;
      sv.map_from_W = map_from_W.topRows<3>();
      sv.map_from_W(2, 3) -= kShadowBias / extent.z();
      sv.pixels_per_metre = shadow_size / std::max(extent.x(), extent.y());
    }
  }

  // Pass 1: each (view, instance)'s bucket (render pass, level of detail), or kNotDrawn;
  // then each shadow caster's (pass + passes, level) per env of a pass.
  const auto num_levels = static_cast<std::uint32_t>(levels.size());
  const std::uint32_t passes = (views + views_per_pass - 1) / views_per_pass;
  const std::uint32_t groups = shadows ? 2 * passes : passes;
  std::fill(bucket.begin(), bucket.begin() + static_cast<std::ptrdiff_t>(groups) * num_levels, 0u);
  auto level_for = [&](const MeshGpu& mesh, double pixels_per_mesh_unit) {
    for (std::uint32_t l = mesh.num_levels - 1; l > 0; --l)
      if (levels[mesh.first_level + l].error * pixels_per_mesh_unit <= lod.pixel_error) return l;
    return 0u;
  };
  for (std::uint32_t v = 0; v < views; ++v) {
    const std::uint32_t e = v / cams;
    const core::Pose X_CW =
        core::PoseFromArray(&s.camera_poses[static_cast<std::size_t>(v) * core::kPoseSize]).inverse();
    const ViewFrustum frustum = MakeFrustum(s.camera_intrinsics[v]);
    for (std::uint32_t k = 0; k < n; ++k) {
      const std::size_t ek = static_cast<std::size_t>(e) * n + k;
      std::uint32_t& key = keys[static_cast<std::size_t>(v) * n + k];
      key = kNotDrawn;
      if (!s.instance_visible[ek]) continue;
      const core::InstanceDesc& inst = s.instances[k];
      const MeshGpu& mesh = meshes[inst.mesh.value];
      if (levels[mesh.first_level].index_count == 0) continue;
      const double max_scale = inst.scale.cwiseAbs().maxCoeff();
      // Bounding sphere in the camera frame, padded for float rounding of the vertices.
      const core::Vec3 p_C = X_CW * (X_WG[ek] * inst.scale.cwiseProduct(mesh.centre));
      const double r = mesh.radius * max_scale * (1.0 + 1e-5) + 1e-9;
      if (p_C.z() + r < frustum.near || p_C.z() - r > frustum.far) continue;
      bool outside = false;
      for (const core::Vec3& normal : frustum.normals) outside = outside || normal.dot(p_C) < -r;
      if (outside) continue;
      std::uint32_t level = 0;
      const double z_nearest = p_C.z() - r;
      if (lod.enabled && mesh.num_levels > 1 && z_nearest > frustum.near)
        level = level_for(mesh, frustum.pixels_per_metre * max_scale / z_nearest);  // pixels per mesh unit
      key = (v / views_per_pass) * num_levels + mesh.first_level + level;
      ++bucket[key];
    }
  }
  if (shadows) {
    std::size_t at = 0;
    for (std::uint32_t p = 0; p < passes; ++p) {
      const auto [first, last] = PassEnvs(p, cams, views);
      for (std::uint32_t e = first; e <= last; ++e) {
        for (std::uint32_t k = 0; k < n; ++k) {
          const std::size_t ek = static_cast<std::size_t>(e) * n + k;
          std::uint32_t& key = shadow_keys[at++];
          key = kNotDrawn;
          const core::InstanceDesc& inst = s.instances[k];
          if (!shadow_views[e].casts || !casts(ek, inst)) continue;
          const MeshGpu& mesh = meshes[inst.mesh.value];
          const std::uint32_t level =
              mesh.num_levels > 1 ? level_for(mesh, shadow_views[e].pixels_per_metre * inst.scale.cwiseAbs().maxCoeff()) : 0;
          key = (passes + p) * num_levels + mesh.first_level + level;
          ++bucket[key];
        }
      }
    }
  }

  // Buckets → one draw each; bucket[] becomes the next free record of its bucket.
  draws.clear();
  std::uint32_t total = 0;
  slot.stats = {};
  for (std::uint32_t g = 0; g < groups; ++g) {
    pass_draws[g] = static_cast<std::uint32_t>(draws.size());
    for (std::uint32_t l = 0; l < num_levels; ++l) {
      std::uint32_t& b = bucket[static_cast<std::size_t>(g) * num_levels + l];
      const std::uint32_t count = b;
      b = total;
      if (count == 0) continue;
      draws.push_back({l, total, count});
      total += count;
      const std::uint64_t triangles = static_cast<std::uint64_t>(count) * (levels[l].index_count / 3);
      if (g < passes) {
        slot.stats.instances += count;
        slot.stats.triangles += triangles;
      } else {
        slot.stats.shadow_triangles += triangles;
      }
    }
  }
  pass_draws[groups] = static_cast<std::uint32_t>(draws.size());

  // Pass 2: the records.
  auto* records = static_cast<InstanceGpu*>(slot.instance_memory.mapped);
  auto model_matrix = [&](std::size_t ek, const core::InstanceDesc& inst) {
    core::Mat4 M = core::Mat4::Identity();
    M.topLeftCorner<3, 3>() = X_WG[ek].linear() * inst.scale.asDiagonal();
    M.topRightCorner<3, 1>() = X_WG[ek].translation();
    return M;
  };
  for (std::uint32_t v = 0; v < views; ++v) {
    const std::uint32_t e = v / cams;
    const core::Pose X_WC = core::PoseFromArray(&s.camera_poses[static_cast<std::size_t>(v) * core::kPoseSize]);
    const core::Mat4 clip_from_W = ClipFromCamera(s.camera_intrinsics[v]) * X_WC.inverse().matrix();
    const core::DirectionalLight& light = s.lights[e];
    const core::Vec3 to_light = -light.direction_W.normalized();
    const core::Vec3 light_rgb = light.colour * light.intensity;
    const bool shadowed = shadows && shadow_views[e].casts;
    const std::uint32_t shadow_layer = shadowed ? e - PassEnvs(v / views_per_pass, cams, views).first : kNoShadow;
    for (std::uint32_t k = 0; k < n; ++k) {
      const std::uint32_t key = keys[static_cast<std::size_t>(v) * n + k];
      if (key == kNotDrawn) continue;
      const std::size_t ek = static_cast<std::size_t>(e) * n + k;
      const core::InstanceDesc& inst = s.instances[k];
      const MeshGpu& mesh = meshes[inst.mesh.value];
      InstanceGpu& rec = records[bucket[key]++];
      const core::Mat4 M = model_matrix(ek, inst);
      StoreMatrix(clip_from_W * M, rec.clip_from_G);
      if (shadowed) {
        const Eigen::Matrix<double, 3, 4> S = shadow_views[e].map_from_W * M;
        for (int r = 0; r < 3; ++r)
          for (int c = 0; c < 4; ++c) rec.shadow_from_G[4 * r + c] = static_cast<float>(S(r, c));
      } else {
        std::fill(std::begin(rec.shadow_from_G), std::end(rec.shadow_from_G), 0.0f);
      }
      // The highlight's half vector, for a viewer at the camera looking at the instance's
      // centre (one direction per instance: the lighting is per vertex anyway).
      const core::Vec3 c_W = X_WG[ek] * inst.scale.cwiseProduct(mesh.centre);
      core::Vec3 to_eye = X_WC.translation() - c_W;
      to_eye = to_eye.norm() > 1e-12 ? core::Vec3(to_eye.normalized()) : to_light;
      core::Vec3 half = to_light + to_eye;
      half = half.norm() > 1e-12 ? core::Vec3(half.normalized()) : to_light;
      const core::Vec3 light_G = X_WG[ek].linear().transpose() * to_light;
      const core::Vec3 half_G = X_WG[ek].linear().transpose() * half;
      const core::Vec4& colour = s.instance_colours.empty() ? mesh.colour : s.instance_colours[ek];
      for (int i = 0; i < 3; ++i) {
        rec.light_G[i] = static_cast<float>(light_G[i]);
        rec.half_G[i] = static_cast<float>(half_G[i]);
        rec.inv_scale[i] = static_cast<float>(1.0 / inst.scale[i]);
        rec.colour[i] = static_cast<float>(colour[i] * light_rgb[i]);
        rec.specular[i] = static_cast<float>(light_rgb[i] * mesh.specular);
      }
      rec.light_G[3] = static_cast<float>(light.ambient);
      rec.half_G[3] = mesh.specular > 0.0 ? static_cast<float>(mesh.shininess) : 0.0f;  // 0: no highlight
      rec.inv_scale[3] = static_cast<float>(mesh.texture_layer);
      rec.colour[3] = static_cast<float>(colour[3]);
      rec.specular[3] = 0.0f;
      rec.ids[0] = s.segmentation_ids[ek];
      rec.ids[1] = inst.semantic_class;
      rec.ids[2] = v % views_per_pass;
      rec.ids[3] = shadow_layer;
    }
  }
  if (shadows) {
    std::size_t at = 0;
    for (std::uint32_t p = 0; p < passes; ++p) {
      const auto [first, last] = PassEnvs(p, cams, views);
      for (std::uint32_t e = first; e <= last; ++e) {
        for (std::uint32_t k = 0; k < n; ++k) {
          const std::uint32_t key = shadow_keys[at++];
          if (key == kNotDrawn) continue;
          const std::size_t ek = static_cast<std::size_t>(e) * n + k;
          InstanceGpu& rec = records[bucket[key]++];
          StoreMatrix(shadow_views[e].clip_from_W * model_matrix(ek, s.instances[k]), rec.clip_from_G);
          rec.ids[0] = rec.ids[1] = rec.ids[3] = 0;
          rec.ids[2] = e - first;
        }
      }
    }
  }
}

void BatchRenderer::Impl::RecordCommands(FrameSlot& slot) {
  const VkCommandBuffer cmd = slot.cmd;
  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  PF_CHECK(vkResetCommandBuffer(cmd, 0) == VK_SUCCESS);
  PF_CHECK(vkBeginCommandBuffer(cmd, &begin) == VK_SUCCESS);

  if (slot.direct) {
    // The host zeroed the outputs (Submit): make that visible to the passes, which load them.
    std::array<VkImageMemoryBarrier, kNumOutputs> before{};
    for (std::uint32_t i = 0; i < kNumOutputs; ++i) {
      VkImageMemoryBarrier& b = before[i];
      b.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER;
      b.srcAccessMask = VK_ACCESS_HOST_WRITE_BIT;
      b.dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_READ_BIT | VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
      b.oldLayout = slot.fresh ? VK_IMAGE_LAYOUT_PREINITIALIZED : VK_IMAGE_LAYOUT_GENERAL;
      b.newLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL;
      b.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
      b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
      b.image = slot.images[i];
      b.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, slot.capacity};
    }
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_HOST_BIT, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, 0, 0,
                         nullptr, 0, nullptr, kNumOutputs, before.data());
    slot.fresh = false;
  }

  if (!shadows && shadow_fresh) {
    // The placeholder map is never drawn or read (no record names a layer), but the
    // descriptor set names it in the layout it is sampled in.
    VkImageMemoryBarrier b{};
    b.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER;
    b.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
    b.oldLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    b.newLayout = VK_IMAGE_LAYOUT_DEPTH_STENCIL_READ_ONLY_OPTIMAL;
    b.srcQueueFamilyIndex = b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    b.image = shadow_image;
    b.subresourceRange = {VK_IMAGE_ASPECT_DEPTH_BIT, 0, 1, 0, shadow_layers};
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, 0, 0, nullptr,
                         0, nullptr, 1, &b);
  }
  shadow_fresh = false;

  std::array<VkClearValue, kNumOutputs + 1> clears{};  // all zero: background
  clears[kNumOutputs].depthStencil = {1.0f, 0};
  const VkRect2D area{{0, 0}, {slot.width, slot.height}};
  const VkViewport viewport{0.0f, 0.0f, static_cast<float>(slot.width), static_cast<float>(slot.height), 0.0f, 1.0f};
  const VkRect2D shadow_area{{0, 0}, {shadow_size, shadow_size}};
  const VkViewport shadow_viewport{0.0f, 0.0f, static_cast<float>(shadow_size), static_cast<float>(shadow_size), 0.0f, 1.0f};
  VkClearValue shadow_clear{};
  shadow_clear.depthStencil = {1.0f, 0};
  const std::array<VkBuffer, 3> vertex_buffers = {vertex_buffer, slot.instance_buffer, vertex_buffer};
  const std::array<VkDeviceSize, 3> offsets = {0, 0, uv_offset};
  const std::uint32_t passes = (slot.views + views_per_pass - 1) / views_per_pass;  // of the frame
  vkCmdBindVertexBuffers(cmd, 0, textured ? 3 : 2, vertex_buffers.data(), offsets.data());
  vkCmdBindIndexBuffer(cmd, index_buffer, 0, VK_INDEX_TYPE_UINT32);
  vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline_layout, 0, 1, &descriptor_set, 0, nullptr);
  // One render pass drawing bucket group g (pass p's views, or passes + p: their shadow
  // maps), binding `bind` with its viewport first unless it is VK_NULL_HANDLE.
  auto record_pass = [&](VkRenderPass render, VkFramebuffer framebuffer, const VkRect2D& rect,
                         std::span<const VkClearValue> clear_values, VkPipeline bind, const VkViewport& view,
                         std::uint32_t g) {
    VkRenderPassBeginInfo rp{};
    rp.sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO;
    rp.renderPass = render;
    rp.framebuffer = framebuffer;
    rp.renderArea = rect;
    rp.clearValueCount = static_cast<std::uint32_t>(clear_values.size());
    rp.pClearValues = clear_values.data();
    vkCmdBeginRenderPass(cmd, &rp, VK_SUBPASS_CONTENTS_INLINE);
    if (bind != VK_NULL_HANDLE) {
      vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, bind);
      vkCmdSetViewport(cmd, 0, 1, &view);
      vkCmdSetScissor(cmd, 0, 1, &rect);
    }
    for (std::uint32_t d = pass_draws[g]; d < pass_draws[g + 1]; ++d) {
      const DrawGpu& draw = draws[d];
      const LevelGpu& level = levels[draw.level];
      vkCmdDrawIndexed(cmd, level.index_count, draw.count, level.first_index, level.vertex_offset,
                       draw.first_instance);
    }
    vkCmdEndRenderPass(cmd);
  };
  for (std::uint32_t p = 0; p < passes; ++p) {
    // This pass's envs' shadow maps first; the camera pipeline is bound again after them.
    if (shadows)
      record_pass(shadow_pass, shadow_framebuffer, shadow_area, std::span(&shadow_clear, 1), shadow_pipeline,
                  shadow_viewport, passes + p);
    record_pass(slot.direct ? render_pass_load : render_pass, slot.framebuffers[p], area, clears,
                p == 0 || shadows ? pipeline : VK_NULL_HANDLE, viewport, p);
  }

  // Outputs to the host: read in place (general layout), or copied, all layers of each
  // output in one copy, into the readback buffer's [num_views × H × W × texel].
  std::array<VkImageMemoryBarrier, kNumOutputs> after{};
  for (std::uint32_t i = 0; i < kNumOutputs; ++i) {
    VkImageMemoryBarrier& b = after[i];
    b.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER;
    b.srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
    b.dstAccessMask = slot.direct ? VK_ACCESS_HOST_READ_BIT : VK_ACCESS_TRANSFER_READ_BIT;
    b.oldLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL;
    b.newLayout = slot.direct ? VK_IMAGE_LAYOUT_GENERAL : VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
    b.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    b.image = slot.images[i];
    b.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, slot.capacity};
  }
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                       slot.direct ? VK_PIPELINE_STAGE_HOST_BIT : VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, nullptr,
                       0, nullptr, kNumOutputs, after.data());
  if (!slot.direct) {
    for (std::uint32_t i = 0; i < kNumOutputs; ++i) {
      VkBufferImageCopy copy{};
      copy.bufferOffset = slot.readback_offsets[i];
      copy.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, slot.views};
      copy.imageExtent = {slot.width, slot.height, 1};
      vkCmdCopyImageToBuffer(cmd, slot.images[i], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, slot.readback_buffer, 1,
                             &copy);
    }
    BarrierTransferToHost(cmd, slot.readback_buffer);
  }
  PF_CHECK(vkEndCommandBuffer(cmd) == VK_SUCCESS);
}

// ---------------------------------------------------------------------------------------

core::Result<std::unique_ptr<BatchRenderer>> BatchRenderer::Create(
    std::shared_ptr<VulkanContext> context, const std::vector<RenderMeshInput>& meshes,
    const RenderConfig& config) {
  if (!context) return core::Fail("render: BatchRenderer::Create needs a VulkanContext");
  const LodConfig& lod = config.lod;
  if (!(lod.pixel_error >= 0.0) || !(lod.reduction > 0.0 && lod.reduction < 1.0))
    return core::Fail("render: LodConfig needs pixel_error >= 0 and 0 < reduction < 1",
                      FieldLocation("lod"));
  auto impl = std::make_unique<Impl>();
  impl->context = std::move(context);
  impl->lod = lod;
  impl->shadows = config.shadows;
  impl->shadow_size_config = config.shadow_map_size;
  impl->shadow_memory_bytes = config.shadow_memory_bytes;
  impl->texture_size = config.texture_size;
  impl->pass_pixels = config.pass_pixels != 0 ? config.pass_pixels
                      : impl->context->device().type == "cpu" ? kCpuPassPixels
                                                               : ~std::uint64_t{0};
  PF_TRY(impl->Init(meshes));
  return std::unique_ptr<BatchRenderer>(new BatchRenderer(std::move(impl)));
}

core::Result<std::unique_ptr<BatchRenderer>> BatchRenderer::Create(
    const RenderConfig& config, const std::vector<RenderMeshInput>& meshes) {
  PF_ASSIGN_OR_RETURN(std::shared_ptr<VulkanContext> context, VulkanContext::Create(config));
  return Create(std::move(context), meshes, config);
}

BatchRenderer::BatchRenderer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BatchRenderer::~BatchRenderer() = default;

namespace {

// Builds no strings unless something is wrong: this runs every frame.
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
  if (!s.instance_colours.empty() && s.instance_colours.size() != envs * n)
    return size_error("instance_colours", s.instance_colours.size(), envs * n);
  if (s.camera_intrinsics.size() != views)
    return size_error("camera_intrinsics", s.camera_intrinsics.size(), views);
  if (s.camera_poses.size() != views * core::kPoseSize)
    return size_error("camera_poses", s.camera_poses.size(), views * core::kPoseSize);
  if (s.lights.size() != envs) return size_error("lights", s.lights.size(), envs);
  for (std::size_t k = 0; k < n; ++k) {
    const core::InstanceDesc& inst = s.instances[k];
    auto field = [k] { return FieldLocation(core::StrCat("instances[", k, "]")); };
    if (!inst.mesh.valid() || inst.mesh.value >= num_meshes)
      return core::Fail(core::StrCat("render: mesh id ", inst.mesh.value, " not uploaded (",
                                     num_meshes, " meshes)"), field());
    if (inst.body >= s.num_bodies)
      return core::Fail(core::StrCat("render: body ", inst.body, " out of range (", s.num_bodies,
                                     " bodies)"), field());
    if ((inst.scale.array() == 0.0).any()) return core::Fail("render: zero scale", field());
  }
  const core::CameraIntrinsics& first = s.camera_intrinsics[0];
  for (std::size_t v = 0; v < views; ++v) {
    const core::CameraIntrinsics& K = s.camera_intrinsics[v];
    auto field = [v] { return FieldLocation(core::StrCat("camera_intrinsics[", v, "]")); };
    if (K.width == 0 || K.height == 0)
      return core::Fail("render: camera with zero width or height", field());
    if (K.width != first.width || K.height != first.height)
      return core::Fail(core::StrCat("render: every view must have the same size; view ", v, " is ",
                                     K.width, "x", K.height, ", view 0 is ", first.width, "x",
                                     first.height), field());
    if (!(K.near > 0.0) || !(K.far > K.near))
      return core::Fail(core::StrCat("render: need 0 < near < far, got near ", K.near, " far ", K.far),
                        field());
    if (!(K.fx > 0.0) || !(K.fy > 0.0))
      return core::Fail("render: focal lengths must be positive", field());
  }
  return core::Ok();
}

}  // namespace

core::Status BatchRenderer::Submit(const core::RenderSnapshot& s) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  Impl& r = *impl_;
  if (r.in_flight == kNumSlots)
    return core::Fail(core::StrCat("render: Submit with ", kNumSlots, " frames in flight; Collect first"));
  PF_TRY(CheckSnapshot(s, r.meshes.size()));
  const std::uint32_t envs = s.num_envs, n = s.num_instances();
  const std::uint32_t views = envs * s.num_cameras;
  const std::uint32_t w = s.camera_intrinsics[0].width, h = s.camera_intrinsics[0].height;
  FrameSlot& slot = r.slots[r.next_slot];
  if (r.collected == r.next_slot) r.collected = kNoSlot;  // its results are overwritten now
  PF_TRY(r.EnsureDepth(views, s.num_cameras, w, h));
  const std::size_t shadow_slots = r.shadows ? r.ShadowSlots(views, s.num_cameras) : 0;
  PF_TRY(r.EnsureSlot(slot, (static_cast<std::size_t>(views) + shadow_slots) * n, views, w, h));
  if (r.shadow_keys.size() < shadow_slots * n) r.shadow_keys.resize(shadow_slots * n);
  const std::size_t env_instances = static_cast<std::size_t>(envs) * n;
  if (r.X_WG.size() < env_instances) r.X_WG.resize(env_instances);
  if (r.keys.size() < static_cast<std::size_t>(views) * n) r.keys.resize(static_cast<std::size_t>(views) * n);
  const std::size_t passes = (views + r.views_per_pass - 1) / r.views_per_pass;
  if (r.bucket.size() < 2 * passes * r.levels.size()) {
    r.bucket.resize(2 * passes * r.levels.size());
    r.draws.reserve(2 * passes * r.levels.size());
    r.pass_draws.resize(2 * passes + 1);
  }

  if (slot.direct) {
    // Outputs read in place are zeroed (background) here rather than cleared by the passes:
    // one large memset costs far less than llvmpipe's clears, 64-pixel tile row by row.
    const std::size_t pixels = static_cast<std::size_t>(views) * w * h;
    for (std::uint32_t i = 0; i < kNumOutputs; ++i) std::memset(slot.outputs[i], 0, pixels * kOutputTexelBytes[i]);
    if (!(slot.image_memory.flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) {
      VkMappedMemoryRange range{};
      range.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
      range.memory = slot.image_memory.memory;
      range.offset = 0;
      range.size = VK_WHOLE_SIZE;
      PF_TRY(VkCheck(vkFlushMappedMemoryRanges(r.device, 1, &range), "vkFlushMappedMemoryRanges"));
    }
  }
  r.BuildRecords(s, slot);
  r.RecordCommands(slot);
  VkSubmitInfo submit{};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &slot.cmd;
  PF_TRY(VkCheck(vkQueueSubmit(r.ctx->queue, 1, &submit, slot.fence), "vkQueueSubmit"));
  r.next_slot = (r.next_slot + 1) % kNumSlots;
  ++r.in_flight;
  slot.stats.record_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return core::Ok();
}

core::Status BatchRenderer::Collect() {
  using Clock = std::chrono::steady_clock;
  Impl& r = *impl_;
  if (r.in_flight == 0) return core::Fail("render: Collect with no frame in flight");
  const std::uint32_t oldest = (r.next_slot + kNumSlots - r.in_flight) % kNumSlots;
  FrameSlot& slot = r.slots[oldest];
  const auto wait_start = Clock::now();
  PF_TRY(VkCheck(vkWaitForFences(r.device, 1, &slot.fence, VK_TRUE, UINT64_MAX), "vkWaitForFences"));
  PF_TRY(VkCheck(vkResetFences(r.device, 1, &slot.fence), "vkResetFences"));
  const auto readback_start = Clock::now();
  --r.in_flight;
  const MemoryBlock& host_memory = slot.direct ? slot.image_memory : slot.readback_memory;
  if (!(host_memory.flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) {
    VkMappedMemoryRange range{};
    range.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
    range.memory = host_memory.memory;
    range.offset = 0;
    range.size = VK_WHOLE_SIZE;
    PF_TRY(VkCheck(vkInvalidateMappedMemoryRanges(r.device, 1, &range), "vkInvalidateMappedMemoryRanges"));
  }
  r.collected = oldest;
  slot.stats.gpu_ms = std::chrono::duration<double, std::milli>(readback_start - wait_start).count();
  slot.stats.readback_ms = std::chrono::duration<double, std::milli>(Clock::now() - readback_start).count();
  return core::Ok();
}

core::Status BatchRenderer::Render(const core::RenderSnapshot& snapshot) {
  if (impl_->in_flight != 0)
    return core::Fail("render: Render with frames in flight; Collect them first");
  PF_TRY(Submit(snapshot));
  return Collect();
}

std::uint32_t BatchRenderer::frames_in_flight() const { return impl_->in_flight; }

const BatchRenderer::FrameStats& BatchRenderer::last_stats() const {
  static const FrameStats kNone;
  const FrameSlot* slot = impl_->Shown();
  return slot ? slot->stats : kNone;
}

std::uint32_t BatchRenderer::num_views() const { return impl_->Shown() ? impl_->Shown()->views : 0; }
std::uint32_t BatchRenderer::width() const { return impl_->Shown() ? impl_->Shown()->width : 0; }
std::uint32_t BatchRenderer::height() const { return impl_->Shown() ? impl_->Shown()->height : 0; }

namespace {

template <class T>
std::span<const T> Output(const FrameSlot* slot, std::uint32_t output, std::size_t components) {
  if (slot == nullptr) return {};
  const std::uint8_t* base = slot->outputs[output];
  const std::size_t count = static_cast<std::size_t>(slot->views) * slot->width * slot->height * components;
  return {reinterpret_cast<const T*>(base), count};
}

}  // namespace

std::span<const std::uint8_t> BatchRenderer::colour() const { return Output<std::uint8_t>(impl_->Shown(), 0, 4); }
std::span<const float> BatchRenderer::depth() const { return Output<float>(impl_->Shown(), 1, 1); }
std::span<const std::uint32_t> BatchRenderer::instance_ids() const {
  return Output<std::uint32_t>(impl_->Shown(), 2, 1);
}
std::span<const std::uint32_t> BatchRenderer::semantic_ids() const {
  return Output<std::uint32_t>(impl_->Shown(), 3, 1);
}

std::span<const std::uint8_t> BatchRenderer::colour(std::uint32_t view) const {
  PF_CHECK(view < num_views(), "view ", view, " of ", num_views());
  const std::size_t px = static_cast<std::size_t>(width()) * height();
  return colour().subspan(view * px * 4, px * 4);
}
std::span<const float> BatchRenderer::depth(std::uint32_t view) const {
  PF_CHECK(view < num_views(), "view ", view, " of ", num_views());
  const std::size_t px = static_cast<std::size_t>(width()) * height();
  return depth().subspan(view * px, px);
}
std::span<const std::uint32_t> BatchRenderer::instance_ids(std::uint32_t view) const {
  PF_CHECK(view < num_views(), "view ", view, " of ", num_views());
  const std::size_t px = static_cast<std::size_t>(width()) * height();
  return instance_ids().subspan(view * px, px);
}
std::span<const std::uint32_t> BatchRenderer::semantic_ids(std::uint32_t view) const {
  PF_CHECK(view < num_views(), "view ", view, " of ", num_views());
  const std::size_t px = static_cast<std::size_t>(width()) * height();
  return semantic_ids().subspan(view * px, px);
}

VulkanContext& BatchRenderer::context() { return *impl_->context; }
const LodConfig& BatchRenderer::lod_config() const { return impl_->lod; }
std::uint32_t BatchRenderer::views_per_pass() const { return impl_->views_per_pass; }
std::uint32_t BatchRenderer::shadow_map_size() const { return impl_->shadows ? impl_->shadow_size : 0; }
bool BatchRenderer::reads_in_place() const { return impl_->Shown() && impl_->Shown()->direct; }

std::uint32_t BatchRenderer::num_lod_levels(std::uint32_t mesh) const {
  PF_CHECK(mesh < impl_->meshes.size(), "mesh ", mesh, " of ", impl_->meshes.size());
  return impl_->meshes[mesh].num_levels;
}

std::uint32_t BatchRenderer::lod_triangles(std::uint32_t mesh, std::uint32_t level) const {
  PF_CHECK(mesh < impl_->meshes.size() && level < impl_->meshes[mesh].num_levels, "mesh ", mesh, " level ", level);
  return impl_->levels[impl_->meshes[mesh].first_level + level].index_count / 3;
}

}  // namespace pf::render
