#include "loopspec/checker.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include "checker_datagram.hpp"
#include "checker_machines.hpp"
#include "checker_rules.hpp"
#include "checker_subprocess.hpp"
#include "loopspec/rules.hpp"

namespace loopspec {

using namespace checking;
using namespace std::string_view_literals;

namespace {

// Bounds the output: a broken backend repeats the same fault on every event.
constexpr std::uint8_t kMaxReportsPerRuleAndConnection = 5;

enum class CallbackName : std::uint8_t {
  ConnectionMade,
  DataReceived,
  GetBuffer,
  BufferUpdated,
  EofReceived,
  ConnectionLost,
  PauseWriting,
  ResumeWriting,
  Other,
};

enum class CallName : std::uint8_t {
  Close,
  Abort,
  SetWriteBufferLimits,
  PauseReading,
  ResumeReading,
  CanWriteEof,
  WriteEof,
  Other,
};

// Dispatch on length first: this runs once per event.
CallbackName classify_callback(std::string_view name) {
  switch (name.size()) {
    case 10: if (name == "get_buffer"sv) return CallbackName::GetBuffer; break;
    case 12: if (name == "eof_received"sv) return CallbackName::EofReceived; break;
    case 13:
      if (name == "data_received"sv) return CallbackName::DataReceived;
      if (name == "pause_writing"sv) return CallbackName::PauseWriting;
      break;
    case 14:
      if (name == "buffer_updated"sv) return CallbackName::BufferUpdated;
      if (name == "resume_writing"sv) return CallbackName::ResumeWriting;
      break;
    case 15:
      if (name == "connection_made"sv) return CallbackName::ConnectionMade;
      if (name == "connection_lost"sv) return CallbackName::ConnectionLost;
      break;
    default: break;
  }
  return CallbackName::Other;
}

CallName classify_call(std::string_view name) {
  switch (name.size()) {
    case 5:
      if (name == "close"sv) return CallName::Close;
      if (name == "abort"sv) return CallName::Abort;
      break;
    case 9: if (name == "write_eof"sv) return CallName::WriteEof; break;
    case 13:
      if (name == "pause_reading"sv) return CallName::PauseReading;
      if (name == "can_write_eof"sv) return CallName::CanWriteEof;
      break;
    case 14: if (name == "resume_reading"sv) return CallName::ResumeReading; break;
    case 23: if (name == "set_write_buffer_limits"sv) return CallName::SetWriteBufferLimits; break;
    default: break;
  }
  return CallName::Other;
}

StreamInput order_input(CallbackName name) {
  switch (name) {
    case CallbackName::ConnectionMade: return StreamInput::ConnectionMade;
    case CallbackName::DataReceived: return StreamInput::DataReceived;
    case CallbackName::GetBuffer: return StreamInput::GetBuffer;
    case CallbackName::BufferUpdated: return StreamInput::BufferUpdated;
    case CallbackName::EofReceived: return StreamInput::EofReceived;
    case CallbackName::ConnectionLost: return StreamInput::ConnectionLost;
    default: return StreamInput::Other;
  }
}

std::string optional_text(const std::optional<std::int64_t>& value) {
  return value ? std::to_string(*value) : std::string("None");
}

std::string outcome(const Event& event) {
  return event.error ? "raised " + event.error->to_string() : std::string("returned normally");
}

std::string what_happened(const Event& event) {
  return fmt::format("{} {}", to_string(event.kind), event.name);
}

// Which protocol callbacks a connection gets, so which order machine watches it.
enum class ConnectionKind : std::uint8_t { Unknown, Stream, Datagram, Subprocess };

// From the first callback: connection_made names the protocol and transport;
// a callback before it (a loop fault) names its kind by itself.
ConnectionKind kind_of(const Event& e) {
  if (e.name == "connection_made"sv) {
    if (e.protocol == "DatagramProtocol"sv || e.transport == "udp"sv) return ConnectionKind::Datagram;
    if (e.protocol == "SubprocessProtocol"sv || e.transport == "subprocess"sv) return ConnectionKind::Subprocess;
    return ConnectionKind::Stream;
  }
  if (e.name == "datagram_received"sv || e.name == "error_received"sv) return ConnectionKind::Datagram;
  if (e.name == "pipe_data_received"sv || e.name == "pipe_connection_lost"sv || e.name == "process_exited"sv) {
    return ConnectionKind::Subprocess;
  }
  return ConnectionKind::Stream;
}

// What the rules need to remember about one connection; no event is kept.
struct Connection {
  ConnectionKind kind = ConnectionKind::Unknown;
  StreamState order = StreamState::BeforeMade;  // Stream connections
  DatagramMonitor datagram;                     // Datagram connections
  SubprocessMonitor subprocess;                 // Subprocess connections
  std::int64_t lent_size = -1;  // size of the buffer get_buffer lent, -1 when unknown

