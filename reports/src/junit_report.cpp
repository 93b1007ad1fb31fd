#include "loopspec/reports/junit_report.hpp"

#include <regex>
#include <set>

#include <fmt/core.h>

#include "loopspec/reports/text.hpp"

namespace loopspec::reports {

namespace {

enum class Outcome { Passed, Failure, Error, Skipped };

struct TestCase {
  std::string classname;
  std::string name;
  double seconds = 0;
  Outcome outcome = Outcome::Passed;
  std::string type;     // the verdict
  std::string message;  // one line, for the attribute
  std::string body;     // everything, for the element text
  std::string observed;  // a passing case's INFO or NON-STRICT finding, for the suite's <system-out>
};

struct Counts {
  std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  double seconds = 0;
  void add(const TestCase& c) {
    ++tests;
    failures += c.outcome == Outcome::Failure;
    errors += c.outcome == Outcome::Error;
    skipped += c.outcome == Outcome::Skipped;
    seconds += c.seconds;
  }
  std::string attributes() const {
    return fmt::format("tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\"", tests, failures,
                       errors, skipped, seconds);
  }
};

std::string attr(std::string_view text) { return escape_markup(text); }

// Names the schemas require to be non-empty (xs:token, minLength 1).
std::string name_attr(std::string_view text, std::string_view fallback) {
  bool blank = text.find_first_not_of(" \t\r\n") == std::string_view::npos;
  return attr(blank ? fallback : text);
}

std::string one_line(std::string_view text) {
  std::string line = shorten(text, 1000);
  for (char& c : line) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return line;
}

TestCase make_case(const RuleOutcome& rule, const std::string& name, Verdict verdict, bool expected,
                   const std::string& message, double seconds) {
  TestCase c{rule.id, name, seconds, Outcome::Passed, std::string(to_string(verdict)), {}, {}};
  std::string text = std::string(to_string(verdict)) + (message.empty() ? "" : ": " + message);
  if (!expected && verdict == Verdict::Fail) {
    c.outcome = Outcome::Failure;
  } else if (!expected && verdict == Verdict::Error) {
    c.outcome = Outcome::Error;
  } else if (is_failing(verdict)) {
    if (expected) {
      c.outcome = Outcome::Skipped;
      std::string reason = rule.expectation ? rule.expectation->reason : std::string();
      text = "known deviation, " + text + (reason.empty() ? "" : " (" + reason + ")");
    }
  } else if (verdict == Verdict::Unsupported || verdict == Verdict::Untested) {
    c.outcome = Outcome::Skipped;
  } else if (verdict != Verdict::Pass) {
    c.observed = text;
  }
  c.message = one_line(text);
  c.body = text;
  return c;
}

std::vector<TestCase> cases_of(const ReportRun& run) {
  std::vector<TestCase> cases;
  for (const auto& rule : run.results().rules) {
    bool any = false;
    std::set<std::string> seen;
    for (const auto& key : rule.scenarios) {
      const ScenarioOutcome* s = run.scenario(key);
      if (!s || !seen.insert(key).second) continue;
      any = true;
      CaseVerdict v = case_verdict(rule, *s);
      cases.push_back(make_case(rule, key, v.verdict, v.expected, v.message, s->duration_ms / 1000.0));
    }
    if (!any) cases.push_back(make_case(rule, "(no scenario)", rule.verdict, rule.expected, rule.message, 0));
  }
  return cases;
}

void write_case(std::string& out, const TestCase& c) {
  out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"", name_attr(c.classname, "(no rule id)"),
                     name_attr(c.name, "(no scenario)"), c.seconds);
  switch (c.outcome) {
    case Outcome::Failure:
      out += fmt::format(">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n", attr(c.message),
                         attr(c.type), escape_markup(c.body));
      return;
    case Outcome::Error:
      out += fmt::format(">\n      <error message=\"{}\" type=\"{}\">{}</error>\n    </testcase>\n", attr(c.message),
                         attr(c.type), escape_markup(c.body));
      return;
    case Outcome::Skipped:
      out += fmt::format(">\n      <skipped message=\"{}\"/>\n    </testcase>\n", attr(c.message));
      return;
    case Outcome::Passed:
      // INFO and NON-STRICT findings go to the suite's <system-out>: the Ant
      // schema allows nothing but the outcome inside a test case.
      out += "/>\n";
      return;
  }
}

// JUnit's timestamp is an xs:dateTime without a zone, and required: a start
// time that is not a well-formed UTC time (a foreign results file) becomes
// the epoch, and the suite's properties keep what the file said.
std::string timestamp(const std::string& started) {
  static const std::regex kIso(R"(^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z?$)");
  std::smatch m;
  if (!std::regex_match(started, m, kIso)) return "1970-01-01T00:00:00";
  return m[1].str();
}

// The machine the run was on, when results.json says; else "localhost", as the schema asks.
std::string hostname(const nlohmann::json& host) {
  if (host.is_object()) {
    auto it = host.find("hostname");
    if (it != host.end() && it->is_string()) return it->get<std::string>();
  }
  return "localhost";
}

}  // namespace

std::string render_junit(const ReportModel& model) {
  // <testsuites> carries no attributes: the Ant schema declares none. Each
  // suite carries its own counts.
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  for (std::size_t index = 0; index < model.runs().size(); ++index) {
    const ReportRun& run = model.runs()[index];
    const RunResults& r = run.results();
    std::vector<TestCase> cases = cases_of(run);
    Counts counts;
    for (const auto& c : cases) counts.add(c);
    // A scenario run covers several rules: the suite's time is the run's wall time, not the sum of its cases.
    counts.seconds = r.duration_s > 0 ? r.duration_s : 0;
    out += fmt::format("  <testsuite name=\"{}\" package=\"loopspec\" id=\"{}\" hostname=\"{}\" timestamp=\"{}\" {}>\n"
                       "    <properties>\n",
                       name_attr(run.label(), "(unnamed backend)"), index, name_attr(hostname(r.host), "localhost"),
                       timestamp(r.started), counts.attributes());
    auto property = [&](std::string_view name, std::string_view value) {
      out += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", name, attr(value));
    };
    property("backend", r.backend.name);
    property("implementation", r.backend.implementation);
    property("version", r.backend.version);
    property("fault", r.backend.fault);
    property("profile", r.profile);
    property("started", r.started);
    property("loopspec.version", r.loopspec_version);
    property("loopspec.revision", r.loopspec_revision);
    property("results", run.source());
    out += "    </properties>\n";
    std::string observed;
    for (const auto& c : cases) {
      write_case(out, c);
      if (!c.observed.empty()) observed += c.classname + " " + c.name + ": " + c.observed + "\n";
    }
    out += "    <system-out>" + escape_markup(observed) + "</system-out>\n    <system-err></system-err>\n  </testsuite>\n";
  }
  return out + "</testsuites>\n";
}

}  // namespace loopspec::reports
