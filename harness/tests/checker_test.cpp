// The streaming checker: for every monitored rule, a trace it accepts and a
// trace it rejects with that rule's id (the case table below, one entry per
// trace, each naming its rule), plus the checker's own machinery: message
// form, bounded output, profiles, per-connection independence, speed.
#include "loopspec/checker.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "loopspec/rules.hpp"

namespace loopspec {
namespace {

using ::testing::HasSubstr;

// Builds traces fluently: each call appends the event(s) one callback or
// transport call produces, on the current connection, with the current
// transport state (write buffer 0, low 10, high 100, not closing, reading
// unless changed).
class TraceBuilder {
 public:
  TraceBuilder& on(std::uint32_t conn) { conn_ = conn; return *this; }

  // Transport state carried by the following events.
  TraceBuilder& buffered(std::int64_t size) { state_.write_buffer_size = size; return *this; }
  TraceBuilder& limits(std::int64_t high, std::int64_t low) {
    state_.high = high;
    state_.low = low;
    return *this;
  }
  TraceBuilder& closing(bool closing) { state_.closing = closing; return *this; }
  TraceBuilder& reading(bool reading) { state_.reading = reading; return *this; }

  // Protocol callbacks.
  TraceBuilder& made(std::string protocol = "Protocol") {
    Event& e = add(EventKind::Callback, "connection_made");
    e.protocol = std::move(protocol);
    e.transport = "tcp";
    return *this;
  }
  TraceBuilder& made_buffered() { return made("BufferedProtocol"); }
  TraceBuilder& made_datagram() { return made("DatagramProtocol"); }
  TraceBuilder& made_subprocess() { return made("SubprocessProtocol"); }
  TraceBuilder& datagram(std::int64_t size) {
    add(EventKind::Callback, "datagram_received").size = size;
    return *this;
  }
  TraceBuilder& datagram_error(Error error) {
    add(EventKind::Callback, "error_received").error = std::move(error);
    return *this;
  }
  TraceBuilder& pipe_data(int fd, std::int64_t size) {
    Event& e = add(EventKind::Callback, "pipe_data_received");
    e.fd = fd;
    e.size = size;
    return *this;
  }
  TraceBuilder& pipe_lost(int fd) {
    add(EventKind::Callback, "pipe_connection_lost").fd = fd;
    return *this;
  }
  TraceBuilder& exited() { add(EventKind::Callback, "process_exited"); return *this; }
  TraceBuilder& pipe_transport(int fd, bool exists) {
    Event& e = add(EventKind::Call, "get_pipe_transport");
    e.fd = fd;
    e.value = exists;
    return *this;
  }
  TraceBuilder& data(std::int64_t size) {
    add(EventKind::Callback, "data_received").size = size;
    return *this;
  }
  TraceBuilder& eof(bool keep_open = false) {
    add(EventKind::Callback, "eof_received");
    add(EventKind::Return, "eof_received").value = keep_open;
    return *this;
  }
  TraceBuilder& get_buffer(std::int64_t sizehint, std::int64_t returned) {
    add(EventKind::Callback, "get_buffer").size = sizehint;
    add(EventKind::Return, "get_buffer").size = returned;
    return *this;
  }
  TraceBuilder& updated(std::int64_t nbytes) {
    add(EventKind::Callback, "buffer_updated").size = nbytes;
    return *this;
  }
  TraceBuilder& pause() { add(EventKind::Callback, "pause_writing"); return *this; }
  TraceBuilder& resume() { add(EventKind::Callback, "resume_writing"); return *this; }
  TraceBuilder& lost(MaybeError error = std::nullopt) {
    add(EventKind::Callback, "connection_lost").error = std::move(error);
    return *this;
  }

  // Transport calls (state after the call).
  TraceBuilder& call(std::string name) { add(EventKind::Call, std::move(name)); return *this; }
  TraceBuilder& call_returning(std::string name, bool value) {
    add(EventKind::Call, std::move(name)).value = value;
    return *this;
  }
  TraceBuilder& set_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) {
    Event& e = add(EventKind::Call, "set_write_buffer_limits");
    e.high = high;
    e.low = low;
    return *this;
  }
  // The last call raised.
  TraceBuilder& raising(std::string type) {
    trace_.events.back().error = Error{std::move(type), 0, "raised in the test"};
    return *this;
  }
  TraceBuilder& note(std::string name) {
    Event& e = add(EventKind::Note, std::move(name));
    e.state.reset();
    return *this;
  }

  const Trace& trace(bool complete = true) {
    trace_.complete = complete;
    return trace_;
  }
  std::vector<Violation> check(bool complete = true, const std::string& profile = "3.8") {
    Checker checker(profile);
    trace(complete).replay(checker);
    return checker.violations();
  }

