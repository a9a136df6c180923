// BatchRenderer: draws every camera of every env of a RenderSnapshot offscreen and reads
// back colour, z-depth, segmentation and semantic ids.
//
// View v = env * num_cameras + camera renders into layer v of 2D-array images; all views
// share one width × height (Render fails otherwise). Views are drawn in layered render
// passes (all views in one on a GPU, a few at a time on a CPU device: RenderConfig::
// pass_pixels): the vertex shader routes each instance to its view's layer, so a pass is one
// instanced draw per (mesh, level of detail) whatever its number of views. The outputs are
// then copied into a host-visible readback buffer with one copy per output, or, on a CPU
// device, rendered into linear host-visible images that the host zeroes before the frame
// (instead of the passes clearing them) and reads in place.
//
// Per frame the host writes one record per drawn (view, instance) into a mapped instance
// buffer (per-instance vertex attributes: the clip-from-mesh matrix computed in double
// precision, lighting, colour, ids, layer), skipping instances outside the view's frustum
// and choosing each one's level of detail from its projected size (LodConfig). The records
// are bucketed by (pass, mesh, level) with a counting sort into buffers sized once, so a
// frame allocates nothing. On a GPU the same buckets could be filled by a compute pass and drawn
// with vkCmdDrawIndexedIndirect; the command stream would not change shape.
//
// Shading: per mesh a material (base colour × an optional texture, plus a Blinn-Phong
// highlight), lit by each env's directional light and its ambient term. The light's part
// is shadowed: before each layered pass, a depth-only layered pass draws the shadow map of
// every env in it (an orthographic view along the light around the env's instances, casters
// at the level of detail their texels need), and the fragment shader compares against it
// with 2 × 2 percentage-closer filtering. Textures live in one mipmapped 2D-array image,
// shadow maps in another; one descriptor set names both, bound once per frame. Shaders are
// built in variants, so a frame without shadows or textures pays for neither.
//
// Two frames can be in flight: Submit(k + 1) records and submits while the host still reads
// frame k, collected earlier. Render = Submit + Collect.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "pf/assets/mesh.h"
#include "pf/assets/texture.h"
#include "pf/core/math.h"
#include "pf/core/result.h"
#include "pf/core/snapshot.h"
#include "pf/render/vulkan_context.h"

namespace pf::render {

// One mesh to upload; its index in the list is the core::MeshId that instances use.
// Its material: the base colour, times the texture where it has one (through the mesh's
// uvs, OpenGL convention: v = 0 at the image's bottom), plus a Blinn-Phong highlight of the
// light's colour × `specular`.
struct RenderMeshInput {
  RenderMeshInput(const assets::MeshData& mesh_, const core::Vec4& colour_ = core::Vec4(0.7, 0.7, 0.7, 1.0),
                  std::shared_ptr<const assets::TextureData> texture_ = nullptr, double specular_ = 0.0,
                  double shininess_ = 32.0)
      : mesh(mesh_), colour(colour_), texture(std::move(texture_)), specular(specular_), shininess(shininess_) {}
  std::reference_wrapper<const assets::MeshData> mesh;
  core::Vec4 colour = core::Vec4(0.7, 0.7, 0.7, 1.0);  // linear RGBA base colour
  std::shared_ptr<const assets::TextureData> texture;  // null = untextured
  double specular = 0.0;    // highlight strength, [0, 1]
  double shininess = 32.0;  // Blinn-Phong exponent, > 0
};

class BatchRenderer {
 public:
  // Uploads the meshes (copied; the inputs may go away afterwards), building their levels
  // of detail when `config.lod.enabled`. Uses config.lod and config.pass_pixels; the
  // context's own settings were given when it was created.
  static core::Result<std::unique_ptr<BatchRenderer>> Create(
      std::shared_ptr<VulkanContext> context, const std::vector<RenderMeshInput>& meshes,
      const RenderConfig& config = {});
  // Creates its own context from `config` too.
  static core::Result<std::unique_ptr<BatchRenderer>> Create(
      const RenderConfig& config, const std::vector<RenderMeshInput>& meshes);
  ~BatchRenderer();
  BatchRenderer(const BatchRenderer&) = delete;
  BatchRenderer& operator=(const BatchRenderer&) = delete;

  // Renders every (env, camera) view of `snapshot` and waits for the results below (valid
  // until the next Render or Submit). Render targets are (re)allocated only when the view
  // size changes or a frame has more views than any before it at this size: frames with
  // fewer views draw into the first layers of the same targets. Fails when frames are still
  // in flight.
  core::Status Render(const core::RenderSnapshot& snapshot);

  // Pipelined use: Submit records and submits a frame and returns without waiting; Collect
  // waits for the oldest submitted frame and makes its results the ones below. At most two
  // frames are in flight (Submit fails on a third); results stay valid until the next
  // Submit or Render.
  core::Status Submit(const core::RenderSnapshot& snapshot);
  core::Status Collect();
  std::uint32_t frames_in_flight() const;

  // Of the last collected frame.
  std::uint32_t num_views() const;  // num_envs × num_cameras
  std::uint32_t width() const;
  std::uint32_t height() const;

  std::span<const std::uint8_t> colour() const;         // [num_views × H × W × 4] RGBA8
  std::span<const float> depth() const;                 // [num_views × H × W] z metres, 0 = background
  std::span<const std::uint32_t> instance_ids() const;  // [num_views × H × W] 0 = background
  std::span<const std::uint32_t> semantic_ids() const;  // [num_views × H × W] 0 = background

  // One view's slice of each output.
  std::span<const std::uint8_t> colour(std::uint32_t view) const;      // [H × W × 4]
  std::span<const float> depth(std::uint32_t view) const;              // [H × W]
  std::span<const std::uint32_t> instance_ids(std::uint32_t view) const;
  std::span<const std::uint32_t> semantic_ids(std::uint32_t view) const;

  VulkanContext& context();
  const LodConfig& lod_config() const;
  // Views per layered render pass at the view size of the last submitted frame.
  std::uint32_t views_per_pass() const;
  // Side of the shadow maps at that size in texels (0 without shadows).
  std::uint32_t shadow_map_size() const;
  // Whether the last collected frame's outputs are read where the device drew them (no copy).
  bool reads_in_place() const;
  // Levels of detail of mesh `mesh` (1 = full detail only) and each level's triangles.
  std::uint32_t num_lod_levels(std::uint32_t mesh) const;
  std::uint32_t lod_triangles(std::uint32_t mesh, std::uint32_t level) const;

  // What the last collected frame cost and drew.
  struct FrameStats {
    double record_ms = 0.0;    // host: outputs zeroed (when read in place), records written,
                               // commands recorded and submitted
    double gpu_ms = 0.0;       // host blocked in Collect until the frame's fence signalled
    double readback_ms = 0.0;  // host: making the readback memory visible (0 when coherent)
    std::uint64_t instances = 0;  // (view, instance) pairs drawn, after visibility and culling
    std::uint64_t triangles = 0;  // triangles submitted, after culling and level of detail
    std::uint64_t shadow_triangles = 0;  // triangles drawn into the shadow maps
  };
  const FrameStats& last_stats() const;

 private:
  struct Impl;
  explicit BatchRenderer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pf::render