  // Flow control: pause_writing delivered and resume_writing not yet.
  bool write_paused = false;
  enum class Due : std::uint8_t { Nothing, Pause, Resume } due = Due::Nothing;  // for the next event
  std::uint64_t due_seq = 0;
  std::int64_t due_size = 0;
  std::int64_t due_mark = 0;
  std::optional<std::int64_t> last_size;
  std::optional<std::int64_t> last_low;

  // Reading: the last of pause_reading()/resume_reading() that returned.
  enum class Reading : std::uint8_t { Untouched, Paused, Resumed } reading = Reading::Untouched;

  // Closing and aborting.
  bool closing = false;       // last known is_closing(), or close()/abort() returned
  bool close_returned = false;
  bool aborted = false;
  std::uint64_t abort_seq = 0;

  // Limits: what the state must show after the last successful set_write_buffer_limits.
  enum class LimitsExpectation : std::uint8_t { Nothing, Exact, LowZero, LowAtMostHigh } limits =
      LimitsExpectation::Nothing;
  std::int64_t set_high = 0;
  std::int64_t set_low = 0;
  std::uint64_t set_seq = 0;

  std::optional<bool> can_write_eof;
  std::uint64_t last_seq = 0;
  std::array<std::uint8_t, kRuleCount> reported{};

