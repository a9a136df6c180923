// BatchRenderer: draws every camera of every env of a RenderSnapshot offscreen in one
// command buffer and reads back colour, z-depth, segmentation and semantic ids.
//
// View v = env * num_cameras + camera renders into layer v of 2D-array images; all views
// share one width × height (Render fails otherwise). Meshes live in one vertex and one
// index buffer; each frame writes one record per visible instance into a storage buffer
// and issues one instanced draw per (view, mesh).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "pf/assets/mesh.h"
#include "pf/core/math.h"
#include "pf/core/result.h"
#include "pf/core/snapshot.h"
#include "pf/render/vulkan_context.h"

namespace pf::render {

// One mesh to upload; its index in the list is the core::MeshId that instances use.
struct RenderMeshInput {
  std::reference_wrapper<const assets::MeshData> mesh;
  core::Vec4 colour = core::Vec4(0.7, 0.7, 0.7, 1.0);  // linear RGBA base colour
};

class BatchRenderer {
 public:
  // Uploads the meshes (copied; the inputs may go away afterwards).
  static core::Result<std::unique_ptr<BatchRenderer>> Create(
      std::shared_ptr<VulkanContext> context, const std::vector<RenderMeshInput>& meshes);
  // Creates its own context from `config`.
  static core::Result<std::unique_ptr<BatchRenderer>> Create(
      const RenderConfig& config, const std::vector<RenderMeshInput>& meshes);
  ~BatchRenderer();
  BatchRenderer(const BatchRenderer&) = delete;
  BatchRenderer& operator=(const BatchRenderer&) = delete;

  // Renders every (env, camera) view of `snapshot` and reads the results back into the
  // host buffers below (valid until the next Render). Render targets are (re)allocated
  // only when the number of views or the view size changes.
  core::Status Render(const core::RenderSnapshot& snapshot);

  std::uint32_t num_views() const;  // num_envs × num_cameras of the last Render
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

  // Where the last Render's wall time went.
  struct Timings {
    double record_ms = 0.0;    // instance data written and command buffer recorded (host)
    double gpu_ms = 0.0;       // submit until the fence: drawing and the image → buffer copies
    double readback_ms = 0.0;  // mapped readback buffer → the host arrays above
  };
  const Timings& last_timings() const;

 private:
  struct Impl;
  explicit BatchRenderer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  Timings timings_;
};

}  // namespace pf::render
