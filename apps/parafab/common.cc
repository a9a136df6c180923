#include <cstdio>

#include "commands.h"

namespace pf::apps {

assets::AssetResolver MakeResolver(const std::vector<std::string>& extra_roots) {
  assets::AssetResolver resolver = assets::AssetResolver::FromEnvironment();
  for (const auto& root : extra_roots) resolver.AddRoot(root);
  return resolver;
}

core::Result<CompiledScenario> Compile(core::Result<scenarios::Scenario> scenario) {
  if (!scenario) return std::unexpected(std::move(scenario).error());
  PF_ASSIGN_OR_RETURN(auto model, scenarios::CompileModel(*scenario));
  return CompiledScenario{std::move(*scenario), std::move(model)};
}

int ReportError(const char* command, const core::Error& error) {
  std::fprintf(stderr, "parafab %s: error: %s\n", command, error.ToString().c_str());
  return kExitInvalid;
}

}  // namespace pf::apps
