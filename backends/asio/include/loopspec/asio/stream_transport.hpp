// A connected stream socket (TCP or Unix, one generic::stream_protocol
// socket) as an asyncio Transport; the behaviour is CPython's
// _SelectorSocketTransport unless stated otherwise.
//
// Lifecycle (endpoint.hpp): Open --close() with data queued--> Closing
// --queue written--> LostPending; close() with nothing queued, abort(), a
// socket error or a protocol exception --> LostPending --connection_lost--> Lost.
// Promises:
// - connection_made, then the start of reading, then `done`, all from one
//   callback scheduled at creation; connection_lost always from a scheduled
//   callback, exactly once.
// - write()/writelines() and flow control as stream_writing.hpp promises.
//   Empty data is a no-op. After write_eof() write() raises RuntimeError;
//   after close()/abort() data is dropped silently.
// - write_eof(): once the queue is written, shutdown(shutdown_send) (the
//   peer reads end of file); can_write_eof() is true.
// - Reading and BufferedProtocols as stream_reading.hpp promises.
// - EOF: eof_received once; true keeps the transport open for writing
//   (reading stops for good), false closes it.
// - get_extra_info as endpoint.hpp promises. TCP sockets get TCP_NODELAY, as
//   asyncio sets it.
#pragma once

#include <memory>
#include <optional>

#include "loopspec/asio/stream_reading.hpp"
#include "loopspec/asio/stream_writing.hpp"

namespace loopspec::asio {

class StreamTransport final : public StreamWriting<StreamReading<Transport, StreamSocket>> {
 public:
  // socket: connected (start_endpoint).
  StreamTransport(AsioLoop& loop, StreamSocket socket);

  // BaseTransport
  bool is_closing() override;
  void close() override;
  // ReadTransport
  void pause_reading() override;
  // WriteTransport
  std::size_t get_write_buffer_size() override;
  void write(std::string_view data) override;
  void writelines(std::span<const std::string_view> list_of_data) override;
  void write_eof() override;
  bool can_write_eof() override { return true; }
  void abort() override;

 private:
  void on_eof() override;
  void on_drained() override;
  void check_writable() const;
  void shutdown_write();

  bool eof_requested_ = false;  // write_eof() called
  bool shutdown_done_ = false;
  MaybeError close_error_;  // what close() ends with: nothing (test faults aside)
};

// The protocol for a new connection from factory, then the transport (start_endpoint).
void start_stream_connection(AsioLoop& loop, StreamSocket socket, const StreamProtocolFactory& factory,
                             Completion<Transport> done);

}  // namespace loopspec::asio
