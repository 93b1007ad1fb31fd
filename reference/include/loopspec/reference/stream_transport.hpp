// A connected stream socket (TCP or Unix) as an asyncio Transport; the
// behaviour is CPython's _SelectorSocketTransport unless stated otherwise.
//
// Lifecycle (states and the only transitions):
//   Open --close() with data queued--> Closing --buffer flushed--> LostPending
//   Open --close() with nothing queued, abort(), socket error, protocol
//         exception--> LostPending
//   Closing --abort(), socket error--> LostPending
//   LostPending --connection_lost delivered, fd closed--> Lost
// Promises:
// - connection_made, then the start of reading, then `done`, all from one
//   callback scheduled at creation; connection_lost always from a scheduled
//   callback (never inside a transport method), exactly once.
// - write(): sent at once while nothing is queued; the rest is copied once
//   into the queue and sent with sendmsg (MSG_NOSIGNAL: never SIGPIPE) when
//   the socket is writable. writelines() is write() of each element, sent as
//   one gather. Empty data is a no-op. After write_eof() write() raises
//   RuntimeError; after close()/abort() data is dropped silently.
// - Flow control per WriteFlow: checked after every growth of the queue,
//   after every drain and in set_write_buffer_limits (both directions there).
// - Reading: one recv per readiness into the loop's 256 KiB buffer, then
//   data_received; a BufferedProtocol gets get_buffer(-1), the recv goes
//   straight into its buffer, then buffer_updated(n). A zero-size buffer is a
//   fatal error (RuntimeError, no recv). If get_buffer pauses reading or
//   closes the transport, nothing is received for that buffer.
// - EOF: eof_received once; true keeps the transport open for writing
//   (reading stops for good), false closes it. Socket errors end the
//   connection with Error::from_errno. A protocol callback that throws ends it
//   with the exception's canonical error (and the loop's exception handler
//   hears of it); only connection_lost's own exception is merely reported.
// - pause_reading()/resume_reading() are idempotent and no-ops once closing;
//   after pause_reading() returns nothing is delivered until resume_reading().
// - get_protocol() is empty and set_protocol() ignored once connection_lost
//   was delivered (which also breaks the transport <-> protocol cycle).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "loopspec/event_loop.hpp"
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/reference/faults.hpp"
#include "loopspec/reference/write_flow.hpp"
#include "loopspec/reference/write_queue.hpp"

struct iovec;

namespace loopspec::reference {

class StreamTransport final : public Transport, public FdWatcher, public std::enable_shared_from_this<StreamTransport> {
  struct Passkey {};

 public:
  // Adopts fd (a connected, non-blocking, close-on-exec stream socket; it is
  // closed if this throws) and schedules connection_made. TCP sockets get
  // TCP_NODELAY. protocol must be a Protocol or a BufferedProtocol.
  static std::shared_ptr<StreamTransport> start(EpollLoop& loop, int fd, std::shared_ptr<StreamProtocol> protocol,
                                                Completion<Transport> done);

  StreamTransport(Passkey, EpollLoop& loop, int fd);
  ~StreamTransport() override;

  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override;
  bool is_closing() override;
  void close() override;
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() override { return protocol_; }
  // ReadTransport
  bool is_reading() override;
  void pause_reading() override;
  void resume_reading() override;
  // WriteTransport
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) override;
  WriteBufferLimits get_write_buffer_limits() override { return flow_.limits(); }
  std::size_t get_write_buffer_size() override;
  void write(std::string_view data) override;
  void writelines(std::span<const std::string_view> list_of_data) override;
  void write_eof() override;
  bool can_write_eof() override { return true; }
  void abort() override;
  // FdWatcher
  void on_readable() override;
  void on_writable() override;
  void on_loop_destroyed() override;

 private:
  enum class Phase { Open, Closing, LostPending, Lost };

  void deliver_connection_made();
  void deliver_connection_lost(const MaybeError& exc);
  // Ends the connection now: drops the queue, stops all I/O, schedules connection_lost(exc).
  void lose(const MaybeError& exc);
  // Closes the fd and lets go of the protocol (state Lost).
  void release();
  void update_reading();

  // Runs a protocol callback; an exception ends the connection. False if it threw.
  template <class F>
  bool call_protocol(const char* name, F&& callback);
  void protocol_failed(const char* name, const Error& error);

  void check_writable() const;
  void send_or_queue(std::span<const std::string_view> pieces);
  // Sends what the kernel takes now; advances (index, offset). False after a fatal error.
  bool send_now(std::span<const std::string_view> pieces, std::size_t& index, std::size_t& offset);
  long send_iov(const iovec* iov, std::size_t count);
  void flush();
  void shutdown_write();
  void maybe_pause();
  void maybe_resume();

  // One recv; nullopt when there is nothing to deliver (would block, or an
  // error that already ended the connection). 0 is EOF.
  std::optional<std::size_t> receive(std::span<char> into);
  void read_into_loop_buffer();
  void read_into_protocol_buffer();
  void read_holding_last_byte();
  void deliver_held_byte();
  void on_eof();

  EpollLoop* loop_;  // null once the loop is destroyed
  const Faults faults_;
  int fd_;
  int family_ = 0;
  std::optional<nlohmann::json> sockname_;
  std::optional<nlohmann::json> peername_;

  std::shared_ptr<StreamProtocol> protocol_;
  Protocol* data_protocol_ = nullptr;              // protocol_ as a Protocol, or null
  BufferedProtocol* buffered_protocol_ = nullptr;  // protocol_ as a BufferedProtocol, or null

  Phase phase_ = Phase::Open;
  bool made_ = false;           // connection_made delivered
  bool paused_ = false;         // pause_reading() in effect
  bool eof_seen_ = false;       // the peer's EOF was read
  bool eof_requested_ = false;  // write_eof() called
  bool eof_sent_ = false;       // shutdown(SHUT_WR) done
  bool aborted_ = false;
  MaybeError close_error_;  // what close() ends with (None, unless a fault says otherwise)

  WriteQueue queue_;
  WriteFlow flow_{faults_};
  std::optional<char> held_byte_;  // data-after-eof fault only
};

// The protocol for a new connection from factory, then StreamTransport::start.
// If the factory throws or returns no stream protocol, fd is closed and the
// error goes to done (scheduled), or to the loop's exception handler when done
// is empty.
void start_stream_connection(EpollLoop& loop, int fd, const StreamProtocolFactory& factory, Completion<Transport> done);

}  // namespace loopspec::reference
