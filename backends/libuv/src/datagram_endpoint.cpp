#include "loopspec/libuv/datagram_endpoint.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include "loopspec/libuv/uv_address.hpp"
#include "loopspec/libuv/uv_error.hpp"

namespace loopspec::libuv {

namespace {

Error value_error(std::string message) { return Error{"ValueError", 0, std::move(message)}; }

}  // namespace

// One datagram libuv sends later: the bytes stay here until its callback.
struct DatagramEndpoint::Send {
  uv_udp_send_t request;
  std::string data;
  DatagramEndpoint* owner;
};

// ---- creation ----

DatagramEndpoint::DatagramEndpoint(UvLoop& loop, HandleBox* box, std::optional<Address> remote)
    : Endpoint(loop, box, "a datagram transport needs a DatagramProtocol"), remote_(std::move(remote)) {}

void DatagramEndpoint::on_connection_made() {
  if (phase_ != Phase::Open) return;
  int status = uv_udp_recv_start(udp(), on_alloc, on_received);
  if (status < 0) lose(error_from_status(status));
}

void DatagramEndpoint::on_lose() {
  if (udp() != nullptr) uv_udp_recv_stop(udp());
}

// ---- BaseTransport ----

void DatagramEndpoint::close() {
  if (phase_ != Phase::Open) return;
  phase_ = Phase::Closing;
  uv_udp_recv_stop(udp());
  if (pending_sends_ == 0) lose(std::nullopt);
}

void DatagramEndpoint::abort() {
  if (!ending()) lose(std::nullopt);
}

// ---- sending ----

std::optional<sockaddr_storage> DatagramEndpoint::destination(const std::optional<Address>& addr) const {
  if (remote_) {
    if (addr && *addr != *remote_) {
      throw ContractError(value_error("Invalid address: must be None or " + to_string(*remote_)));
    }
    return std::nullopt;
  }
  if (!addr) throw ContractError(value_error("sendto() without addr needs an endpoint created with remote_addr"));
  std::optional<sockaddr_storage> to;
  if (const auto* inet = std::get_if<InetAddress>(&*addr)) {
    to = numeric_address(*inet);
    if (!to) throw ContractError(error_from_status(UV_EAI_NONAME, "Name or service not known (" + inet->host + ")"));
  } else {
    const auto& path = std::get<UnixAddress>(*addr).path;
    to = unix_socket_address(path);
    if (!to) throw ContractError(*unix_path_error(path));
  }
  return to;
}

void DatagramEndpoint::sendto(std::string_view data, std::optional<Address> addr) {
  std::optional<sockaddr_storage> to;
  try {
    to = destination(addr);
  } catch (const ContractError& e) {
    if (e.error().type == "ValueError") throw;
    // A name that does not resolve is an OSError of the send (gaierror), as in CPython.
    if (phase_ == Phase::Open) socket_error(e.error());
    return;
  }
  if (phase_ != Phase::Open) return;  // after close()/abort(): dropped silently
  const auto* target = to ? reinterpret_cast<const sockaddr*>(&*to) : nullptr;
  if (pending_sends_ == 0) {
    uv_buf_t buffer{const_cast<char*>(data.data()), data.size()};
    int status = uv_udp_try_send(udp(), &buffer, 1, target);
    if (status >= 0) return;
    if (status != UV_EAGAIN) return socket_error(error_from_status(status));
  }
  queue_send(data, target);
}

void DatagramEndpoint::queue_send(std::string_view data, const sockaddr* to) {
  auto* send = new Send{{}, std::string(data), this};
  send->request.data = send;
  uv_buf_t buffer{send->data.data(), send->data.size()};
  int status = uv_udp_send(&send->request, udp(), &buffer, 1, to, on_sent);
  if (status < 0) {
    delete send;
    return socket_error(error_from_status(status));
  }
  ++pending_sends_;
  pending_bytes_ += data.size();
  check_flow();
}

void DatagramEndpoint::on_sent(uv_udp_send_t* request, int status) {
  std::unique_ptr<Send> send(static_cast<Send*>(request->data));
  send->owner->sent(send->data.size(), status);
}

void DatagramEndpoint::sent(std::size_t bytes, int status) {
  --pending_sends_;
  pending_bytes_ -= bytes;
  if (!active()) return;  // lost meanwhile: UV_ECANCELED
  if (status < 0) socket_error(error_from_status(status));
  if (!active()) return;
  check_flow();  // the protocol may send more from resume_writing
  if (phase_ == Phase::Closing && pending_sends_ == 0) lose(std::nullopt);
}

void DatagramEndpoint::check_flow() {
  if (!made_ || ending()) return;
  auto protocol = protocol_;  // kept alive through the callback
  flow_.tell(*protocol, pending_bytes_, [this](const char* name, auto&& callback) { call(name, callback); });
}

void DatagramEndpoint::socket_error(const Error& error) {
  // Fault: dgram-error-closes
  if (faults_.dgram_error_closes) return lose(error);
  auto protocol = protocol_;
  call("error_received", [&] { protocol->error_received(error); });
}

// ---- receiving ----

void DatagramEndpoint::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto& endpoint = static_cast<DatagramEndpoint&>(*HandleBox::owner_of(handle));
  auto buffer = endpoint.loop_->read_buffer().subspan(1, UvLoop::kReadBufferSize);
  *buf = uv_buf_t{buffer.data(), buffer.size()};
}

