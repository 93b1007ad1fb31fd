#include "loopspec/kit/endpoint.hpp"

#include <sys/socket.h>

#include "loopspec/kit/exception_error.hpp"
#include "loopspec/kit/socket_names.hpp"

namespace loopspec::kit {

template <class Interface, class P>
Endpoint<Interface, P>::Endpoint(LoopBase& loop, std::string wrong_protocol)
    : loop_(&loop), faults_(loop.faults()), wrong_protocol_(std::move(wrong_protocol)) {}

template <class Interface, class P>
void Endpoint<Interface, P>::describe(int fd, std::optional<nlohmann::json> sockname,
                                      std::optional<nlohmann::json> peername) {
  socket_.fd = fd;
  socklen_t length = sizeof(int);
  ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &socket_.family, &length);
  ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &socket_.type, &length);
  socket_.sockname = std::move(sockname);
  socket_.peername = std::move(peername);
}

template <class Interface, class P>
std::optional<nlohmann::json> Endpoint<Interface, P>::get_extra_info(std::string_view name) {
  if (as_pipe_) return name == "pipe" ? std::optional(nlohmann::json{{"fd", socket_.fd}}) : std::nullopt;
  if (name == "peername") return socket_.peername;
  if (name == "sockname") return socket_.sockname;
  if (name == "socket") {
    const char* type = socket_.type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_STREAM";
    return nlohmann::json{{"fd", socket_.fd}, {"family", family_name(socket_.family)}, {"type", type}};
  }
  return std::nullopt;
}

template <class Interface, class P>
void Endpoint<Interface, P>::announce(Completion<Interface> done) {
  auto self = this->shared_from_this();
  hold_until_lost();
  loop_->call_soon([self, done = std::move(done)] {
    self->deliver_connection_made();
    if (done) done(Outcome<Interface>{std::static_pointer_cast<Interface>(self), std::nullopt});
  });
}

template <class Interface, class P>
void Endpoint<Interface, P>::deliver_connection_made() {
  if (phase_ == Phase::Lost) return;
  made_ = true;
  auto protocol = protocol_;
  if (call("connection_made", [&] { protocol->connection_made(this->shared_from_this()); })) on_connection_made();
}

template <class Interface, class P>
void Endpoint<Interface, P>::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto typed = std::dynamic_pointer_cast<P>(std::move(protocol));
  if (!typed) throw ContractError(wrong_protocol());
  adopt_protocol(std::move(typed));
}

template <class Interface, class P>
bool Endpoint<Interface, P>::adopt_protocol(std::shared_ptr<P> protocol) {
  if (phase_ == Phase::Lost) return false;
  protocol_ = std::move(protocol);
  return true;
}

template <class Interface, class P>
void Endpoint<Interface, P>::lose(const MaybeError& exc) {
  if (ending()) return;
  phase_ = Phase::LostPending;
  on_lose();
  close_io();
  loop_->call_soon([self = this->shared_from_this(), exc] { self->deliver_connection_lost(exc); });
}

template <class Interface, class P>
void Endpoint<Interface, P>::deliver_connection_lost(const MaybeError& exc) {
  if (phase_ == Phase::Lost) return;
  if (auto protocol = protocol_) {
    try {
      protocol->connection_lost(exc);
    } catch (...) {
      if (loop_ != nullptr) loop_->report_exception("connection_lost", error_from_current_exception());
    }
  }
  release();
  on_lost();
}

template <class Interface, class P>
void Endpoint<Interface, P>::release() {
  phase_ = Phase::Lost;
  socket_.fd = -1;
  on_lose();
  close_io();
  protocol_.reset();
  on_released();
}

template <class Interface, class P>
void Endpoint<Interface, P>::on_loop_destroyed() {
  release();
  on_loop_gone();
  loop_ = nullptr;
}

template class Endpoint<Transport, StreamProtocol>;
template class Endpoint<DatagramTransport, DatagramProtocol>;
template class Endpoint<ReadTransport, StreamProtocol>;
template class Endpoint<WriteTransport, BaseProtocol>;

}  // namespace loopspec::kit
