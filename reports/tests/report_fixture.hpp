// Results built in memory for the report tests: small runs with every
// verdict, traces with a violation, and large synthetic runs. Harness
// machinery (no rule of the contract is checked here).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loopspec/conformance/results.hpp"
#include "loopspec/rules.hpp"

namespace loopspec::reports::testing {

// The shipped rules catalogue, loaded once.
inline const RuleCatalogue& catalogue() {
  static const RuleCatalogue rules = RuleCatalogue::load(RuleCatalogue::default_directory());
  return rules;
}

// A trace of `events` events on connection 1: connection_made, then writes
// and get_write_buffer_size calls with the buffer growing, one
// pause_writing at `violation` (when within range), connection_lost last.
// Kept as results.json keeps it: {header, events, complete, first_event, omitted}.
inline nlohmann::json make_trace(std::size_t events, std::size_t violation, const std::string& backend,
                                 const std::string& scenario, std::size_t keep = 4000) {
  using nlohmann::json;
  std::size_t first = 0;
  if (events > keep) {
    first = violation > keep / 2 ? violation - keep / 2 : 0;
    first = std::min(first, events - keep);
  }
  std::size_t last = std::min(events, first + keep);
  json list = json::array();
  for (std::size_t i = first; i < last; ++i) {
    json e{{"seq", i}, {"conn", 1}};
    json state{{"wbuf", static_cast<std::int64_t>(i * 100)}, {"low", 16384}, {"high", 65536}, {"closing", i + 1 == events},
               {"reading", true}};
    if (i == 0) {
      e.update({{"kind", "callback"}, {"name", "connection_made"}, {"protocol", "Protocol"}, {"transport", "tcp"}});
    } else if (i + 1 == events) {
      e.update({{"kind", "callback"}, {"name", "connection_lost"}});
    } else if (i == violation) {
      e.update({{"kind", "callback"}, {"name", "pause_writing"}});
    } else if (i % 2) {
      e.update({{"kind", "call"}, {"name", "write"}, {"size", 100}, {"digest", "0123456789abcdef"}});
    } else {
      e.update({{"kind", "call"}, {"name", "get_write_buffer_size"}, {"size", static_cast<std::int64_t>(i * 100)}});
    }
    e["state"] = state;
    list.push_back(std::move(e));
  }
  return json{{"header", {{"trace", "loopspec"}, {"version", 1}, {"backend", backend}, {"scenario", scenario}, {"profile", "3.8"}}},
              {"events", std::move(list)},
              {"complete", true},
              {"first_event", first},
              {"omitted", events - (last - first)}};
}

inline RunResults base_run(const std::string& backend, const std::string& fault = "") {
  RunResults r;
  r.loopspec_version = "0.1.0";
  r.loopspec_revision = "abcdef123456";
  r.backend = BackendDescription{backend, backend + " implementation", "1.2.3", {"buffered", "tcp", "unix"}, fault};
  r.profile = "3.8";
  r.started = "2026-11-21T20:00:00Z";
  r.duration_s = 1.5;
  r.host = nlohmann::json{{"os", "Linux"}, {"kernel", "6.1.0"}, {"machine", "x86_64"}, {"compiler", "gcc 12.2.0"}};
  return r;
}

inline RuleOutcome rule_outcome(const std::string& id, const std::string& section, Verdict verdict,
                                std::vector<std::string> scenarios, const std::string& message = "") {
  RuleOutcome o;
  o.id = id;
  o.title = "title of " + id;
  o.level = verdict == Verdict::NonStrict ? "SHOULD" : verdict == Verdict::Info ? "INFO" : "MUST";
  o.section = section;
  o.verdict = verdict;
  o.expected = verdict == Verdict::Pass || verdict == Verdict::Info || verdict == Verdict::Unsupported ||
               verdict == Verdict::Untested;
  o.scenarios = std::move(scenarios);
  o.message = message;
  return o;
}

// Real rule ids of the catalogue, a failure with a checker finding and a
// trace, an error, an unsupported rule and a known deviation.
inline RunResults small_run(const std::string& backend, bool failing) {
  RunResults r = base_run(backend, failing ? "pause-at-high" : "");
  ScenarioOutcome flow;
  flow.id = "stream.flow.exactly-high-then-over";
  flow.variant = "tcp";
  flow.title = "writes to exactly high, then over";
  flow.rules = {"flow.pause.strictly-over-high", "flow.pause.when-over-high"};
  flow.duration_ms = 12;
  ScenarioOutcome eof;
  eof.id = "stream.eof.true-keeps-half-open";
  eof.variant = "unix";
  eof.title = "eof_received returning true keeps the transport half open";
  eof.rules = {"proto.eof.at-most-once"};
  eof.duration_ms = 8;
  if (failing) {
    flow.verdict = Verdict::Fail;
    flow.checks = {{"flow.pause.strictly-over-high", Verdict::Fail, "checker",
                    "flow.pause.strictly-over-high at event 41 (conn 1): expected write_buffer_size > high 4100, observed "
                    "pause_writing at write_buffer_size 4100",
                    41},
                   {"flow.pause.when-over-high", Verdict::NonStrict, "scenario", "paused one write late", std::nullopt}};
    flow.trace = make_trace(60, 41, backend, flow.key());
    eof.verdict = Verdict::Error;
    eof.error = "timeout: the scenario did not end within 30 s";
    eof.stderr_tail = "backend says: something went wrong\n";
  } else {
    flow.checks = {{"flow.pause.strictly-over-high", Verdict::Pass, "scenario", "no pause at high", std::nullopt}};
  }
  r.scenarios = {flow, eof};
  r.rules.push_back(rule_outcome("loop.pairing.one-to-one", "Introduction", Verdict::Pass, {flow.key()}));
  r.rules.push_back(rule_outcome("transport.hierarchy.datagram", "Transports > Transports Hierarchy", Verdict::Unsupported, {}));
  r.rules.push_back(rule_outcome("write.limits.defaults", "Transports > Write-only Transports > Write buffer limits",
                                 Verdict::Info, {flow.key()}, flow.key() + ": defaults 16384/65536"));
  r.rules.push_back(rule_outcome("proto.eof.at-most-once", "Protocols > Streaming Protocols",
                                 failing ? Verdict::Error : Verdict::Pass, {eof.key()},
                                 failing ? eof.key() + ": " + eof.error : ""));
  r.rules.push_back(rule_outcome("flow.pause.strictly-over-high", "Protocols > Flow Control Callbacks",
                                 failing ? Verdict::Fail : Verdict::Pass, {flow.key()},
                                 failing ? flow.key() + ": pause_writing at high" : ""));
  RuleOutcome known = rule_outcome("flow.pause.when-over-high", "Protocols > Flow Control Callbacks",
                                   failing ? Verdict::NonStrict : Verdict::Pass, {flow.key()});
  if (failing) {
    known.expected = true;
    known.expectation = Expectation{known.id, Verdict::NonStrict, "documented deviation of this backend", "https://example.org/1"};
  }
  r.rules.push_back(known);
  return r;
}

// `rules` synthetic rules in 12 sections, one scenario per 3 rules; the
// seed varies which rules fail, so runs of different seeds differ. Failing
// scenarios keep traces of `trace_events` events (results.json keeps 4000).
inline RunResults synthetic_run(const std::string& backend, std::size_t rules, unsigned seed,
                                std::size_t trace_events = 5000) {
  RunResults r = base_run(backend);
  std::uint32_t state = 2463534242u ^ (seed * 2654435761u);
  auto next = [&] {
    state ^= state << 13, state ^= state >> 17, state ^= state << 5;
    return state;
  };
  std::size_t scenarios = (rules + 2) / 3;
  for (std::size_t s = 0; s < scenarios; ++s) {
    ScenarioOutcome o;
    o.id = "synth.scenario-" + std::to_string(s);
    o.variant = s % 2 ? "tcp" : "unix";
    o.title = "synthetic scenario " + std::to_string(s);
    o.duration_ms = 5 + s % 7;
    std::uint32_t roll = next() % 100;
    o.verdict = roll < 6 ? Verdict::Fail : roll < 8 ? Verdict::Error : roll < 10 ? Verdict::NonStrict : Verdict::Pass;
    for (std::size_t k = 0; k < 3 && s * 3 + k < rules; ++k) o.rules.push_back("synth.rule.r" + std::to_string(s * 3 + k));
    if (o.verdict == Verdict::Fail || o.verdict == Verdict::NonStrict) {
      std::size_t violation = 100 + next() % (trace_events - 200);
      o.checks.push_back({o.rules[0], o.verdict, "checker",
                          o.rules[0] + " at event " + std::to_string(violation) +
                              " (conn 1): expected write_buffer_size > high, observed pause_writing at high",
                          violation});
      o.trace = make_trace(trace_events, violation, backend, o.key());
    } else if (o.verdict == Verdict::Error) {
      o.error = "the scenario's process crashed (signal 11)";
      o.stderr_tail = std::string(2000, 'x');
    }
    r.scenarios.push_back(std::move(o));
  }
  for (std::size_t i = 0; i < rules; ++i) {
    const ScenarioOutcome& s = r.scenarios[i / 3];
    std::string section = "Synthetic > Section " + std::to_string(i * 12 / rules + 1);
    bool first = i % 3 == 0;
    Verdict v = s.verdict == Verdict::Pass ? (i % 17 == 0 ? Verdict::Unsupported : Verdict::Pass)
                : first || s.verdict == Verdict::Error ? s.verdict
                                                       : Verdict::Pass;
    r.rules.push_back(rule_outcome("synth.rule.r" + std::to_string(i), section, v,
                                   v == Verdict::Unsupported ? std::vector<std::string>{} : std::vector<std::string>{s.key()},
                                   v == Verdict::Pass || v == Verdict::Unsupported ? "" : s.key() + ": synthetic finding"));
  }
  return r;
}

}  // namespace loopspec::reports::testing
