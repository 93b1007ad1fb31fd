// Shared by the conformance tests: the shipped catalogue, loaded once, and a run helper.
#pragma once

#include <string>

#include "loopspec/conformance/builtin_backends.hpp"
#include "loopspec/conformance/runner.hpp"
#include "loopspec/rules.hpp"

namespace loopspec::testing {

inline const RuleCatalogue& shipped_rules() {
  static const RuleCatalogue rules = RuleCatalogue::load(RuleCatalogue::default_directory());
  return rules;
}

inline void ensure_backends() {
  static const bool registered = [] {
    register_builtin_backends(BackendRegistry::instance());
    return true;
  }();
  (void)registered;
}

inline RunResults run_reference(RunOptions options) {
  ensure_backends();
  if (options.backend.empty()) options.backend = "reference";
  return run_suite(options, shipped_rules(), ScenarioRegistry::instance().all());
}

}  // namespace loopspec::testing