void DatagramEndpoint::on_received(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* from,
                                   unsigned) {
  auto* endpoint = static_cast<DatagramEndpoint*>(HandleBox::owner_of(reinterpret_cast<uv_handle_t*>(handle)));
  endpoint->received(nread, *buf, from);
}

void DatagramEndpoint::received(ssize_t nread, const uv_buf_t& buf, const sockaddr* from) {
  if (phase_ != Phase::Open) return;
  if (nread == 0 && from == nullptr) return;  // nothing more to read now
  if (nread < 0) return socket_error(error_from_status(static_cast<int>(nread)));
  // A connected Unix socket may get no sender address: it is the peer.
  Address sender = from->sa_family != AF_UNSPEC ? to_address(from) : remote_.value_or(UnixAddress{});
  std::string_view data(buf.base, static_cast<std::size_t>(nread));
  auto protocol = protocol_;  // set_protocol inside the callback must not free it mid-call
  // Fault: dgram-split
  if (faults_.dgram_split && data.size() > 1) {
    if (!call("datagram_received", [&] { protocol->datagram_received(data.substr(0, 1), sender); })) return;
    data.remove_prefix(1);
  }
  call("datagram_received", [&] { protocol->datagram_received(data, sender); });
}

// ---- opening a socket ----

namespace {

using Opened = std::function<void(HandleBox*, MaybeError)>;

// A Unix datagram socket: libuv binds and connects only IP sockets, so the
// socket is made here and handed to uv_udp_open.
void open_unix(UvLoop& loop, const DatagramOptions& options, const Opened& done) {
  std::optional<sockaddr_storage> bind_to, connect_to;
  for (auto [address, into] : {std::pair{&options.local_addr, &bind_to}, std::pair{&options.remote_addr, &connect_to}}) {
    if (!*address) continue;
    const auto& path = std::get<UnixAddress>(**address).path;
    *into = unix_socket_address(path);
    if (!*into) return done(nullptr, unix_path_error(path));
  }
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return done(nullptr, Error::from_errno(errno));
  auto fail = [&](int err) {
    ::close(fd);
    done(nullptr, Error::from_errno(err));
  };
  int one = 1;
  if (options.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) return fail(errno);
  if (bind_to) {
    remove_stale_socket_file(std::get<UnixAddress>(*options.local_addr).path);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&*bind_to), sizeof(sockaddr_un)) < 0) return fail(errno);
  }
  if (connect_to && ::connect(fd, reinterpret_cast<const sockaddr*>(&*connect_to), sizeof(sockaddr_un)) < 0) {
    return fail(errno);
  }
  HandleBox* box = HandleBox::make(nullptr);
  uv_udp_init(loop.uv(), &box->udp);
  box->adopt();
  int status = uv_udp_open(&box->udp, fd);
  if (status < 0) {
    HandleBox::close(box);
    ::close(fd);
    return done(nullptr, error_from_status(status));
  }
  done(box, std::nullopt);
}

