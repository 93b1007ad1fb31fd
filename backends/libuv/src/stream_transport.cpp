#include "loopspec/libuv/stream_transport.hpp"

#include <sys/socket.h>

#include "loopspec/libuv/endpoint_start.hpp"
#include "loopspec/libuv/uv_error.hpp"

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

MaybeError start_socket_connection(UvLoop& loop, int fd, int family, const StreamProtocolFactory& factory,
                                   Completion<Transport> done) {
  HandleBox* box = HandleBox::make(nullptr);
  int status = 0;
  if (family == AF_UNIX) {
    uv_pipe_init(loop.uv(), &box->pipe, 0);
    box->adopt();
    status = uv_pipe_open(&box->pipe, fd);
  } else {
    uv_tcp_init(loop.uv(), &box->tcp);
    box->adopt();
    status = uv_tcp_open(&box->tcp, fd);
  }
  if (status != 0) {
    HandleBox::close(box);
    return error_from_status(status);
  }
  start_stream_connection(loop, box, factory, std::move(done));
  return std::nullopt;
}

}  // namespace loopspec::libuv
