// Expectations: a backend's known deviations, kept with the suite.
//
// conformance/expectations/<backend>.yaml (':' in a backend name becomes '-')
// lists the rules a backend is known to break, with the verdict, a one-line
// reason and evidence. A run marks a result "expected" when it matches; the
// exit status counts only unexpected results. Malformed files throw
// std::runtime_error naming FILE:LINE and the field.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/conformance/results.hpp"
#include "loopspec/rules.hpp"

namespace loopspec {

struct Expectations {
  std::string backend;
  std::vector<Expectation> deviations;
  const Expectation* find(const std::string& rule) const;
};

// rules: every named rule must exist in the catalogue.
Expectations load_expectations(const std::filesystem::path& file, const RuleCatalogue& rules);
std::filesystem::path expectations_file_for(const std::filesystem::path& directory, const std::string& backend);
// The directory shipped with loopspec (LOOPSPEC_EXPECTATIONS_DIR overrides).
std::filesystem::path default_expectations_directory();

}  // namespace loopspec
