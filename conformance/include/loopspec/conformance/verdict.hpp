// Verdicts: what a run says about a rule.
//
// PASS        the rule was exercised and held
// FAIL        a MUST rule was broken
// NON-STRICT  a SHOULD rule was broken
// INFO        implementation-defined behaviour (INFO and MAY rules), recorded
// UNSUPPORTED the backend lacks a capability every scenario for the rule needs
// ERROR       the harness, the backend process or a timeout stopped the scenario
// UNTESTED    no scenario of this suite exercises the rule yet (said, not hidden)
// Aggregation over scenarios keeps the worst, in the order FAIL > ERROR >
// NON-STRICT > INFO > PASS > UNSUPPORTED > UNTESTED.
#pragma once

#include <optional>
#include <string_view>

#include "loopspec/rules.hpp"

namespace loopspec {

enum class Verdict { Pass, Fail, NonStrict, Info, Unsupported, Error, Untested };

std::string_view to_string(Verdict verdict);
std::optional<Verdict> verdict_from_string(std::string_view text);

// The verdict a broken rule of this level earns.
Verdict verdict_for_broken(Level level);
// The verdict a rule of this level earns when it holds.
Verdict verdict_for_held(Level level);

// The worse of two verdicts, by the order above.
Verdict worse(Verdict a, Verdict b);

}  // namespace loopspec
