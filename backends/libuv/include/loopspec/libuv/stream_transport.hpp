// A connected stream socket (TCP or Unix, a uv_tcp_t or a uv_pipe_t) as an
// asyncio Transport: kit::StreamTransport (kit/stream_transport.hpp) over
// libuv's reading and writing.
//
// Promises beyond kit::StreamTransport's:
// - write_eof()'s half-close is uv_shutdown, after the writes libuv queued.
// - TCP sockets get TCP_NODELAY, as asyncio sets it.
#pragma once

#include "loopspec/kit/stream_transport.hpp"
#include "loopspec/libuv/stream_reading.hpp"
#include "loopspec/libuv/stream_writing.hpp"

namespace loopspec::libuv {

class StreamTransport final : public kit::StreamTransport<StreamWriting<StreamReading<Transport>>> {
 public:
  // box: an open uv_tcp_t or uv_pipe_t holding a connected socket (start_endpoint).
  StreamTransport(UvLoop& loop, HandleBox* box);

 private:
  void shutdown_send() override;
  static void on_shutdown(uv_shutdown_t* /*request*/, int /*status*/) {}

  uv_shutdown_t shutdown_request_{};
};

// The protocol for a new connection from factory, then the transport
// (endpoint_start.hpp).
void start_stream_connection(UvLoop& loop, HandleBox* box, const StreamProtocolFactory& factory,
                             Completion<Transport> done);

// The same for a connected socket descriptor of `family` (an accepted one,
// or connect_accepted_socket's): it becomes a uv_pipe_t for AF_UNIX, a
// uv_tcp_t otherwise (libuv makes it non-blocking). On failure the error,
// and fd is left open for the caller.
MaybeError start_socket_connection(UvLoop& loop, int fd, int family, const StreamProtocolFactory& factory,
                                   Completion<Transport> done);

}  // namespace loopspec::libuv
