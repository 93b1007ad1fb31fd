// Recording: wrap a protocol so that everything it sees and does becomes a trace.
//
// record_stream(protocol) returns a protocol of the same kind (Protocol or
// BufferedProtocol) to hand to the loop. When the loop calls connection_made,
// the wrapper wraps the transport too and passes the wrapped transport on, so
// every transport call made by the protocol or by the scenario through it is
// recorded. Each event carries the transport state at that point.
// Promise: the wrappers change no behaviour: arguments, return values and
// exceptions pass through unchanged (an exception a transport method raises
// is recorded in the event's error, then rethrown as it was).
// The state is read from the loop's transport with its query methods
// (get_write_buffer_size, get_write_buffer_limits, is_closing, is_reading;
// get_extra_info("ssl_object"/"sockname") once, to name the transport kind);
// those reads are not events. Protocol wrappers hold the loop's transport
// weakly, so recording adds no ownership cycle; the transport wrapper given
// to the protocol holds it strongly, like the transport itself would be held.
// Which fields each event carries: spec/trace-format.md.
// RecorderOptions::digests = false leaves the data digests out of the events
// (a digest reads every byte once more; the field is optional in the format),
// for recording traffic whose contents nobody will compare.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loopspec/protocols.hpp"
#include "loopspec/trace.hpp"

namespace loopspec {

struct RecorderOptions {
  bool digests = true;  // each data event carries the digest of its bytes
};

class Recorder {
 public:
  explicit Recorder(TraceSink& sink, RecorderOptions options = {}) : sink_(sink), options_(options) {}

  // Wraps a Protocol or BufferedProtocol; the result is of the same kind.
  std::shared_ptr<StreamProtocol> record_stream(std::shared_ptr<StreamProtocol> protocol);
  std::shared_ptr<DatagramProtocol> record_datagram(std::shared_ptr<DatagramProtocol> protocol);
  std::shared_ptr<SubprocessProtocol> record_subprocess(std::shared_ptr<SubprocessProtocol> protocol);

  // Called after every recorded protocol callback returns (run_until uses it
  // to re-evaluate its condition).
  void set_after_callback(std::function<void()> hook) { after_callback_ = std::move(hook); }

  // Appends an event, assigning seq. Wrappers and scenarios (Peer/Note events) use it.
  // Calls still open are recorded first (see OpenCall).
  void emit(Event event) { emit_in_place(event); }
  // The same for an event the caller built and will drop (its seq is set):
  // the wrappers' path, which moves no Event around.
  void emit_in_place(Event& event);

  // The digest of data for an event, or nothing when digests are off.
  std::optional<std::string> digest_of(std::string_view data) const;
  bool digests() const { return options_.digests; }

  // A transport call in progress. It is recorded when it returns, with its
  // result; but when the loop runs a callback inside it (CPython calls
  // pause_writing from inside write), the call is recorded just before that
  // callback's event, without a result, so that the trace shows the cause
  // before its effect. Scoped: the call is open from construction to
  // destruction.
  class OpenCall {
   public:
    // `call` (the caller's event, holding the arguments; it must outlive this
    // object) is copied only if it has to be recorded early; state() reads the
    // transport's state when the call is recorded.
    OpenCall(Recorder& recorder, const Event& call, std::function<std::optional<TransportState>()> state);
    ~OpenCall();
    OpenCall(const OpenCall&) = delete;
    OpenCall& operator=(const OpenCall&) = delete;
    // The call returned or raised: `finished` is its event with the result or
    // error. Recorded now unless the call was recorded early; then an error it
    // raised is recorded as a note naming the call's seq.
    void finish(Event& finished);

   private:
    friend class Recorder;
    void record(Event& event);

    Recorder& recorder_;
    const Event& call_;
    std::function<std::optional<TransportState>()> state_;
    std::optional<std::uint64_t> recorded_seq_;
  };
  std::uint32_t new_connection_id() { return ++last_conn_; }
  void after_callback() { if (after_callback_) after_callback_(); }

 private:
  void append(Event& event);

  TraceSink& sink_;
  RecorderOptions options_;
  std::uint64_t next_seq_ = 0;
  std::vector<OpenCall*> open_calls_;  // outermost first
  std::uint32_t last_conn_ = 0;
  std::function<void()> after_callback_;
};

}  // namespace loopspec
