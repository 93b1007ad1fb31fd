// AsioLoop's datagram endpoints: the socket (datagram_endpoint.hpp), then the
// transport with its protocol.
#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/asio/datagram_endpoint.hpp"

namespace loopspec::asio {

void AsioLoop::create_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options,
                                        Completion<DatagramTransport> done) {
  auto remote = options.remote_addr;
  open_datagram_socket(*this, options, [this, factory = std::move(factory), done = std::move(done),
                                         remote](std::optional<DatagramSocket> socket, MaybeError error) mutable {
    if (error) return complete_with_error(std::move(done), std::move(*error));
    start_endpoint<DatagramEndpoint>(*this, std::move(*socket), factory, std::move(done), remote);
  });
}

}  // namespace loopspec::asio
