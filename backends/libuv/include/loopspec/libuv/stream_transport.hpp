// A connected stream socket (TCP or Unix, a uv_tcp_t or a uv_pipe_t) as an
// asyncio Transport; the behaviour is CPython's _SelectorSocketTransport
// unless stated otherwise.
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
// - write_eof(): once the queue is written, uv_shutdown (the peer reads end
//   of file); can_write_eof() is true.
// - Reading and BufferedProtocols as stream_reading.hpp promises.
// - EOF: eof_received once; true keeps the transport open for writing
//   (reading stops for good), false closes it.
// - get_extra_info as endpoint.hpp promises. TCP sockets get TCP_NODELAY, as
//   asyncio sets it.
#pragma once

#include <memory>
#include <optional>

#include "loopspec/libuv/stream_reading.hpp"
#include "loopspec/libuv/stream_writing.hpp"

namespace loopspec::libuv {

class StreamTransport final : public StreamWriting<StreamReading<Transport>> {
 public:
  // box: an open uv_tcp_t or uv_pipe_t holding a connected socket (start_endpoint).
  StreamTransport(UvLoop& loop, HandleBox* box);

  // BaseTransport
  bool is_closing() override;
  void close() override;
  // WriteTransport
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
  static void on_shutdown(uv_shutdown_t* request, int status) {}

  bool eof_requested_ = false;  // write_eof() called
  uv_shutdown_t shutdown_request_{};
  bool shutdown_started_ = false;
};

// The protocol for a new connection from factory, then StreamTransport::start
// (endpoint_start.hpp).
void start_stream_connection(UvLoop& loop, HandleBox* box, const StreamProtocolFactory& factory,
                             Completion<Transport> done);

}  // namespace loopspec::libuv
