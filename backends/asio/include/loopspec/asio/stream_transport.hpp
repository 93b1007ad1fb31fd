// A connected stream socket (TCP or Unix, one generic::stream_protocol
// socket) as an asyncio Transport: kit::StreamTransport
// (kit/stream_transport.hpp) over Asio's reading and writing.
//
// Promises beyond kit::StreamTransport's:
// - write_eof()'s half-close is shutdown(shutdown_send).
// - close(): reading stops; a wait still outstanding reads nothing.
// - TCP sockets get TCP_NODELAY, as asyncio sets it.
#pragma once

#include "loopspec/asio/stream_reading.hpp"
#include "loopspec/asio/stream_writing.hpp"
#include "loopspec/kit/stream_transport.hpp"

namespace loopspec::asio {

class StreamTransport final : public kit::StreamTransport<StreamWriting<StreamReading<Transport, StreamSocket>>> {
 public:
  // socket: connected (start_endpoint).
  StreamTransport(AsioLoop& loop, StreamSocket socket);

 private:
  void shutdown_send() override;
};

// The protocol for a new connection from factory, then the transport (start_endpoint).
void start_stream_connection(AsioLoop& loop, StreamSocket socket, const StreamProtocolFactory& factory,
                             Completion<Transport> done);

}  // namespace loopspec::asio
