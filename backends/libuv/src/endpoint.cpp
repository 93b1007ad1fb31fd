#include "loopspec/libuv/endpoint.hpp"

#include "loopspec/libuv/uv_address.hpp"

namespace loopspec::libuv {

template <class Interface, class P>
Endpoint<Interface, P>::Endpoint(UvLoop& loop, HandleBox* box, std::string wrong_protocol)
    : kit::Endpoint<Interface, P>(loop, std::move(wrong_protocol)), box_(box) {
  int fd = -1;
  uv_fileno(handle(), &fd);
  std::optional<nlohmann::json> sockname;
  std::optional<nlohmann::json> peername;
  if (auto address = local_address(handle())) sockname = to_json(*address);
  if (auto address = peer_address(handle())) peername = to_json(*address);
  this->describe(fd, std::move(sockname), std::move(peername));
}

template <class Interface, class P>
Endpoint<Interface, P>::~Endpoint() {
  // Only reached with a handle when the start failed before announce() gave the box its owner.
  close_io();
}

template <class Interface, class P>
void Endpoint<Interface, P>::close_io() {
  if (handle_busy_) {
    close_waiting_ = true;
    return;
  }
  HandleBox::close(box_);
  box_ = nullptr;
}

template <class Interface, class P>
void Endpoint<Interface, P>::end_busy() {
  handle_busy_ = false;
  if (std::exchange(close_waiting_, false)) close_io();
}

template class Endpoint<Transport, StreamProtocol>;            // stream sockets
template class Endpoint<DatagramTransport, DatagramProtocol>;  // datagram sockets
template class Endpoint<ReadTransport, StreamProtocol>;        // read pipes
template class Endpoint<WriteTransport, BaseProtocol>;         // write pipes

}  // namespace loopspec::libuv
