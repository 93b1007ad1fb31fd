#include "loopspec/asio/datagram_endpoint.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>

#include "loopspec/asio/asio_error.hpp"

namespace loopspec::asio {

namespace {

Error value_error(std::string message) { return Error{"ValueError", 0, std::move(message)}; }

using Target = DatagramEndpoint::Target;

Target to_target(const GenericEndpoint& endpoint) { return as_endpoint<Target>(endpoint); }

}  // namespace

DatagramEndpoint::DatagramEndpoint(AsioLoop& loop, DatagramSocket socket, std::optional<Address> remote)
    : Endpoint(loop, std::move(socket), "a datagram transport needs a DatagramProtocol"), remote_(std::move(remote)) {}

void DatagramEndpoint::on_lose() {
  queue_.clear();
  pending_bytes_ = 0;
}

// ---- BaseTransport ----

void DatagramEndpoint::close() {
  if (phase_ != Phase::Open) return;
  phase_ = Phase::Closing;  // receiving stops: a wait still outstanding reads nothing
  if (queue_.empty()) lose(std::nullopt);
}

void DatagramEndpoint::abort() {
  // Fault: dgram-abort-flushes
  if (faults_.dgram_abort_flushes) return close();
  if (!ending()) lose(std::nullopt);
}

// ---- sending ----

std::optional<Target> DatagramEndpoint::destination(const std::optional<Address>& addr) const {
  if (remote_) {
    if (addr && *addr != *remote_) {
      throw ContractError(value_error("Invalid address: must be None or " + to_string(*remote_)));
    }
    return std::nullopt;
  }
  if (!addr) throw ContractError(value_error("sendto() without addr needs an endpoint created with remote_addr"));
  if (const auto* inet = std::get_if<InetAddress>(&*addr)) {
    boost::system::error_code ec;
    auto host = net::ip::make_address(inet->host, ec);
    if (ec) throw ContractError(Error{"gaierror", EAI_NONAME, "Name or service not known (" + inet->host + ")"});
    return to_target(inet_endpoint(host, inet->port));
  }
  return to_target(unix_endpoint(std::get<UnixAddress>(*addr).path));
}

void DatagramEndpoint::sendto(std::string_view data, std::optional<Address> addr) {
  std::optional<Target> to;
  try {
    to = destination(addr);
  } catch (const ContractError& e) {
    if (e.error().type == "ValueError") throw;
    // A name that does not resolve, a path too long: an OSError of the send, as in CPython.
    if (phase_ == Phase::Open) socket_error(e.error());
    return;
  }
  if (phase_ != Phase::Open || handle() == nullptr) return;  // after close()/abort(): dropped silently
  if (queue_.empty()) {
    boost::system::error_code ec;
    send_one(data, to, ec);
    if (!ec) return;
    if (!would_block(ec)) return socket_error(error_from_code(ec));
  }
  queue_.push_back(Send{std::string(data), std::move(to)});
  pending_bytes_ += data.size();
  wait_writable();
  check_flow();
}

void DatagramEndpoint::send_one(std::string_view data, const std::optional<Target>& to, boost::system::error_code& ec) {
  auto buffer = net::buffer(data.data(), data.size());
  if (to) {
    handle()->send_to(buffer, *to, 0, ec);
  } else {
    handle()->send(buffer, 0, ec);
  }
}

void DatagramEndpoint::wait_writable() {
  if (writable_wait_ || queue_.empty() || !active() || handle() == nullptr) return;
  writable_wait_ = true;
  auto self = std::static_pointer_cast<DatagramEndpoint>(shared_from_this());
  handle()->async_wait(DatagramSocket::wait_write,
                       completion(self, [](DatagramEndpoint& me, boost::system::error_code ec) { me.writable(ec); }));
}

// asyncio's _sendto_ready: the queue, oldest first, until the kernel says would-block.
void DatagramEndpoint::writable(const boost::system::error_code& wait_error) {
  writable_wait_ = false;
  if (wait_error == net::error::operation_aborted || !active() || handle() == nullptr) return;
  while (!queue_.empty()) {
    boost::system::error_code ec;
    send_one(queue_.front().data, queue_.front().to, ec);
    if (would_block(ec) || ec == net::error::interrupted) break;
    pending_bytes_ -= queue_.front().data.size();
    queue_.pop_front();
    if (ec) socket_error(error_from_code(ec));
    if (!active()) return;
  }
  check_flow();  // the protocol may send more from resume_writing
  if (!active()) return;
  if (queue_.empty() && phase_ == Phase::Closing) return lose(std::nullopt);
  // Re-armed before the loop polls again: the readiness a failed send itself
  // raises (a Unix receiver's full queue) is not lost, and comes back next iteration.
  wait_writable();
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

void DatagramEndpoint::wait_readable() {
  if (waiting_ || phase_ != Phase::Open || handle() == nullptr) return;
  waiting_ = true;
  auto self = std::static_pointer_cast<DatagramEndpoint>(shared_from_this());
  handle()->async_wait(DatagramSocket::wait_read,
                       completion(self, [](DatagramEndpoint& me, boost::system::error_code ec) { me.readable(ec); }));
}

void DatagramEndpoint::readable(const boost::system::error_code& wait_error) {
  waiting_ = false;
  if (wait_error == net::error::operation_aborted || phase_ != Phase::Open || handle() == nullptr) return;
  auto buffer = loop_->read_buffer().subspan(1, AsioLoop::kReadBufferSize);
  Target from;
  boost::system::error_code ec;
  std::size_t n = handle()->receive_from(net::buffer(buffer.data(), buffer.size()), from, 0, ec);
  if (would_block(ec) || ec == net::error::interrupted) return wait_readable();
  if (ec) {
    socket_error(error_from_code(ec));
    return wait_readable();
  }
  // A connected Unix socket may get no sender address: it is the peer.
  Address sender = from.size() > 0 ? to_address(from.data(), from.size()) : remote_.value_or(UnixAddress{});
  std::string_view data(buffer.data(), n);
  auto protocol = protocol_;  // set_protocol inside the callback must not free it mid-call
  // Fault: dgram-split
  if (faults_.dgram_split && data.size() > 1) {
    if (!call("datagram_received", [&] { protocol->datagram_received(data.substr(0, 1), sender); })) return;
    data.remove_prefix(1);
  }
  call("datagram_received", [&] { protocol->datagram_received(data, sender); });
  wait_readable();
}

// ---- opening a socket ----

namespace {

using Opened = std::function<void(std::optional<DatagramSocket>, MaybeError)>;

// local and remote as endpoints (either may be absent), then the socket.
void open_socket(AsioLoop& loop, const DatagramOptions& options, const std::vector<GenericEndpoint>& local,
                 const std::vector<GenericEndpoint>& remote, const Opened& done) {
  const GenericEndpoint* bind_to = local.empty() ? nullptr : &local.front();
  const GenericEndpoint* connect_to = nullptr;
  for (const auto& candidate : remote) {
    if (bind_to == nullptr || candidate.protocol().family() == bind_to->protocol().family()) {
      connect_to = &candidate;
      break;
    }
  }
  if (!remote.empty() && connect_to == nullptr) {
    return done(std::nullopt, Error{"OSError", 0, "local_addr and remote_addr have no address family in common"});
  }
  int family = (bind_to != nullptr ? bind_to : connect_to)->protocol().family();
  int protocol = family == AF_UNIX ? 0 : IPPROTO_UDP;
  DatagramSocket socket(loop.context());
  boost::system::error_code ec;
  if (socket.open(net::generic::datagram_protocol(family, protocol), ec); ec) return done(std::nullopt, error_from_code(ec));
  int one = 1;
  if (options.reuse_port && ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    return done(std::nullopt, Error::from_errno(errno));
  }
  if (bind_to != nullptr) {
    if (family == AF_UNIX) remove_stale_socket_file(std::get<UnixAddress>(*options.local_addr).path);
    if (socket.bind(to_target(*bind_to), ec); ec) return done(std::nullopt, error_from_code(ec));
  }
  if (connect_to != nullptr) {
    if (socket.connect(to_target(*connect_to), ec); ec) return done(std::nullopt, error_from_code(ec));
  }
  done(std::move(socket), std::nullopt);
}

// An optional address as endpoints (none: no endpoints), then next.
void resolve_optional(AsioLoop& loop, const std::optional<Address>& address, bool passive,
                      std::function<void(std::vector<GenericEndpoint>)> next, Opened failed) {
  if (!address) return next({});
  if (const auto* unix_address = std::get_if<UnixAddress>(&*address)) {
    if (auto error = unix_path_error(unix_address->path)) return failed(std::nullopt, error);
    return next({unix_endpoint(unix_address->path)});
  }
  resolve(loop, std::get<InetAddress>(*address), passive,
          [next = std::move(next), failed = std::move(failed)](std::vector<GenericEndpoint> found, MaybeError error) {
            if (error) return failed(std::nullopt, error);
            next(std::move(found));
          });
}

}  // namespace

void open_datagram_socket(AsioLoop& loop, const DatagramOptions& options, Opened done) {
  const auto& local = options.local_addr;
  const auto& remote = options.remote_addr;
  if (!local && !remote) return done(std::nullopt, value_error("unexpected address family"));
  auto is_unix = [](const std::optional<Address>& a) { return a && std::holds_alternative<UnixAddress>(*a); };
  if (local && remote && is_unix(local) != is_unix(remote)) {
    return done(std::nullopt, value_error("local_addr and remote_addr must be of the same address family"));
  }
  resolve_optional(loop, local, true, [&loop, options, done](std::vector<GenericEndpoint> bind_to) {
    resolve_optional(loop, options.remote_addr, false, [&loop, options, done, bind_to](std::vector<GenericEndpoint> connect_to) {
      open_socket(loop, options, bind_to, connect_to, done);
    }, done);
  }, done);
}

}  // namespace loopspec::asio
