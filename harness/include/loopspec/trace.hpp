// Traces: what a protocol saw and did, in order, as data.
//
// A trace is a header and a sequence of events (spec/trace-format.md, JSON
// Lines on disk). Events are recorded for every protocol callback (at entry),
// every return value a callback gives (eof_received, get_buffer), every call
// made on a transport (at its return, with its result or error), and the
// transport state the rules need, snapshotted at each of those points.
// Promises: writing then reading a trace gives back equal events; the reader
// rejects malformed input with TraceError naming the line and field, never
// crashes, and bounds line length.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "loopspec/error.hpp"

namespace loopspec {

inline constexpr int kTraceFormatVersion = 1;

enum class EventKind {
  Callback,  // a protocol callback, recorded at entry
  Return,    // the value a callback returned (eof_received, get_buffer)
  Call,      // a transport method, recorded at return
  Peer,      // an action of the harness's peer (informational)
  Note,      // a scenario annotation (informational)
};
std::string_view to_string(EventKind kind);
std::optional<EventKind> event_kind_from_string(std::string_view text);

// Transport state at an event. Absent fields were not available (a read pipe
// has no write buffer, a write pipe is never "reading").
struct TransportState {
  std::optional<std::int64_t> write_buffer_size;
  std::optional<std::int64_t> low;
  std::optional<std::int64_t> high;
  std::optional<bool> closing;
  std::optional<bool> reading;
  bool operator==(const TransportState&) const = default;
};

struct Event {
  std::uint64_t seq = 0;   // 0-based position in the trace
  std::uint32_t conn = 0;  // connection (transport/protocol pair) the event belongs to
  EventKind kind = EventKind::Callback;
  std::string name;  // callback or method name: "data_received", "write", ...

  // Arguments and results; which are set depends on name (spec/trace-format.md).
  std::optional<std::int64_t> size;   // data length, nbytes, sizehint, returned buffer size, result size
  std::optional<std::string> digest;  // hex digest of the data (loopspec::Digest)
  std::optional<bool> value;          // boolean result: eof_received, can_write_eof, is_closing, is_reading
  std::optional<std::int64_t> high;   // set_write_buffer_limits argument / get_write_buffer_limits result
  std::optional<std::int64_t> low;
  std::optional<int> fd;              // subprocess pipe fd
  std::string protocol;               // connection_made: "Protocol", "BufferedProtocol", ...
  std::string transport;              // connection_made: "tcp", "unix", "tls", "udp", ...
  MaybeError error;                   // connection_lost/error_received argument, or raised by a call
  std::optional<TransportState> state;
  nlohmann::json detail;              // anything else, for people (addresses, extra-info values, peer actions)

  bool operator==(const Event&) const = default;
};

struct TraceHeader {
  int version = kTraceFormatVersion;
  std::string backend;
  std::string scenario;
  std::string profile;  // "3.8" or "3.4.3"
  bool operator==(const TraceHeader&) const = default;
};

// Receives a trace as it is produced; the checker and the writers are sinks.
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void on_header(const TraceHeader& header) {}
  virtual void on_event(const Event& event) = 0;
  // complete: the producer ran the scenario to its end, so "X never happened"
  // is a finding; false when it stopped early (timeout, crash).
  virtual void on_end(bool complete) {}
};

// An in-memory trace.
struct Trace : TraceSink {
  TraceHeader header;
  std::vector<Event> events;
  bool complete = false;
  void on_header(const TraceHeader& h) override { header = h; }
  void on_event(const Event& e) override { events.push_back(e); }
  void on_end(bool c) override { complete = c; }
  void replay(TraceSink& sink) const;
};

// Forwards a trace to several sinks, in order (e.g. memory, checker, file).
class TraceFanout : public TraceSink {
 public:
  explicit TraceFanout(std::vector<TraceSink*> sinks) : sinks_(std::move(sinks)) {}
  void on_header(const TraceHeader& header) override {
    for (auto* s : sinks_) s->on_header(header);
  }
  void on_event(const Event& event) override {
    for (auto* s : sinks_) s->on_event(event);
  }
  void on_end(bool complete) override {
    for (auto* s : sinks_) s->on_end(complete);
  }

 private:
  std::vector<TraceSink*> sinks_;
};

class TraceError : public std::runtime_error {
 public:
  TraceError(std::string source, std::size_t line, std::string field, std::string what);
  std::size_t line() const { return line_; }
  const std::string& field() const { return field_; }

 private:
  std::size_t line_;
  std::string field_;
};

nlohmann::json to_json(const Event& event);
nlohmann::json to_json(const TraceHeader& header);
// Throws TraceError with line and field on anything malformed.
Event event_from_json(const nlohmann::json& j, std::string_view source = "<json>", std::size_t line = 0);

// JSON Lines: one header line, one line per event, one end line.
class TraceWriter : public TraceSink {
 public:
  explicit TraceWriter(std::ostream& out) : out_(out) {}
  void on_header(const TraceHeader& header) override;
  void on_event(const Event& event) override;
  void on_end(bool complete) override;

 private:
  std::ostream& out_;
};

inline constexpr std::size_t kMaxTraceLine = 1 << 20;

// Streams a JSON Lines trace into sink; source names the input in errors.
void read_trace(std::istream& in, TraceSink& sink, std::string_view source);

}  // namespace loopspec