  bool live() const {
    switch (kind) {
      case ConnectionKind::Datagram: return datagram.live();
      case ConnectionKind::Subprocess: return subprocess.live();
      default: return order != StreamState::BeforeMade && order != StreamState::Lost;
    }
  }
};

}  // namespace

std::string Violation::message() const {
  std::string text = fmt::format("{} at event {} (conn {}): expected {}, observed {}", rule, seq, conn, expected, observed);
  // Names come from the trace: keep the message on one line whatever they hold.
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

struct Checker::Impl {
  bool profile_3_4_3 = false;
  std::vector<Violation> violations;
  std::unordered_map<std::uint32_t, Connection> connections;
  // Events of one connection tend to come in runs.
  std::uint32_t cached_id = 0;
  Connection* cached = nullptr;

  Connection& connection(std::uint32_t id) {
    if (cached != nullptr && cached_id == id) return *cached;
    cached = &connections[id];
    cached_id = id;
    return *cached;
  }

  // Builds the texts only for a violation that will be kept; count is the
  // rule's number of reports on this connection so far.
  template <class Describe>
  void report_bounded(std::uint8_t& count, std::string_view id, bool since_3_8, std::uint64_t seq,
                      std::uint32_t conn, Describe&& describe) {
    if (profile_3_4_3 && since_3_8) return;
    if (count >= kMaxReportsPerRuleAndConnection) return;
    ++count;
    auto [expected, observed] = describe();
    violations.push_back(Violation{std::string(id), seq, conn, std::move(expected), std::move(observed)});
  }

  template <class Describe>
  void report(Connection& c, CheckedRule rule, std::uint64_t seq, std::uint32_t conn, Describe&& describe) {
    const RuleInfo& rule_info = info(rule);
    report_bounded(c.reported[static_cast<std::size_t>(rule)], rule_info.id, rule_info.since_3_8, seq, conn,
                   std::forward<Describe>(describe));
  }

  // A finding of the datagram or subprocess monitor (their rules hold for both revisions).
  template <class Monitor, class Finding>
  void report_finding(Monitor& monitor, std::optional<Finding> found, std::uint64_t seq, std::uint32_t conn) {
    if (!found) return;
    report_bounded(monitor.reported[static_cast<std::size_t>(found->rule)], info(found->rule).id, false, seq, conn,
                   [&] { return std::pair{std::move(found->expected), std::move(found->observed)}; });
  }

  template <class Describe>
  void report(Connection& c, CheckedRule rule, const Event& e, Describe&& describe) {
    report(c, rule, e.seq, e.conn, std::forward<Describe>(describe));
  }

  void on_event(const Event& e) {
    if (e.kind == EventKind::Peer || e.kind == EventKind::Note) return;
    Connection& c = connection(e.conn);
    if (c.kind == ConnectionKind::Unknown && e.kind == EventKind::Callback) c.kind = kind_of(e);
    if (c.kind == ConnectionKind::Datagram) report_finding(c.datagram, c.datagram.on_event(e), e.seq, e.conn);
    if (c.kind == ConnectionKind::Subprocess) report_finding(c.subprocess, c.subprocess.on_event(e), e.seq, e.conn);
    CallbackName callback = e.kind == EventKind::Callback ? classify_callback(e.name) : CallbackName::Other;
    check_due(c, e, callback);
    switch (e.kind) {
      case EventKind::Callback: on_callback(c, e, callback); break;
      case EventKind::Return: on_return(c, e); break;
      case EventKind::Call: on_call(c, e, classify_call(e.name)); break;
      default: break;
    }
    if (e.state) observe_state(c, e, *e.state);
    c.last_seq = e.seq;
  }

  // flow.pause.when-over-high / flow.resume.when-at-or-below-low: one event of grace.
  void check_due(Connection& c, const Event& e, CallbackName callback) {
    if (c.due == Connection::Due::Nothing) return;
    Connection::Due due = c.due;
    c.due = Connection::Due::Nothing;
    if (due == Connection::Due::Pause && callback != CallbackName::PauseWriting) {
      report(c, CheckedRule::PauseWhenOverHigh, e, [&] {
        return std::pair{fmt::format("pause_writing right after event {} showed write_buffer_size {} > high {}",
                                     c.due_seq, c.due_size, c.due_mark),
                         what_happened(e)};
      });
    }
    if (due == Connection::Due::Resume && callback != CallbackName::ResumeWriting) {
      report(c, CheckedRule::ResumeWhenAtOrBelowLow, e, [&] {
        return std::pair{fmt::format("resume_writing right after event {} showed write_buffer_size {} <= low {}",
                                     c.due_seq, c.due_size, c.due_mark),
                         what_happened(e)};
      });
    }
  }

  // The stream order machine; datagram and subprocess connections have their own.
  void advance(Connection& c, const Event& e, StreamInput input) {
    if (c.kind == ConnectionKind::Datagram || c.kind == ConnectionKind::Subprocess) return;
    StreamState before = c.order;
    Transition step = stream_transition(before, input);
    if (step.violated != CheckedRule::None) {
      report(c, step.violated, e, [&] {
        return std::pair{std::string(info(step.violated).expected), fmt::format("{} {}", e.name, describe(before))};
      });
    }
    c.order = step.next;
  }

  void on_callback(Connection& c, const Event& e, CallbackName callback) {
    StreamState before = c.order;
    advance(c, e, order_input(callback));
    switch (callback) {
      case CallbackName::DataReceived:
        if (e.size && *e.size <= 0) {
          report(c, CheckedRule::DataNonEmpty, e,
                 [&] { return std::pair{std::string("data_received with size > 0"), fmt::format("size {}", *e.size)}; });
        }
        check_not_reading_paused(c, e);
        break;
      case CallbackName::GetBuffer: check_not_reading_paused(c, e); break;
      case CallbackName::BufferUpdated:
        check_not_reading_paused(c, e);
        if (before == StreamState::BufferLent && e.size &&
            (*e.size <= 0 || (c.lent_size >= 0 && *e.size > c.lent_size))) {
          report(c, CheckedRule::NbytesWithinBuffer, e, [&] {
            return std::pair{fmt::format("0 < nbytes <= {}", c.lent_size), fmt::format("nbytes {}", *e.size)};
          });
        }
        c.lent_size = -1;
        break;
      case CallbackName::PauseWriting: on_pause_writing(c, e); break;
      case CallbackName::ResumeWriting: on_resume_writing(c, e); break;
      default: break;
    }
  }

  void on_pause_writing(Connection& c, const Event& e) {
    if (e.state && e.state->write_buffer_size && e.state->high &&
        !(*e.state->write_buffer_size > *e.state->high)) {
      report(c, CheckedRule::PauseStrictlyOverHigh, e, [&] {
        return std::pair{fmt::format("write_buffer_size > high {}", *e.state->high),
                         fmt::format("pause_writing at write_buffer_size {}", *e.state->write_buffer_size)};
      });
    }
    if (c.write_paused) {
      report(c, CheckedRule::PauseResumeAlternate, e, [&] {
        return std::pair{std::string("resume_writing before the next pause_writing"),
                         std::string("pause_writing while already paused")};
      });
    }
    c.write_paused = true;
  }

  void on_resume_writing(Connection& c, const Event& e) {
    if (e.state && e.state->write_buffer_size && e.state->low && !(*e.state->write_buffer_size <= *e.state->low)) {
      report(c, CheckedRule::ResumeAtOrBelowLow, e, [&] {
        return std::pair{fmt::format("write_buffer_size <= low {}", *e.state->low),
                         fmt::format("resume_writing at write_buffer_size {}", *e.state->write_buffer_size)};
      });
    }
    if (!c.write_paused) {
      report(c, CheckedRule::PauseResumeAlternate, e, [&] {
        return std::pair{std::string("pause_writing before resume_writing"),
                         std::string("resume_writing while not paused")};
      });
    }
    c.write_paused = false;
  }

  void check_not_reading_paused(Connection& c, const Event& e) {
    if (c.reading != Connection::Reading::Paused) return;
    report(c, CheckedRule::NoDataWhileReadingPaused, e, [&] {
      return std::pair{std::string("no data callback until resume_reading()"),
                       fmt::format("{} after pause_reading()", e.name)};
    });
  }

  void on_return(Connection& c, const Event& e) {
    if (e.name == "get_buffer"sv) {
      bool empty = e.size && *e.size == 0;
      advance(c, e, empty ? StreamInput::EmptyBufferReturned : StreamInput::BufferReturned);
      c.lent_size = c.order == StreamState::BufferLent ? e.size.value_or(-1) : -1;
    } else if (e.name == "eof_received"sv) {
      advance(c, e, StreamInput::EofReturned);
    }
  }

  void on_call(Connection& c, const Event& e, CallName call) {
    switch (call) {
      case CallName::Close:
      case CallName::Abort:
        if (e.error) break;
        c.close_returned = true;
        c.closing = true;
        if (call == CallName::Abort && !c.aborted) {
          c.aborted = true;
          c.abort_seq = e.seq;
        }
        break;
      case CallName::SetWriteBufferLimits: on_set_write_buffer_limits(c, e); break;
      case CallName::PauseReading: {
        bool idle = c.reading == Connection::Reading::Paused || c.closing;
        if (idle && e.error) {
          report(c, CheckedRule::PauseReadingIdempotent, e, [&] {
            return std::pair{std::string("pause_reading() returns normally"),
                             fmt::format("{} {}", c.closing ? "while closing" : "while paused", outcome(e))};
          });
        }
        if (!e.error) c.reading = Connection::Reading::Paused;
        break;
      }
      case CallName::ResumeReading: {
        bool idle = c.reading != Connection::Reading::Paused || c.closing;
        if (idle && e.error) {
          report(c, CheckedRule::ResumeReadingIdempotent, e, [&] {
            return std::pair{std::string("resume_reading() returns normally"),
                             fmt::format("{} {}", c.closing ? "while closing" : "while not paused", outcome(e))};
          });
        }
        if (!e.error) c.reading = Connection::Reading::Resumed;
        break;
      }
      case CallName::CanWriteEof:
        if (!e.error && e.value) c.can_write_eof = *e.value;
        break;
      case CallName::WriteEof: on_write_eof(c, e); break;
      case CallName::Other: break;
    }
  }

  void on_write_eof(Connection& c, const Event& e) {
    if (!c.can_write_eof) return;
    bool not_implemented = e.error && e.error->type == "NotImplementedError";
    if (*c.can_write_eof != not_implemented) return;
    report(c, CheckedRule::CanWriteEofConsistent, e, [&] {
      return std::pair{fmt::format("write_eof() {} NotImplementedError (can_write_eof() returned {})",
                                   *c.can_write_eof ? "does not raise" : "raises", *c.can_write_eof),
                       fmt::format("write_eof() {}", outcome(e))};
    });
  }

  void on_set_write_buffer_limits(Connection& c, const Event& e) {
    bool invalid = (e.high && *e.high < 0) || (e.low && *e.low < 0) || (e.high && e.low && *e.low > *e.high);
    bool value_error = e.error && e.error->type == "ValueError";
    if (invalid != value_error || (!invalid && e.error)) {
      report(c, CheckedRule::LimitsValidation, e, [&] {
        return std::pair{fmt::format("set_write_buffer_limits(high={}, low={}) {}", optional_text(e.high),
                                     optional_text(e.low), invalid ? "raises ValueError" : "succeeds"),
                         outcome(e)};
      });
    }
    if (e.error) return;  // nothing was set: the previous limits still hold
    using Expect = Connection::LimitsExpectation;
    c.limits = Expect::Nothing;
    if (invalid || !e.high) return;
    c.set_high = *e.high;
    c.set_seq = e.seq;
    if (e.low) {
      c.limits = Expect::Exact;
      c.set_low = *e.low;
    } else {
      // high=0 asks for low 0, which also satisfies low <= high: one finding, the precise one.
      c.limits = *e.high == 0 ? Expect::LowZero : Expect::LowAtMostHigh;
    }
  }

  void observe_state(Connection& c, const Event& e, const TransportState& s) {
    if (s.closing) {
      if (c.close_returned && !*s.closing) {
        report(c, CheckedRule::ClosingAfterClose, e, [&] {
          return std::pair{std::string("closing == true after close()/abort() returned"),
                           fmt::format("closing == false at {}", what_happened(e))};
        });
      }
      c.closing = *s.closing || c.close_returned;
    }
    if (s.low) check_limits(c, e, s);
    if (s.reading) check_reading(c, e, *s.reading);
    if (s.write_buffer_size) c.last_size = s.write_buffer_size;
    if (s.low) c.last_low = s.low;
    decide_due(c, e, s);
  }

  void check_limits(Connection& c, const Event& e, const TransportState& s) {
    using Expect = Connection::LimitsExpectation;
    switch (c.limits) {
      case Expect::Nothing: break;
      case Expect::Exact:
        if (s.high && (*s.high != c.set_high || *s.low != c.set_low)) {
          report(c, CheckedRule::LimitsGetReturnsSet, e, [&] {
            return std::pair{fmt::format("high {} and low {} as set at event {}", c.set_high, c.set_low, c.set_seq),
                             fmt::format("high {} and low {}", *s.high, *s.low)};
          });
        }
        break;
      case Expect::LowZero:
        if (*s.low != 0) {
          report(c, CheckedRule::HighZeroForcesLowZero, e, [&] {
            return std::pair{fmt::format("low 0 after set_write_buffer_limits(high=0) at event {}", c.set_seq),
                             fmt::format("low {}", *s.low)};
          });
        }
        break;
      case Expect::LowAtMostHigh:
        if (*s.low > c.set_high) {
          report(c, CheckedRule::LowDefaultsAtMostHigh, e, [&] {
            return std::pair{fmt::format("low <= {} after set_write_buffer_limits(high={}) at event {}", c.set_high,
                                         c.set_high, c.set_seq),
                             fmt::format("low {}", *s.low)};
          });
        }
        break;
    }
  }

  // After eof_received no new data can come, so "receiving new data" is false whatever is_reading() says;
  // loops differ there (asyncio keeps True, uvloop turns False) and the document does not choose.
  static bool input_ended(const Connection& c) { return c.order == StreamState::AfterEof || c.order == StreamState::Lost; }

  void check_reading(Connection& c, const Event& e, bool reading) {
    if (c.reading == Connection::Reading::Paused && reading) {
      report(c, CheckedRule::IsReadingReflectsState, e, [&] {
        return std::pair{std::string("reading == false after pause_reading()"),
                         fmt::format("reading == true at {}", what_happened(e))};
      });
    } else if (c.reading == Connection::Reading::Resumed && !c.closing && !input_ended(c) && !reading) {
      report(c, CheckedRule::IsReadingReflectsState, e, [&] {
        return std::pair{std::string("reading == true after resume_reading() while not closing"),
                         fmt::format("reading == false at {}", what_happened(e))};
      });
    }
  }

  // Called after the event updated the flags: the event that delivers
  // pause_writing itself leaves nothing due.
  void decide_due(Connection& c, const Event& e, const TransportState& s) {
    if (!s.write_buffer_size || !c.live() || c.closing) return;
    std::int64_t size = *s.write_buffer_size;
    if (!c.write_paused && s.high && size > *s.high) {
      c.due = Connection::Due::Pause;
      c.due_mark = *s.high;
    } else if (c.write_paused && s.low && size <= *s.low) {
      c.due = Connection::Due::Resume;
      c.due_mark = *s.low;
    } else {
      return;
    }
    c.due_seq = e.seq;
    c.due_size = size;
  }

  void on_end(bool complete) {
    if (!complete) return;  // "never happened" is only a finding when the run finished
    std::vector<std::uint32_t> ids;
    ids.reserve(connections.size());
    for (const auto& [id, c] : connections) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (std::uint32_t id : ids) {
      Connection& c = connections[id];
      if (c.kind == ConnectionKind::Datagram) report_finding(c.datagram, c.datagram.on_end(), c.datagram.abort_seq(), id);
      bool stream = c.kind != ConnectionKind::Datagram && c.kind != ConnectionKind::Subprocess;
      if (stream && c.aborted && c.order != StreamState::Lost) {
        report(c, CheckedRule::AbortThenConnectionLost, c.abort_seq, id, [&] {
          return std::pair{std::string("connection_lost after abort()"),
                           std::string("the trace ended without connection_lost")};
        });
      }
      if (c.write_paused && c.live() && !c.closing && c.last_size && c.last_low && *c.last_size <= *c.last_low) {
        report(c, CheckedRule::ResumeWhenAtOrBelowLow, c.last_seq, id, [&] {
          return std::pair{fmt::format("resume_writing once write_buffer_size {} <= low {}", *c.last_size, *c.last_low),
                           std::string("the trace ended while still paused")};
        });
      }
    }
  }
};

Checker::Checker(std::string profile) : impl_(std::make_unique<Impl>()) {
  if (profile != kRevision38 && profile != kRevision343) {
    throw std::invalid_argument("unknown profile \"" + profile + "\" (known: 3.8, 3.4.3)");
  }
  impl_->profile_3_4_3 = profile == kRevision343;
}

Checker::~Checker() = default;

void Checker::on_header(const TraceHeader&) {}

void Checker::on_event(const Event& event) { impl_->on_event(event); }

void Checker::on_end(bool complete) { impl_->on_end(complete); }

const std::vector<Violation>& Checker::violations() const { return impl_->violations; }

const std::vector<std::string>& Checker::monitored_rules() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> list;
    auto add = [&](std::string_view id) {
      if (std::find(list.begin(), list.end(), id) == list.end()) list.emplace_back(id);
    };
    for (const RuleInfo& rule : kCheckerRules) add(rule.id);
    for (const auto& rule : datagram_rules()) add(rule.id);
    for (const auto& rule : subprocess_rules()) add(rule.id);
    return list;
  }();
  return ids;
}

}  // namespace loopspec