 private:
  Event& add(EventKind kind, std::string name) {
    Event e;
    e.seq = next_seq_++;
    e.conn = conn_;
    e.kind = kind;
    e.name = std::move(name);
    e.state = state_;
    trace_.events.push_back(std::move(e));
    return trace_.events.back();
  }

  Trace trace_;
  std::uint64_t next_seq_ = 0;
  std::uint32_t conn_ = 1;
  TransportState state_{0, 10, 100, false, true};
};

std::string describe(const std::vector<Violation>& violations) {
  std::string text;
  for (const Violation& v : violations) text += "\n  " + v.message();
  return text.empty() ? " none" : text;
}

enum class Verdict { Accepts, Rejects };

struct CheckerCase {
  std::string rule;
  Verdict verdict;
  std::string name;
  std::function<TraceBuilder()> build;
  bool complete = true;
  std::string profile = "3.8";
};

void PrintTo(const CheckerCase& c, std::ostream* os) { *os << c.rule << " / " << c.name; }

const Error kValueError{"ValueError", 0, "bad limits"};

// Every monitored rule: traces the checker must accept (no violation at all)
// and traces it must reject with that rule (and no other).
std::vector<CheckerCase> checker_cases() {
  using B = TraceBuilder;
  const auto A = Verdict::Accepts;
  const auto R = Verdict::Rejects;
  return {
      // Rule: proto.order.made-first
      {"proto.order.made-first", A, "full_protocol_life", [] { return B().made().data(5).eof(false).lost(); }},
      // Rule: proto.order.made-first
      {"proto.order.made-first", R, "data_before_made", [] { return B().data(5).made().lost(); }},
      // Rule: proto.order.made-first
      {"proto.order.made-first", R, "lost_without_made", [] { return B().lost(); }},
      // Rule: proto.order.made-once
      {"proto.order.made-once", A, "made_then_lost", [] { return B().made().lost(); }},
      // Rule: proto.order.made-once
      {"proto.order.made-once", R, "made_twice", [] { return B().made().data(1).made().lost(); }},
      // Rule: proto.order.lost-once
      {"proto.order.lost-once", A, "lost_once", [] { return B().made().data(3).lost(); }},
      // Rule: proto.order.lost-once
      {"proto.order.lost-once", R, "lost_twice", [] { return B().made().lost().lost(); }},
      // Rule: proto.order.lost-last
      {"proto.order.lost-last", A, "calls_after_lost_are_fine", [] { return B().made().closing(true).lost().call("close").call("is_closing"); }},
      // Rule: proto.order.lost-last
      {"proto.order.lost-last", R, "data_after_lost", [] { return B().made().lost().data(4); }},
      // Rule: proto.order.lost-last
      {"proto.order.lost-last", R, "eof_after_lost", [] { return B().made().lost().eof(); }},
      // Rule: proto.data.non-empty
      {"proto.data.non-empty", A, "one_byte", [] { return B().made().data(1).lost(); }},
      // Rule: proto.data.non-empty
      {"proto.data.non-empty", R, "zero_bytes", [] { return B().made().data(0).lost(); }},
      // Rule: proto.data.not-after-eof
      {"proto.data.not-after-eof", A, "data_then_eof_half_open",
       [] { return B().made().data(5).eof(true).call("write").lost(); }},
      // Rule: proto.data.not-after-eof
      {"proto.data.not-after-eof", R, "data_after_eof", [] { return B().made().eof(true).data(5).lost(); }},
      // Rule: proto.data.not-after-eof
      {"proto.data.not-after-eof", R, "get_buffer_after_eof",
       [] { return B().made_buffered().eof(true).get_buffer(-1, 100).lost(); }},
      // Rule: proto.eof.at-most-once
      {"proto.eof.at-most-once", A, "one_eof", [] { return B().made().eof(true).lost(); }},
      // Rule: proto.eof.at-most-once
      {"proto.eof.at-most-once", R, "two_eofs", [] { return B().made().eof(true).eof(true).lost(); }},
      // Rule: buffered.order.updated-after-get-buffer
      {"buffered.order.updated-after-get-buffer", A, "pairs_and_an_unused_buffer",
       [] { return B().made_buffered().get_buffer(-1, 100).updated(10).get_buffer(65536, 100).eof().lost(); }},
      // Rule: buffered.order.updated-after-get-buffer
      {"buffered.order.updated-after-get-buffer", R, "updated_twice",
       [] { return B().made_buffered().get_buffer(-1, 100).updated(10).updated(10).lost(); }},
      // Rule: buffered.order.updated-after-get-buffer
      {"buffered.order.updated-after-get-buffer", R, "updated_without_get_buffer",
       [] { return B().made_buffered().updated(5).lost(); }},
      // Rule: buffered.buffer.nbytes-within-buffer
      {"buffered.buffer.nbytes-within-buffer", A, "fills_the_buffer",
       [] { return B().made_buffered().get_buffer(-1, 100).updated(100).lost(); }},
      // Rule: buffered.buffer.nbytes-within-buffer
      {"buffered.buffer.nbytes-within-buffer", R, "more_than_the_buffer",
       [] { return B().made_buffered().get_buffer(-1, 100).updated(101).lost(); }},
      // Rule: buffered.buffer.nbytes-within-buffer
      {"buffered.buffer.nbytes-within-buffer", R, "zero_bytes",
       [] { return B().made_buffered().get_buffer(-1, 100).updated(0).lost(); }},
      // Rule: buffered.get-buffer.zero-size-error
      {"buffered.get-buffer.zero-size-error", A, "error_after_empty_buffer", [] {
         return B().made_buffered().get_buffer(-1, 0).lost(Error{"RuntimeError", 0, "get_buffer() returned an empty buffer"});
       }},
      // Rule: buffered.get-buffer.zero-size-error
      {"buffered.get-buffer.zero-size-error", R, "updated_after_empty_buffer",
       [] { return B().made_buffered().get_buffer(-1, 0).updated(1).lost(); }},
      // Rule: flow.pause.strictly-over-high
      {"flow.pause.strictly-over-high", A, "pause_one_over_high", [] { return B().made().buffered(101).pause().lost(); }},
      // Rule: flow.pause.strictly-over-high
      {"flow.pause.strictly-over-high", R, "pause_at_high", [] { return B().made().buffered(100).pause().lost(); }},
      // Rule: flow.pause.when-over-high
      {"flow.pause.when-over-high", A, "pause_inside_write",
       [] { return B().made().buffered(200).pause().call("write").lost(); }},
      // Rule: flow.pause.when-over-high
      {"flow.pause.when-over-high", A, "pause_right_after_write",
       [] { return B().made().buffered(200).call("write").pause().lost(); }},
      // Rule: flow.pause.when-over-high
      {"flow.pause.when-over-high", A, "not_due_while_closing",
       [] { return B().made().closing(true).call("close").buffered(200).call("write").data(1).lost(); }},
      // Rule: flow.pause.when-over-high
      {"flow.pause.when-over-high", R, "no_pause_after_write",
       [] { return B().made().buffered(200).call("write").data(5).lost(); }},
      // Rule: flow.pairing.alternate
      {"flow.pairing.alternate", A, "two_rounds", [] {
         return B().made().buffered(200).pause().buffered(5).resume().buffered(300).pause().buffered(0).resume().lost();
       }},
      // Rule: flow.pairing.alternate
      {"flow.pairing.alternate", R, "resume_first", [] { return B().made().buffered(5).resume().lost(); }},
      // Rule: flow.pairing.alternate
      {"flow.pairing.alternate", R, "pause_twice", [] { return B().made().buffered(200).pause().pause().lost(); }},
      // Rule: flow.resume.at-or-below-low
      {"flow.resume.at-or-below-low", A, "resume_at_low",
       [] { return B().made().buffered(200).pause().buffered(10).resume().lost(); }},
      // Rule: flow.resume.at-or-below-low
      {"flow.resume.at-or-below-low", R, "resume_above_low",
       [] { return B().made().buffered(200).pause().buffered(11).resume().lost(); }},
      // Rule: flow.resume.when-at-or-below-low
      {"flow.resume.when-at-or-below-low", A, "resume_on_drain",
       [] { return B().made().buffered(200).pause().data(1).buffered(3).resume().lost(); }},
      // Rule: flow.resume.when-at-or-below-low
      {"flow.resume.when-at-or-below-low", A, "incomplete_trace_ends_paused",
       [] { return B().made().buffered(200).pause().buffered(5).data(3); }, false},
      // Rule: flow.resume.when-at-or-below-low
      {"flow.resume.when-at-or-below-low", R, "no_resume_after_drain",
       [] { return B().made().buffered(200).pause().buffered(5).data(3).lost(); }},
      // Rule: flow.resume.when-at-or-below-low
      {"flow.resume.when-at-or-below-low", R, "complete_trace_ends_paused",
       [] { return B().made().buffered(200).pause().buffered(5).data(3); }},
      // Rule: write.limits.validation
      {"write.limits.validation", A, "valid_then_invalid_raises", [] {
         return B().made().limits(100, 10).set_limits(100, 10).set_limits(-1, std::nullopt).raising("ValueError")
             .set_limits(std::nullopt, -1).raising("ValueError").set_limits(10, 20).raising("ValueError").lost();
       }},
      // Rule: write.limits.validation
      {"write.limits.validation", R, "low_above_high_accepted",
       [] { return B().made().limits(10, 20).set_limits(10, 20).lost(); }},
      // Rule: write.limits.validation
      {"write.limits.validation", R, "valid_limits_rejected",
       [] { return B().made().set_limits(100, 10).raising("ValueError").lost(); }},
      // Rule: write.limits.high-zero-forces-low-zero
      {"write.limits.high-zero-forces-low-zero", A, "low_zero",
       [] { return B().made().limits(0, 0).set_limits(0, std::nullopt).lost(); }},
      // Rule: write.limits.high-zero-forces-low-zero
      {"write.limits.high-zero-forces-low-zero", R, "low_left_nonzero",
       [] { return B().made().limits(0, 5).set_limits(0, std::nullopt).lost(); }},
      // Rule: write.limits.low-defaults-le-high
      {"write.limits.low-defaults-le-high", A, "quarter_of_high",
       [] { return B().made().limits(100, 25).set_limits(100, std::nullopt).lost(); }},
      // Rule: write.limits.low-defaults-le-high
      {"write.limits.low-defaults-le-high", R, "low_above_high",
       [] { return B().made().limits(100, 200).set_limits(100, std::nullopt).lost(); }},
      // Rule: write.limits.get-returns-set
      {"write.limits.get-returns-set", A, "limits_kept_until_next_set", [] {
         return B().made().limits(300, 30).set_limits(300, 30).data(4).limits(50, 25).set_limits(50, std::nullopt).lost();
       }},
      // Rule: write.limits.get-returns-set
      {"write.limits.get-returns-set", R, "low_not_set",
       [] { return B().made().limits(100, 20).set_limits(100, 10).lost(); }},
      // Rule: write.limits.get-returns-set
      {"write.limits.get-returns-set", R, "limits_drift_later",
       [] { return B().made().limits(300, 30).set_limits(300, 30).limits(300, 31).data(4).lost(); }},
      // Rule: transport.closing.after-close
      {"transport.closing.after-close", A, "closing_after_close",
       [] { return B().made().closing(true).call("close").lost(); }},
      // Rule: transport.closing.after-close
      {"transport.closing.after-close", R, "not_closing_after_close", [] { return B().made().call("close").lost(); }},
      // Rule: transport.closing.after-close
      {"transport.closing.after-close", R, "closing_reverts_after_abort",
       [] { return B().made().closing(true).call("abort").closing(false).lost(); }},
      // Rule: read.pause.no-data-while-paused
      {"read.pause.no-data-while-paused", A, "data_after_resume", [] {
         return B().made().reading(false).call("pause_reading").reading(true).call("resume_reading").data(5).lost();
       }},
      // Rule: read.pause.no-data-while-paused
      {"read.pause.no-data-while-paused", R, "data_while_paused",
       [] { return B().made().reading(false).call("pause_reading").data(5).lost(); }},
      // Rule: read.pause.no-data-while-paused
      {"read.pause.no-data-while-paused", R, "get_buffer_while_paused",
       [] { return B().made_buffered().reading(false).call("pause_reading").get_buffer(-1, 10).lost(); }},
      // Rule: read.is-reading.reflects-state
      {"read.is-reading.reflects-state", A, "pause_and_resume", [] {
         return B().made().reading(false).call("pause_reading").call("is_reading").reading(true).call("resume_reading").lost();
       }},
      // Rule: read.is-reading.reflects-state
      {"read.is-reading.reflects-state", A, "not_in_3_4_3_profile",
       [] { return B().made().call("pause_reading").lost(); }, true, "3.4.3"},
      // Rule: read.is-reading.reflects-state
      {"read.is-reading.reflects-state", R, "still_reading_after_pause",
       [] { return B().made().call("pause_reading").lost(); }},
      // Rule: read.is-reading.reflects-state
      {"read.is-reading.reflects-state", R, "not_reading_after_resume",
       [] { return B().made().reading(false).call("pause_reading").call("resume_reading").lost(); }},
      // Rule: read.is-reading.reflects-state
      {"read.is-reading.reflects-state", A, "not_reading_once_the_input_ended", [] {
         return B().made().reading(false).call("pause_reading").reading(true).call("resume_reading").data(5)
             .reading(false).eof(true).call("is_reading").lost();
       }},
      // Rule: read.is-reading.reflects-state
      {"read.is-reading.reflects-state", R, "not_reading_after_resume_before_the_input_ended", [] {
         return B().made().reading(false).call("pause_reading").reading(true).call("resume_reading")
             .reading(false).data(5).eof(true).lost();
       }},
      // Rule: read.pause.idempotent
      {"read.pause.idempotent", A, "pause_twice", [] {
         return B().made().reading(false).call("pause_reading").call("pause_reading").lost();
       }},
      // Rule: read.pause.idempotent
      {"read.pause.idempotent", R, "second_pause_raises", [] {
         return B().made().reading(false).call("pause_reading").call("pause_reading").raising("RuntimeError").lost();
       }},
      // Rule: read.pause.idempotent
      {"read.pause.idempotent", R, "pause_while_closing_raises", [] {
         return B().made().closing(true).reading(false).call("close").call("pause_reading").raising("RuntimeError").lost();
       }},
      // Rule: read.resume.idempotent
      {"read.resume.idempotent", A, "resume_when_not_paused", [] { return B().made().call("resume_reading").lost(); }},
      // Rule: read.resume.idempotent
      {"read.resume.idempotent", R, "resume_when_not_paused_raises",
       [] { return B().made().call("resume_reading").raising("RuntimeError").lost(); }},
      // Rule: write.eof.can-write-eof-consistent
      {"write.eof.can-write-eof-consistent", A, "unsupported_and_raises", [] {
         return B().made().call_returning("can_write_eof", false).call("write_eof").raising("NotImplementedError").lost();
       }},
      // Rule: write.eof.can-write-eof-consistent
      {"write.eof.can-write-eof-consistent", A, "supported_and_works",
       [] { return B().made().call_returning("can_write_eof", true).call("write_eof").lost(); }},
      // Rule: write.eof.can-write-eof-consistent
      {"write.eof.can-write-eof-consistent", R, "unsupported_but_returns",
       [] { return B().made().call_returning("can_write_eof", false).call("write_eof").lost(); }},
      // Rule: write.eof.can-write-eof-consistent
      {"write.eof.can-write-eof-consistent", R, "supported_but_not_implemented", [] {
         return B().made().call_returning("can_write_eof", true).call("write_eof").raising("NotImplementedError").lost();
       }},
      // Rule: write.abort.connection-lost
      {"write.abort.connection-lost", A, "abort_then_lost", [] { return B().made().closing(true).call("abort").lost(); }},
      // Rule: write.abort.connection-lost
      {"write.abort.connection-lost", A, "incomplete_trace_after_abort",
       [] { return B().made().closing(true).call("abort"); }, false},
      // Rule: write.abort.connection-lost
      {"write.abort.connection-lost", R, "abort_without_lost", [] { return B().made().closing(true).call("abort"); }},

      // Datagram connections (harness/src/checker_datagram.cpp).
      // Rule: proto.order.made-first
      {"proto.order.made-first", R, "datagram_before_made", [] { return B().datagram(3).made_datagram().lost(); }},
      // Rule: proto.order.lost-last
      {"proto.order.lost-last", R, "error_received_after_lost",
       [] { return B().made_datagram().lost().datagram_error(Error::from_errno(ECONNREFUSED)); }},
      // Rule: transport.close.no-more-data
      {"transport.close.no-more-data", A, "datagrams_before_close",
       [] { return B().made_datagram().datagram(0).datagram(5).closing(true).call("close").lost(); }},
      // Rule: transport.close.no-more-data
      {"transport.close.no-more-data", R, "datagram_after_close",
       [] { return B().made_datagram().closing(true).call("close").datagram(5).lost(); }},
      // Rule: datagram.abort.no-more-data
      {"datagram.abort.no-more-data", A, "abort_then_lost",
       [] { return B().made_datagram().datagram(5).closing(true).call("abort").lost(); }},
      // Rule: datagram.abort.no-more-data
      {"datagram.abort.no-more-data", R, "datagram_after_abort",
       [] { return B().made_datagram().closing(true).call("abort").datagram(5).lost(); }},
      // Rule: datagram.error.reported
      {"datagram.error.reported", A, "error_then_more_datagrams", [] {
         return B().made_datagram().datagram_error(Error::from_errno(ECONNREFUSED)).datagram(4).closing(true)
             .call("close").lost();
       }},
      // Rule: datagram.error.reported
      {"datagram.error.reported", A, "protocol_exception_ends_the_endpoint",
       [] { return B().made_datagram().closing(true).lost(Error{"RuntimeError", 0, "raised by the protocol"}); }},
      // Rule: datagram.error.reported
      {"datagram.error.reported", R, "os_error_ends_the_endpoint",
       [] { return B().made_datagram().closing(true).lost(Error::from_errno(ECONNREFUSED)); }},
      // Rule: datagram.enobufs.reported-and-ignored
      {"datagram.enobufs.reported-and-ignored", A, "enobufs_reported", [] {
         return B().made_datagram().datagram_error(Error::from_errno(ENOBUFS)).datagram(4).closing(true)
             .call("close").lost();
       }},
      // Rule: datagram.enobufs.reported-and-ignored
      {"datagram.enobufs.reported-and-ignored", R, "enobufs_ends_the_endpoint",
       [] { return B().made_datagram().closing(true).lost(Error::from_errno(ENOBUFS)); }},
      // Rule: datagram.abort.connection-lost
      {"datagram.abort.connection-lost", A, "abort_then_lost_none",
       [] { return B().made_datagram().closing(true).call("abort").lost(); }},
      // Rule: datagram.abort.connection-lost
      {"datagram.abort.connection-lost", A, "incomplete_trace_after_abort",
       [] { return B().made_datagram().closing(true).call("abort"); }, false},
      // Rule: datagram.abort.connection-lost
      {"datagram.abort.connection-lost", R, "abort_without_lost",
       [] { return B().made_datagram().closing(true).call("abort"); }},
      // Rule: datagram.abort.connection-lost
      {"datagram.abort.connection-lost", R, "abort_then_lost_with_os_error",
       [] { return B().made_datagram().closing(true).call("abort").lost(Error::from_errno(EPIPE)); }},

      // Subprocess connections (harness/src/checker_subprocess.cpp).
      // Rule: proto.order.made-first
      {"proto.order.made-first", R, "exited_before_made",
       [] { return B().exited().made_subprocess().exited().lost(); }},
      // Rule: proto.order.lost-last
      {"proto.order.lost-last", R, "pipe_data_after_lost",
       [] { return B().made_subprocess().exited().lost().pipe_data(1, 5); }},
      // Rule: subprocess.connection-lost.last
      {"subprocess.connection-lost.last", A, "exit_then_pipes_then_lost", [] {
         return B().made_subprocess().pipe_transport(1, true).pipe_transport(0, false).exited().pipe_data(1, 5)
             .pipe_lost(1).lost();
       }},
      // Rule: subprocess.connection-lost.last
      {"subprocess.connection-lost.last", A, "pipes_then_exit_then_lost",
       [] { return B().made_subprocess().pipe_data(2, 5).pipe_lost(2).pipe_lost(0).exited().lost(); }},
      // Rule: subprocess.connection-lost.last
      {"subprocess.connection-lost.last", R, "lost_before_exited",
       [] { return B().made_subprocess().pipe_lost(1).lost(); }},
      // Rule: subprocess.connection-lost.last
      {"subprocess.connection-lost.last", R, "exited_after_lost",
       [] { return B().made_subprocess().pipe_lost(1).lost().exited(); }},
      // Rule: subprocess.connection-lost.last
      {"subprocess.connection-lost.last", R, "pipe_lost_after_lost",
       [] { return B().made_subprocess().exited().lost().pipe_lost(1); }},
      // Rule: subprocess.connection-lost.last
      {"subprocess.connection-lost.last", R, "lost_before_a_handed_out_pipe_closed",
       [] { return B().made_subprocess().pipe_transport(0, true).exited().lost(); }},
      // Rule: subprocess.exited.called
      {"subprocess.exited.called", A, "exited_once", [] { return B().made_subprocess().exited().lost(); }},
      // Rule: subprocess.exited.called
      {"subprocess.exited.called", R, "exited_twice", [] { return B().made_subprocess().exited().exited().lost(); }},
      // Rule: subprocess.pipe-lost.per-pipe
      {"subprocess.pipe-lost.per-pipe", A, "each_pipe_once", [] {
         return B().made_subprocess().pipe_data(1, 3).pipe_lost(0).pipe_lost(1).pipe_lost(2).exited().lost();
       }},
      // Rule: subprocess.pipe-lost.per-pipe
      {"subprocess.pipe-lost.per-pipe", R, "pipe_lost_twice",
       [] { return B().made_subprocess().pipe_lost(1).pipe_lost(1).exited().lost(); }},
      // Rule: subprocess.pipe-lost.per-pipe
      {"subprocess.pipe-lost.per-pipe", R, "data_after_pipe_lost",
       [] { return B().made_subprocess().pipe_lost(2).pipe_data(2, 4).exited().lost(); }},
      // Rule: subprocess.pipe-lost.per-pipe
      {"subprocess.pipe-lost.per-pipe", R, "not_a_child_fd",
       [] { return B().made_subprocess().pipe_lost(7).exited().lost(); }},
      // Rule: subprocess.pipe-data.fd
      {"subprocess.pipe-data.fd", A, "stdout_and_stderr",
       [] { return B().made_subprocess().pipe_data(1, 3).pipe_data(2, 3).pipe_lost(1).pipe_lost(2).exited().lost(); }},
      // Rule: subprocess.pipe-data.fd
      {"subprocess.pipe-data.fd", R, "data_on_stdin", [] { return B().made_subprocess().pipe_data(0, 3).exited().lost(); }},
      // Rule: subprocess.pipe-data.fd
      {"subprocess.pipe-data.fd", R, "parent_fd_number",
       [] { return B().made_subprocess().pipe_data(9, 3).exited().lost(); }},
      // Rule: subprocess.pipe-data.non-empty
      {"subprocess.pipe-data.non-empty", A, "one_byte",
       [] { return B().made_subprocess().pipe_data(1, 1).pipe_lost(1).exited().lost(); }},
      // Rule: subprocess.pipe-data.non-empty
      {"subprocess.pipe-data.non-empty", R, "zero_bytes",
       [] { return B().made_subprocess().pipe_data(1, 0).exited().lost(); }},
  };
}

std::string test_name(const CheckerCase& c) {
  std::string name = c.rule + (c.verdict == Verdict::Accepts ? "__accepts_" : "__rejects_") + c.name;
  std::replace_if(name.begin(), name.end(), [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
  return name;
}

class CheckerRuleCase : public ::testing::TestWithParam<CheckerCase> {};

// Each case of the table above carries its rule id (and a comment naming it).
TEST_P(CheckerRuleCase, Verdict) {
  const CheckerCase& c = GetParam();
  std::vector<Violation> violations = c.build().check(c.complete, c.profile);
  if (c.verdict == Verdict::Accepts) {
    EXPECT_TRUE(violations.empty()) << "expected no violation, got:" << describe(violations);
  } else {
    ASSERT_FALSE(violations.empty()) << "expected " << c.rule;
    for (const Violation& v : violations) EXPECT_EQ(v.rule, c.rule) << v.message();
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, CheckerRuleCase, ::testing::ValuesIn(checker_cases()),
                         [](const ::testing::TestParamInfo<CheckerCase>& info) { return test_name(info.param); });

// Harness machinery: the case table covers every monitored rule both ways.
TEST(CheckerCoverage, EveryMonitoredRuleHasAcceptAndRejectCases) {
  std::map<std::string, std::set<Verdict>> covered;
  for (const CheckerCase& c : checker_cases()) covered[c.rule].insert(c.verdict);
  for (const std::string& id : Checker::monitored_rules()) {
    EXPECT_TRUE(covered[id].count(Verdict::Accepts)) << id << " has no accepted trace";
    EXPECT_TRUE(covered[id].count(Verdict::Rejects)) << id << " has no rejected trace";
  }
  std::set<std::string> monitored(Checker::monitored_rules().begin(), Checker::monitored_rules().end());
  EXPECT_EQ(monitored.size(), Checker::monitored_rules().size()) << "duplicate ids";
  for (const auto& [id, verdicts] : covered) EXPECT_TRUE(monitored.count(id)) << id << " is not monitored";
}

// Harness machinery: every monitored id is in the rules catalogue, and a rule
// the catalogue says does not hold for 3.4.3 is not reported under that profile.
TEST(CheckerCoverage, MonitoredRulesMatchTheCatalogue) {
  RuleCatalogue catalogue = RuleCatalogue::load(RuleCatalogue::default_directory());
  for (const std::string& id : Checker::monitored_rules()) {
    EXPECT_NE(catalogue.find(id), nullptr) << id << " is not in the catalogue";
  }
  for (const CheckerCase& c : checker_cases()) {
    const Rule* rule = catalogue.find(c.rule);
    if (c.verdict != Verdict::Rejects || rule == nullptr || c.profile != "3.8") continue;
    std::vector<Violation> violations = c.build().check(c.complete, "3.4.3");
    bool reported = std::any_of(violations.begin(), violations.end(), [&](const Violation& v) { return v.rule == c.rule; });
    EXPECT_EQ(reported, rule->holds_for(kRevision343)) << c.rule << " / " << c.name << " under 3.4.3";
  }
}

// Harness machinery: a violation names rule, event and connection in one line.
TEST(CheckerReport, ViolationMessageIsOneLine) {
  std::vector<Violation> violations = TraceBuilder().made().on(7).made().data(0).check();
  ASSERT_EQ(violations.size(), 1u);
  const Violation& v = violations[0];
  EXPECT_EQ(v.rule, "proto.data.non-empty");
  EXPECT_EQ(v.seq, 2u);
  EXPECT_EQ(v.conn, 7u);
  EXPECT_EQ(v.message(),
            "proto.data.non-empty at event 2 (conn 7): expected data_received with size > 0, observed size 0");
  EXPECT_EQ(v.message().find('\n'), std::string::npos);

  // A callback before connection_made whose name (from the trace) holds a line break.
  Trace trace = TraceBuilder().pause().trace();
  trace.events[0].name = "odd\nname";
  Checker checker;
  trace.replay(checker);
  ASSERT_FALSE(checker.violations().empty());
  EXPECT_EQ(checker.violations()[0].message().find('\n'), std::string::npos) << checker.violations()[0].message();
}

// Harness machinery: at most five reports per rule and connection, the first always.
TEST(CheckerReport, BoundsRepeatedViolations) {
  TraceBuilder builder;
  builder.made().eof(true);
  for (int i = 0; i < 10; ++i) builder.data(1);
  builder.on(2).made().eof(true).data(1);
  std::vector<Violation> violations = builder.check();
  ASSERT_EQ(violations.size(), 6u) << describe(violations);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(violations[i].conn, 1u);
    EXPECT_EQ(violations[i].seq, 3u + i) << "the first ones are kept";
  }
  EXPECT_EQ(violations[5].conn, 2u);
  EXPECT_EQ(violations[5].rule, "proto.data.not-after-eof");
}

// Harness machinery: connections are checked independently, even interleaved.
TEST(CheckerState, ConnectionsAreIndependent) {
  TraceBuilder builder;
  builder.on(1).made().on(2).made().on(1).data(3).on(2).eof(false).on(1).buffered(200).pause();
  builder.on(2).lost().on(1).buffered(0).resume().lost();
  EXPECT_TRUE(builder.check().empty()) << describe(builder.check());
}

// Rule: flow.pause.when-over-high
// Peer and Note events are not "the next event" of a connection.
TEST(CheckerState, PeerAndNoteEventsAreIgnored) {
  TraceBuilder builder;
  builder.made().buffered(200).call("write").note("peer stops reading").pause().lost();
  EXPECT_TRUE(builder.check().empty()) << describe(builder.check());
}

// Harness machinery: only the two documented profiles exist.
TEST(CheckerState, UnknownProfileIsRejected) {
  EXPECT_THROW(Checker("3.9"), std::invalid_argument);
  EXPECT_NO_THROW(Checker("3.4.3"));
}

// Rule: proto.order.lost-last
// Checked on a trace read from JSON Lines, as check-trace does.
TEST(CheckerState, ChecksATraceReadFromText) {
  std::istringstream in(R"({"trace":"loopspec","version":1,"backend":"x","scenario":"y","profile":"3.8"}
{"seq":0,"conn":1,"kind":"callback","name":"connection_made","protocol":"Protocol","transport":"tcp"}
{"seq":1,"conn":1,"kind":"callback","name":"connection_lost"}
{"seq":2,"conn":1,"kind":"callback","name":"data_received","size":3}
{"end":true,"complete":true}
)");
  Checker checker;
  read_trace(in, checker, "inline");
  ASSERT_EQ(checker.violations().size(), 1u);
  EXPECT_EQ(checker.violations()[0].rule, "proto.order.lost-last");
  EXPECT_EQ(checker.violations()[0].seq, 2u);
}

// Harness machinery: one pass over a million events takes well under a second
// in an optimised build (bound kept generous so the test is never flaky).
TEST(CheckerSpeed, MillionEventsWellUnderASecond) {
  constexpr std::size_t kEvents = 1'000'000;
  std::vector<Event> events;
  events.reserve(kEvents);
  auto add = [&](EventKind kind, const char* name, std::uint32_t conn) {
    Event e;
    e.seq = events.size();
    e.conn = conn;
    e.kind = kind;
    e.name = name;
    e.size = 100;
    e.state = TransportState{0, 16384, 65536, false, true};
    events.push_back(std::move(e));
  };
  add(EventKind::Callback, "connection_made", 1);
  add(EventKind::Callback, "connection_made", 2);
  while (events.size() < kEvents - 2) {
    auto conn = static_cast<std::uint32_t>(1 + (events.size() / 64) % 2);
    add(EventKind::Callback, "data_received", conn);
    add(EventKind::Call, "write", conn);
  }
  add(EventKind::Callback, "connection_lost", 1);
  add(EventKind::Callback, "connection_lost", 2);

  Checker checker;
  auto start = std::chrono::steady_clock::now();
  for (const Event& e : events) checker.on_event(e);
  checker.on_end(true);
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_TRUE(checker.violations().empty()) << describe(checker.violations());
  EXPECT_LT(elapsed.count(), 2.0);
  std::cout << "[ checker  ] " << kEvents << " events in " << elapsed.count() * 1000 << " ms = "
            << static_cast<double>(kEvents) / elapsed.count() / 1e6 << " M events/s\n";
  RecordProperty("events_per_second", static_cast<int>(static_cast<double>(kEvents) / elapsed.count()));
}

}  // namespace
}  // namespace loopspec
