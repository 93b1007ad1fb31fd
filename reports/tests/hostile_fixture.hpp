// Results whose every string is hostile: markup, quotes, invalid UTF-8,
// control characters. Harness machinery.
#pragma once

#include <string>

#include "report_fixture.hpp"

namespace loopspec::reports::testing {

inline const std::string kHostileBackend = "<script>alert(1)</script>";

inline RunResults hostile_run() {
  RunResults r = small_run("reference", true);
  r.backend.name = kHostileBackend;
  r.backend.implementation = "\"><img src=x onerror=alert(2)>";
  r.backend.version = "1.0\xFF\xFE<b>";
  r.backend.fault = "' onmouseover='alert(3)";
  r.backend.capabilities = {"</style><script>alert(4)</script>", "tcp"};
  r.loopspec_revision = "<!-- -->";
  r.started = "<i>yesterday</i>";
  r.host = nlohmann::json{{"os", "</td><script>alert(5)</script>"}, {"compiler", std::string("gcc\0\x07", 5)}};
  for (auto& rule : r.rules) {
    rule.title = "title with \"quotes\" & 'apostrophes' <u>and markup</u>";
    rule.section = "</table><h1>section</h1>";
    rule.message = "<a href=\"javascript:alert(6)\">click</a> \xC3\x28 &amp; &#60;";
    if (rule.expectation) {
      rule.expectation->reason = "<iframe src=//evil></iframe>";
      rule.expectation->link = "javascript:alert(7)";
    }
  }
  r.rules.push_back(rule_outcome("x.<b>bold</b>.\"q\"", "<em>unknown</em>", Verdict::Fail, {}, "<script>alert(8)</script>"));
  for (auto& s : r.scenarios) {
    s.title = "<svg onload=alert(9)>";
    s.error = "</pre><script>alert(10)</script>";
    s.stderr_tail = "</pre></details><script>alert(11)</script>\x1B[31m\xFF";
    for (auto& c : s.checks) {
      c.message += " <img src=x onerror=alert(12)> expected <b>, observed </b>";
      c.source = "<s>checker</s>";
    }
    if (!s.trace.is_null()) {
      auto& events = s.trace["events"];
      events[2]["name"] = "<marquee>event</marquee>";
      events[3]["detail"] = nlohmann::json{{"addr", "</script><script>alert(13)</script>"}};
      events[4]["error"] = nlohmann::json{{"type", "<Error>"}, {"message", "\"><svg/onload=alert(14)>"}};
    }
  }
  return r;
}

}  // namespace loopspec::reports::testing
