#include "pf/assets/texture.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <stb_image.h>

#include "pf/core/str.h"

namespace pf::assets {

core::Result<TextureData> LoadTexture(const std::filesystem::path& path, std::uint64_t max_pixels) {
  const core::Location where{path.string(), 0, 0, ""};
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return core::Fail(core::StrCat("cannot open texture: ", std::strerror(errno)), where);
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_file(file.get(), &width, &height, &channels))
    return core::Fail(core::StrCat("not a readable image: ", stbi_failure_reason()), where);
  if (width <= 0 || height <= 0 ||
      static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height) > max_pixels)
    return core::Fail(core::StrCat("image size ", width, "x", height, " is out of range"), where);
  stbi_uc* pixels = stbi_load_from_file(file.get(), &width, &height, &channels, 4);
  if (pixels == nullptr)
    return core::Fail(core::StrCat("cannot decode image: ", stbi_failure_reason()), where);
  TextureData texture;
  texture.source = path;
  texture.width = static_cast<std::uint32_t>(width);
  texture.height = static_cast<std::uint32_t>(height);
  texture.rgba.assign(pixels, pixels + static_cast<std::size_t>(width) * height * 4);
  stbi_image_free(pixels);
  return texture;
}

}  // namespace pf::assets
