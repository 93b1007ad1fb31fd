#include "loopspec/conformance/verdict.hpp"

#include <array>

namespace loopspec {

namespace {
struct Name {
  Verdict verdict;
  std::string_view text;
};
constexpr std::array<Name, 7> kNames{{{Verdict::Pass, "PASS"},
                                      {Verdict::Fail, "FAIL"},
                                      {Verdict::NonStrict, "NON-STRICT"},
                                      {Verdict::Info, "INFO"},
                                      {Verdict::Unsupported, "UNSUPPORTED"},
                                      {Verdict::Error, "ERROR"},
                                      {Verdict::Untested, "UNTESTED"}}};

int severity(Verdict v) {
  switch (v) {
    case Verdict::Fail: return 5;
    case Verdict::Error: return 4;
    case Verdict::NonStrict: return 3;
    case Verdict::Info: return 2;
    case Verdict::Pass: return 1;
    case Verdict::Unsupported: return 0;
    case Verdict::Untested: return -1;
  }
  return 0;
}
}  // namespace

std::string_view to_string(Verdict verdict) {
  for (const auto& n : kNames) {
    if (n.verdict == verdict) return n.text;
  }
  return "?";
}

std::optional<Verdict> verdict_from_string(std::string_view text) {
  for (const auto& n : kNames) {
    if (n.text == text) return n.verdict;
  }
  return std::nullopt;
}

Verdict verdict_for_broken(Level level) {
  switch (level) {
    case Level::Must: return Verdict::Fail;
    case Level::Should: return Verdict::NonStrict;
    case Level::May:
    case Level::Info: return Verdict::Info;
  }
  return Verdict::Fail;
}

Verdict verdict_for_held(Level level) {
  return level == Level::Info || level == Level::May ? Verdict::Info : Verdict::Pass;
}

Verdict worse(Verdict a, Verdict b) { return severity(a) >= severity(b) ? a : b; }

}  // namespace loopspec
