// EpollLoop's datagram endpoints: open the socket, build the protocol, hand over.
#include <unistd.h>

#include "loopspec/reference/datagram_transport.hpp"
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/kit/exception_error.hpp"

namespace loopspec::reference {

void EpollLoop::create_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options,
                                         Completion<DatagramTransport> done) {
  int fd = -1;
  try {
    fd = open_datagram_socket(options);
  } catch (const ContractError& e) {
    return complete_with_error(std::move(done), e.error());
  }
  std::shared_ptr<DatagramProtocol> protocol;
  try {
    protocol = factory();
  } catch (...) {
    ::close(fd);
    return complete_with_error(std::move(done), kit::error_from_current_exception());
  }
  if (!protocol) {
    ::close(fd);
    return complete_with_error(std::move(done), Error{"TypeError", 0, "the protocol factory returned no protocol"});
  }
  DatagramSocketTransport::start(*this, fd, options.remote_addr, std::move(protocol), std::move(done));
}

}  // namespace loopspec::reference
