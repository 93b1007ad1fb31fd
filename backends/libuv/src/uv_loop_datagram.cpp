// UvLoop's datagram endpoints: open the handle, then the endpoint with its protocol.
#include "loopspec/libuv/datagram_endpoint.hpp"
#include "loopspec/libuv/endpoint_start.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

void UvLoop::create_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options,
                                      Completion<DatagramTransport> done) {
  auto remote = options.remote_addr;
  open_datagram_handle(*this, options, [this, factory = std::move(factory), done = std::move(done),
                                        remote](HandleBox* box, MaybeError error) mutable {
    if (error) return complete_with_error(std::move(done), std::move(*error));
    start_endpoint<DatagramEndpoint>(*this, box, factory, std::move(done), remote);
  });
}

}  // namespace loopspec::libuv
