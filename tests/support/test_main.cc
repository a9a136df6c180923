#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>

namespace {
// Sanitizer builds (tools/test --sanitize): the Vulkan loader unloads the driver (lavapipe)
// and the validation layer when an instance goes away, so LeakSanitizer's report at exit
// cannot name the library that made an allocation, and its suppressions
// (tools/sanitizers/lsan.supp, third-party libraries only) cannot match. Keeping them
// loaded for the life of the process lets the report name them.
struct PinVulkanLibraries {
  PinVulkanLibraries() {
    for (const char* library : {"libvulkan_lvp.so", "libVkLayer_khronos_validation.so"})
      (void)dlopen(library, RTLD_LAZY | RTLD_LOCAL | RTLD_NODELETE);
  }
} pin_vulkan_libraries;
}  // namespace
#endif