void open_inet(UvLoop& loop, const DatagramOptions& options, const std::vector<sockaddr_storage>& local,
               const std::vector<sockaddr_storage>& remote, const Opened& done) {
  const sockaddr_storage* bind_to = local.empty() ? nullptr : &local.front();
  const sockaddr_storage* connect_to = nullptr;
  for (const auto& candidate : remote) {
    if (bind_to == nullptr || candidate.ss_family == bind_to->ss_family) {
      connect_to = &candidate;
      break;
    }
  }
  if (!remote.empty() && connect_to == nullptr) {
    return done(nullptr, Error{"OSError", 0, "local_addr and remote_addr have no address family in common"});
  }
  int family = bind_to != nullptr ? bind_to->ss_family : connect_to->ss_family;
  HandleBox* box = HandleBox::make(nullptr);
  int status = uv_udp_init_ex(loop.uv(), &box->udp, static_cast<unsigned>(family));
  if (status < 0) {
    HandleBox::discard(box);
    return done(nullptr, error_from_status(status));
  }
  box->adopt();
  auto fail = [&](Error error) {
    HandleBox::close(box);
    done(nullptr, std::move(error));
  };
  if (options.reuse_port) {
    uv_os_fd_t fd = -1;
    uv_fileno(&box->handle, &fd);
    int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) return fail(Error::from_errno(errno));
  }
  if (bind_to != nullptr && (status = uv_udp_bind(&box->udp, reinterpret_cast<const sockaddr*>(bind_to), 0)) < 0) {
    return fail(error_from_status(status));
  }
  if (connect_to != nullptr && (status = uv_udp_connect(&box->udp, reinterpret_cast<const sockaddr*>(connect_to))) < 0) {
    return fail(error_from_status(status));
  }
  done(box, std::nullopt);
}

// Resolves an optional address (none: no addresses), then goes on.
void resolve_optional(UvLoop& loop, const std::optional<Address>& address, bool passive,
                      std::function<void(std::vector<sockaddr_storage>)> next, Opened failed) {
  if (!address) return next({});
  loop.resolver().resolve(std::get<InetAddress>(*address), passive,
                          [next = std::move(next), failed = std::move(failed)](Resolved resolved) {
                            if (resolved.error) return failed(nullptr, resolved.error);
                            next(std::move(resolved.addresses));
                          });
}

}  // namespace

void open_datagram_handle(UvLoop& loop, const DatagramOptions& options, Opened done) {
  const auto& local = options.local_addr;
  const auto& remote = options.remote_addr;
  if (!local && !remote) return done(nullptr, value_error("unexpected address family"));
  auto is_unix = [](const std::optional<Address>& a) { return a && std::holds_alternative<UnixAddress>(*a); };
  if (local && remote && is_unix(local) != is_unix(remote)) {
    return done(nullptr, value_error("local_addr and remote_addr must be of the same address family"));
  }
  if (is_unix(local) || is_unix(remote)) return open_unix(loop, options, done);
  resolve_optional(loop, local, true, [&loop, options, done](std::vector<sockaddr_storage> bind_to) {
    resolve_optional(loop, options.remote_addr, false, [&loop, options, done, bind_to](std::vector<sockaddr_storage> connect_to) {
      open_inet(loop, options, bind_to, connect_to, done);
    }, done);
  }, done);
}

}  // namespace loopspec::libuv
