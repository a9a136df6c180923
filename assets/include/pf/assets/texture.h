// Textures (PNG, JPG, GIF first frame, BMP, TGA) decoded through stb_image into RGBA8.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "pf/core/result.h"

namespace pf::assets {

struct TextureData {
  std::filesystem::path source;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint8_t> rgba;  // [height × width × 4], row 0 = top of the image
};

// Decodes an image file; errors name the file and the decoder's reason.
core::Result<TextureData> LoadTexture(const std::filesystem::path& path,
                                      std::uint64_t max_pixels = 1ull << 26);

}  // namespace pf::assets
