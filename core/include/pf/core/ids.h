// Typed integer handles. A MeshId can not be passed where a MaterialId is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>

namespace pf::core {

template <class Tag>
struct Id {
  static constexpr std::uint32_t kInvalid = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t value = kInvalid;

  constexpr bool valid() const { return value != kInvalid; }
  friend constexpr auto operator<=>(Id, Id) = default;
};

struct MeshTag {};
struct MaterialTag {};
struct TextureTag {};
struct CameraTag {};

using MeshId = Id<MeshTag>;          // a mesh uploaded to / known by the renderer
using MaterialId = Id<MaterialTag>;  // a material (colour, texture, specular)
using TextureId = Id<TextureTag>;    // an RGBA8 texture
using CameraId = Id<CameraTag>;      // a camera of the scenario (same index in every env)

}  // namespace pf::core
