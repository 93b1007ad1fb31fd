#include "loopspec/libuv/stream_transport.hpp"

#include "loopspec/libuv/endpoint_start.hpp"

namespace loopspec::libuv {

StreamTransport::StreamTransport(UvLoop& loop, HandleBox* box)
    : kit::StreamTransport<StreamWriting<StreamReading<Transport>>>(
          loop, box, "a stream transport needs a Protocol or a BufferedProtocol") {
  // Small writes go out without waiting for the peer's ACK, as asyncio does.
  if (handle()->type == UV_TCP) uv_tcp_nodelay(&box->tcp, 1);
}

void StreamTransport::shutdown_send() {
  // A failure means the peer is gone; the next read or write reports that.
  uv_shutdown(&shutdown_request_, stream(), on_shutdown);
}

void start_stream_connection(UvLoop& loop, HandleBox* box, const StreamProtocolFactory& factory,
                             Completion<Transport> done) {
  start_endpoint<StreamTransport>(loop, box, factory, std::move(done));
}

}  // namespace loopspec::libuv
