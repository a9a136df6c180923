// Fuzz target: the scenario text loader (scenarios/scenario.h, ParseScenario).
//
// The input is scenario text (protobuf text format), parsed as PRIVATE/scenario.pbtxt,
// where PRIVATE is the process's private directory holding arm.urdf (the built-in
// parafab_arm) for relative URDF references; builtin:// references work as usual. It must
// fail with an error naming the scenario file, or compile; a compiled scenario's canonical
// text must compile again to the same scenario hash (the hash is over the parsed message).
#include <string>

#include "fuzz/fuzz_support.h"
#include "pf/assets/builtin.h"
#include "pf/scenarios/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pf;
  fuzz::QuietLogs();
  static const bool urdf_written = [] {
    const auto arm = assets::BuiltinUrdf("parafab_arm");
    fuzz::Expect(arm.has_value(), "no built-in parafab_arm");
    fuzz::WriteFile("arm.urdf", *arm);
    return true;
  }();
  (void)urdf_written;
  static assets::AssetLibrary library{assets::AssetResolver()};  // references resolve beside the scenario only

  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::filesystem::path path = fuzz::PrivateDir() / "scenario.pbtxt";
  const auto scenario = scenarios::ParseScenario(text, path, library);
  if (!scenario) {
    fuzz::ExpectErrorNames(scenario.error(), path.string());
    return 0;
  }
  const auto again = scenarios::ParseScenario(scenario->canonical_text, path, library);
  if (!again) fuzz::Violation(core::StrCat("the canonical text does not compile: ", again.error().ToString()));
  fuzz::Expect(again->model.scenario_hash == scenario->model.scenario_hash,
               "the canonical text compiles to another scenario hash");
  fuzz::Expect(again->canonical_text == scenario->canonical_text, "printing the canonical text is not stable");
  fuzz::Expect(scenario->lights.size() <= 1, scenario->lights.size(), " lights (at most one)");
  return 0;
}
