// Protocols that scenarios use: they remember everything they were told and
// let a scenario act inside any callback.
//
// ObservingProtocol (a Protocol) and ObservingBufferedProtocol (a
// BufferedProtocol) fill the same StreamObservations, so one scenario body
// serves both protocol kinds. Hooks run inside the callback, after it has been
// observed, so re-entrant calls (write inside data_received) are exercised.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loopspec/digest.hpp"
#include "loopspec/protocols.hpp"
#include "loopspec/transports.hpp"

namespace loopspec {

struct StreamObservations {
  std::shared_ptr<Transport> transport;  // the recorded transport given to connection_made
  int made = 0;
  std::string received;  // every byte received, in order
  std::size_t data_calls = 0;
  std::vector<std::size_t> chunk_sizes;  // as reported (data size, or buffer_updated's nbytes)
  int eof = 0;
  int lost = 0;
  MaybeError lost_error;
  int pauses = 0;
  int resumes = 0;
  bool writing_paused() const { return pauses > resumes; }
  std::vector<std::int64_t> sizehints;  // BufferedProtocol only
};

struct StreamHooks {
  std::function<void(Transport&)> on_made;  // given the transport, inside connection_made
  std::function<void(std::string_view)> on_data;
  std::function<bool()> on_eof;  // its result is eof_received's; default false
  std::function<void()> on_pause;
  std::function<void()> on_resume;
  std::function<void(const MaybeError&)> on_lost;
};

class ObservingProtocol : public Protocol {
 public:
  ObservingProtocol(StreamObservations& seen, StreamHooks& hooks) : seen_(seen), hooks_(hooks) {}
  void connection_made(std::shared_ptr<BaseTransport> transport) override;
  void data_received(std::string_view data) override;
  bool eof_received() override;
  void connection_lost(const MaybeError& exc) override;
  void pause_writing() override;
  void resume_writing() override;

 private:
  friend class ObservingBufferedProtocol;
  // reported: the size the transport claimed (buffer_updated's nbytes may exceed the buffer).
  void observe_data(std::string_view data, std::size_t reported);
  StreamObservations& seen_;
  StreamHooks& hooks_;
};

class ObservingBufferedProtocol : public BufferedProtocol {
 public:
  // buffer_size: the size of every buffer get_buffer returns.
  ObservingBufferedProtocol(StreamObservations& seen, StreamHooks& hooks, std::size_t buffer_size)
      : plain_(seen, hooks), buffer_(buffer_size) {}
  void connection_made(std::shared_ptr<BaseTransport> transport) override { plain_.connection_made(transport); }
  std::span<char> get_buffer(std::int64_t sizehint) override;
  void buffer_updated(std::size_t nbytes) override;
  bool eof_received() override { return plain_.eof_received(); }
  void connection_lost(const MaybeError& exc) override { plain_.connection_lost(exc); }
  void pause_writing() override { plain_.pause_writing(); }
  void resume_writing() override { plain_.resume_writing(); }

 private:
  ObservingProtocol plain_;  // does the observing; buffer_updated feeds it as data_received
  std::vector<char> buffer_;
};

}  // namespace loopspec
