#include "loopspec/asio/endpoint.hpp"

#include "loopspec/asio/address.hpp"

namespace loopspec::asio {

template <class Interface, class P, class Handle>
Endpoint<Interface, P, Handle>::Endpoint(AsioLoop& loop, Handle handle, std::string wrong_protocol)
    : kit::Endpoint<Interface, P>(loop, std::move(wrong_protocol)), handle_(std::move(handle)) {
  boost::system::error_code ignored;
  handle_->non_blocking(true, ignored);
  int fd = handle_->native_handle();
  std::optional<nlohmann::json> sockname;
  std::optional<nlohmann::json> peername;
  if (auto address = local_address(fd)) sockname = to_json(*address);
  if (auto address = peer_address(fd)) peername = to_json(*address);
  this->describe(fd, std::move(sockname), std::move(peername));
}

template <class Interface, class P, class Handle>
void Endpoint<Interface, P, Handle>::hold_until_lost() {
  static_cast<AsioLoop*>(this->loop_)->hold(this->shared_from_this());
}

template <class Interface, class P, class Handle>
void Endpoint<Interface, P, Handle>::on_lost() {
  // The caller's callback still holds this transport.
  if (this->loop_ != nullptr) static_cast<AsioLoop*>(this->loop_)->let_go(this);
}

template <class Interface, class P, class Handle>
void Endpoint<Interface, P, Handle>::close_io() {
  boost::system::error_code ignored;
  if (handle_ && handle_->is_open()) handle_->close(ignored);
}

template class Endpoint<Transport, StreamProtocol, StreamSocket>;                // stream sockets
template class Endpoint<DatagramTransport, DatagramProtocol, DatagramSocket>;    // datagram sockets
template class Endpoint<ReadTransport, StreamProtocol, Descriptor>;              // read pipes
template class Endpoint<WriteTransport, BaseProtocol, Descriptor>;               // write pipes

}  // namespace loopspec::asio
