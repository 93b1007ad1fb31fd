// The streaming checker: a trace in, violations out.
//
// Promises: one pass over the events, state bounded per connection (no event
// is kept), every violation names the rule id, the event's seq and conn, and
// says expected vs observed in one line. Rules not in the profile are not
// reported. Only rules listed by monitored_rules() are ever reported, each at
// most 5 times per connection (the first always).
// The profile ("3.8" or "3.4.3") is the one given at construction, not the
// trace header's, so a trace can be checked against either revision; an
// unknown profile throws std::invalid_argument. Checks of the form "X never
// happened" run at on_end(true) only.
// The per-connection state machines are written as states and allowed
// transitions (harness/src/checker_machines.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "loopspec/trace.hpp"

namespace loopspec {

struct Violation {
  std::string rule;
  std::uint64_t seq = 0;
  std::uint32_t conn = 0;
  std::string expected;
  std::string observed;
  std::string message() const;  // "flow.pause.strictly-over-high at event 12 (conn 1): expected ..., observed ..."
};

class Checker : public TraceSink {
 public:
  explicit Checker(std::string profile = "3.8");
  ~Checker() override;
  void on_header(const TraceHeader& header) override;
  void on_event(const Event& event) override;
  void on_end(bool complete) override;

  const std::vector<Violation>& violations() const;

  // Every rule id this checker can report.
  static const std::vector<std::string>& monitored_rules();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loopspec
