#include "loopspec/asio/stream_transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace loopspec::asio {

StreamTransport::StreamTransport(AsioLoop& loop, StreamSocket socket)
    : kit::StreamTransport<StreamWriting<StreamReading<Transport, StreamSocket>>>(
          loop, std::move(socket), "a stream transport needs a Protocol or a BufferedProtocol") {
  // Small writes go out without waiting for the peer's ACK, as asyncio does.
  boost::system::error_code ec;
  if (auto* socket = handle(); socket != nullptr && socket->local_endpoint(ec).protocol().family() != AF_UNIX && !ec) {
    int one = 1;
    ::setsockopt(socket->native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
}

void StreamTransport::shutdown_send() {
  if (handle() == nullptr) return;
  // A failure means the peer is gone; the next read or write reports that.
  boost::system::error_code ignored;
  handle()->shutdown(StreamSocket::shutdown_send, ignored);
}

void start_stream_connection(AsioLoop& loop, StreamSocket socket, const StreamProtocolFactory& factory,
                             Completion<Transport> done) {
  start_endpoint<StreamTransport>(loop, std::move(socket), factory, std::move(done));
}

}  // namespace loopspec::asio
