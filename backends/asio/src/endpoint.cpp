#include "loopspec/asio/endpoint.hpp"

#include <sys/socket.h>

#include "loopspec/asio/address.hpp"
#include "loopspec/kit/exception_error.hpp"

namespace loopspec::asio {

template <class Interface, class P, class Handle>
Endpoint<Interface, P, Handle>::Endpoint(AsioLoop& loop, Handle handle, std::string wrong_protocol)
    : loop_(&loop), faults_(loop.faults()), handle_(std::move(handle)), wrong_protocol_(std::move(wrong_protocol)) {
  boost::system::error_code ignored;
  handle_->non_blocking(true, ignored);
  socket_.fd = handle_->native_handle();
  socklen_t length = sizeof(int);
  ::getsockopt(socket_.fd, SOL_SOCKET, SO_DOMAIN, &socket_.family, &length);
  ::getsockopt(socket_.fd, SOL_SOCKET, SO_TYPE, &socket_.type, &length);
  if (auto address = local_address(socket_.fd)) socket_.sockname = to_json(*address);
  if (auto address = peer_address(socket_.fd)) socket_.peername = to_json(*address);
}

template <class Interface, class P, class Handle>
std::optional<nlohmann::json> Endpoint<Interface, P, Handle>::get_extra_info(std::string_view name) {
  if (as_pipe_) return name == "pipe" ? std::optional(nlohmann::json{{"fd", socket_.fd}}) : std::nullopt;
  if (name == "peername") return socket_.peername;
  if (name == "sockname") return socket_.sockname;
  if (name == "socket") {
    const char* type = socket_.type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_STREAM";
    return nlohmann::json{{"fd", socket_.fd}, {"family", family_name(socket_.family)}, {"type", type}};
  }
  return std::nullopt;
}

template <class Interface, class P, class Handle>
void Endpoint<Interface, P, Handle>::announce(Completion<Interface> done) {
  auto self = this->shared_from_this();
  loop_->hold(self);
  loop_->call_soon([self, done = std::move(done)] {
    self->deliver_connection_made();
    if (done) done(Outcome<Interface>{std::static_pointer_cast<Interface>(self), std::nullopt});
  });
}

template <class Interface, class P, class Handle>
void Endpoint<Interface, P, Handle>::deliver_connection_made() {
  if (phase_ == Phase::Lost) return;
  made_ = true;
  auto protocol = protocol_;
  if (call("connection_made", [&] { protocol->connection_made(this->shared_from_this()); })) on_connection_made();
}

template <class Interface, class P, class Handle>
void Endpoint<Interface, P, Handle>::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto typed = std::dynamic_pointer_cast<P>(std::move(protocol));
  if (!typed) throw ContractError(wrong_protocol());
  adopt_protocol(std::move(typed));
}

template <class Interface, class P, class Handle>
bool Endpoint<Interface, P, Handle>::adopt_protocol(std::shared_ptr<P> protocol) {
  if (phase_ == Phase::Lost) return false;
  protocol_ = std::move(protocol);
  return true;
}

template <class Interface, class P, class Handle>
void Endpoint<Interface, P, Handle>::lose(const MaybeError& exc) {
  if (ending()) return;
  phase_ = Phase::LostPending;
  on_lose();
  close_handle();
  loop_->call_soon([self = this->shared_from_this(), exc] { self->deliver_connection_lost(exc); });
}

template <class Interface, class P, class Handle>
void Endpoint<Interface, P, Handle>::deliver_connection_lost(const MaybeError& exc) {
  if (phase_ == Phase::Lost) return;
  if (auto protocol = protocol_) {
    try {
      protocol->connection_lost(exc);
    } catch (...) {
      if (loop_ != nullptr) loop_->report_exception("connection_lost", kit::error_from_current_exception());
    }
  }
  release();
  if (loop_ != nullptr) loop_->let_go(this);  // the caller's callback still holds this transport
}

template <class Interface, class P, class Handle>
void Endpoint<Interface, P, Handle>::release() {
  phase_ = Phase::Lost;
  socket_.fd = -1;
  on_lose();
  close_handle();
  protocol_.reset();
  on_released();
}

template <class Interface, class P, class Handle>
void Endpoint<Interface, P, Handle>::close_handle() {
  boost::system::error_code ignored;
  if (handle_ && handle_->is_open()) handle_->close(ignored);
}

template <class Interface, class P, class Handle>
void Endpoint<Interface, P, Handle>::on_loop_destroyed() {
  release();
  handle_.reset();  // while the io_context exists
  loop_ = nullptr;
}

template class Endpoint<Transport, StreamProtocol, StreamSocket>;                // stream sockets
template class Endpoint<DatagramTransport, DatagramProtocol, DatagramSocket>;    // datagram sockets
template class Endpoint<ReadTransport, StreamProtocol, Descriptor>;              // read pipes
template class Endpoint<WriteTransport, BaseProtocol, Descriptor>;               // write pipes

}  // namespace loopspec::asio
