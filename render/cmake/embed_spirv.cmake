# cmake -DINPUT=x.spv -DOUTPUT=x.cc -DFUNCTION=Name -P embed_spirv.cmake
# Writes a C++ file defining `std::span<const std::uint32_t> pf::render::shaders::Name()`
# holding the SPIR-V words of INPUT (little-endian, as glslc writes them).
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" num_hex)
math(EXPR rem "${num_hex} % 8")
if(num_hex EQUAL 0 OR NOT rem EQUAL 0)
  message(FATAL_ERROR "${INPUT}: not a SPIR-V file (size not a multiple of 4 bytes)")
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])"
       "0x\\4\\3\\2\\1u,\n" words "${hex}")
file(WRITE ${OUTPUT}.tmp
"// Generated from ${INPUT} by render/cmake/embed_spirv.cmake. Do not edit.
#include <cstdint>
#include <span>

namespace pf::render::shaders {
namespace {
constexpr std::uint32_t kWords[] = {
${words}};
}  // namespace
std::span<const std::uint32_t> ${FUNCTION}() { return kWords; }
}  // namespace pf::render::shaders
")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
