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
// - write()/writelines() and flow control as stream_writing.hpp promises,
//   with sendmsg (MSG_NOSIGNAL: never SIGPIPE). Empty data is a no-op. After
//   write_eof() write() raises RuntimeError; after close()/abort() data is
//   dropped silently.
// - Reading (recv), BufferedProtocols and pause_reading()/resume_reading()
//   as stream_reading_transport.hpp promises.
// - EOF: eof_received once; true keeps the transport open for writing
//   (reading stops for good), false closes it. Socket errors end the
//   connection with Error::from_errno. A protocol callback that throws ends it
//   with the exception's canonical error (and the loop's exception handler
//   hears of it); only connection_lost's own exception is merely reported.
// - get_protocol() is empty and set_protocol() ignored once connection_lost
//   was delivered (which also breaks the transport <-> protocol cycle).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>

#include "loopspec/event_loop.hpp"
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/reference/stream_reading_transport.hpp"
#include "loopspec/reference/stream_writing.hpp"

struct iovec;

namespace loopspec::reference {

class StreamTransport final : public StreamWriting<StreamReadingTransport<Transport>> {
  using Reading = StreamReadingTransport<Transport>;
  struct Passkey {};

 public:
  // Adopts fd (a connected, non-blocking, close-on-exec stream socket; it is
  // closed if this throws) and schedules connection_made. TCP sockets get
  // TCP_NODELAY. protocol must be a Protocol or a BufferedProtocol.
  static std::shared_ptr<StreamTransport> start(EpollLoop& loop, int fd, std::shared_ptr<StreamProtocol> protocol,
                                                Completion<Transport> done);

  StreamTransport(Passkey, EpollLoop& loop, int fd);

  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override;
  bool is_closing() override;
  void close() override;
  // ReadTransport
  void pause_reading() override;
  void resume_reading() override;
  // WriteTransport
  std::size_t get_write_buffer_size() override;
  void write(std::string_view data) override;
  void writelines(std::span<const std::string_view> list_of_data) override;
  void write_eof() override;
  bool can_write_eof() override { return true; }
  void abort() override;
  // FdWatcher
  void on_readable() override;

 private:
  ssize_t read_some(std::span<char> into) override;
  void on_eof() override;
  ssize_t write_gather(const iovec* iov, std::size_t count) override;
  void on_drained() override;

  void check_writable() const;
  void shutdown_write();
  void read_holding_last_byte();
  void deliver_held_byte();

  int family_ = 0;
  std::optional<nlohmann::json> sockname_;
  std::optional<nlohmann::json> peername_;

  bool eof_requested_ = false;  // write_eof() called
  bool eof_sent_ = false;       // shutdown(SHUT_WR) done
  bool aborted_ = false;
  MaybeError close_error_;  // what close() ends with (None, unless a fault says otherwise)

  std::optional<char> held_byte_;  // data-after-eof fault only
};

// The protocol for a new connection from factory, then StreamTransport::start.
// If the factory throws or returns no stream protocol, fd is closed and the
// error goes to done (scheduled), or to the loop's exception handler when done
// is empty.
void start_stream_connection(EpollLoop& loop, int fd, const StreamProtocolFactory& factory, Completion<Transport> done);

}  // namespace loopspec::reference
