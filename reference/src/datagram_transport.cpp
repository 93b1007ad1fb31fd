#include "loopspec/reference/datagram_transport.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace loopspec::reference {

namespace {

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

Error value_error(std::string message) { return Error{"ValueError", 0, std::move(message)}; }

}  // namespace

// ---- creation ----

std::shared_ptr<DatagramSocketTransport> DatagramSocketTransport::start(EpollLoop& loop, int fd,
                                                                        std::optional<Address> remote,
                                                                        std::shared_ptr<DatagramProtocol> protocol,
                                                                        Completion<DatagramTransport> done) {
  return create<DatagramSocketTransport>(std::move(protocol), std::move(done), Passkey{}, loop, fd, std::move(remote));
}

DatagramSocketTransport::DatagramSocketTransport(Passkey, EpollLoop& loop, int fd, std::optional<Address> remote)
    : DescriptorTransport(loop, fd, "a datagram transport needs a DatagramProtocol"), remote_(std::move(remote)) {
  socklen_t length = sizeof family_;
  ::getsockopt(fd_, SOL_SOCKET, SO_DOMAIN, &family_, &length);
  local_ = local_address(fd_);
  if (local_) sockname_ = to_json(*local_);
  // Unconnected: getpeername fails with ENOTCONN and 'peername' is None, as in CPython.
  if (auto address = peer_address(fd_)) peername_ = to_json(*address);
}

void DatagramSocketTransport::on_connection_made() {
  if (phase_ == Phase::Open) loop_->set_reading(fd_, true);
}

void DatagramSocketTransport::drop_queued_output() {
  queue_.clear();
  queued_bytes_ = 0;
}

// ---- BaseTransport ----

std::optional<nlohmann::json> DatagramSocketTransport::get_extra_info(std::string_view name) {
  if (name == "peername") return peername_;
  if (name == "sockname") return sockname_;
  if (name == "socket") return nlohmann::json{{"fd", fd_}, {"family", family_name(family_)}, {"type", "SOCK_DGRAM"}};
  return std::nullopt;
}

void DatagramSocketTransport::close() {
  if (phase_ != Phase::Open) return;
  phase_ = Phase::Closing;
  loop_->set_reading(fd_, false);
  if (queue_.empty()) lose(std::nullopt);
}

void DatagramSocketTransport::abort() {
  // Fault: dgram-abort-flushes
  if (faults_.dgram_abort_flushes) return close();
  lose(std::nullopt);
}

// ---- sending ----

std::optional<SocketAddress> DatagramSocketTransport::destination(const std::optional<Address>& addr) const {
  if (remote_) {
    if (addr && *addr != *remote_) throw ContractError(value_error("Invalid address: must be None or " + to_string(*remote_)));
    return std::nullopt;
  }
  if (!addr) throw ContractError(value_error("sendto() without addr needs an endpoint created with remote_addr"));
  auto candidates = connect_candidates(*addr);
  for (const auto& candidate : candidates) {
    if (candidate.family() == family_) return candidate;
  }
  return candidates.front();  // the wrong family: the send reports the error
}

void DatagramSocketTransport::sendto(std::string_view data, std::optional<Address> addr) {
  std::optional<SocketAddress> to;
  try {
    to = destination(addr);
  } catch (const ContractError& e) {
    // A name that does not resolve is an OSError (gaierror) of the send, as in CPython.
    if (e.error().type == "ValueError") throw;
    if (phase_ == Phase::Open) on_socket_error(e.error());
    return;
  }
  if (phase_ != Phase::Open) return;  // after close()/abort(): dropped silently
  if (queue_.empty()) {
    int err = send_one(data, to);
    if (err == 0) return;
    if (!would_block(err)) return on_socket_error(Error::from_errno(err));
  }
  queue_.push_back(Datagram{std::string(data), to});
  queued_bytes_ += data.size();
  loop_->set_writing(fd_, true);
  pause_if_over(flow_, queued_bytes_);
}

int DatagramSocketTransport::send_one(std::string_view data, const std::optional<SocketAddress>& to) {
  // Fault: dgram-enobufs-closes (Linux never reports ENOBUFS on loopback: simulate one)
  if (faults_.dgram_enobufs_closes && !enobufs_injected_) {
    enobufs_injected_ = true;
    return ENOBUFS;
  }
  for (;;) {
    ssize_t sent = to ? ::sendto(fd_, data.data(), data.size(), MSG_DONTWAIT, to->get(), to->length)
                      : ::send(fd_, data.data(), data.size(), MSG_DONTWAIT);
    if (sent >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

void DatagramSocketTransport::on_writable() { flush(); }

void DatagramSocketTransport::flush() {
  while (!queue_.empty() && active()) {
    Datagram datagram = std::move(queue_.front());
    int err = send_one(datagram.data, datagram.to);
    if (would_block(err)) {
      queue_.front() = std::move(datagram);
      break;
    }
    queue_.pop_front();
    queued_bytes_ -= datagram.data.size();
    if (err != 0) on_socket_error(Error::from_errno(err));
  }
  if (!active()) return;
  resume_if_drained(flow_, queued_bytes_);  // the protocol may send more from resume_writing
  if (!active()) return;
  if (!queue_.empty()) return;
  loop_->set_writing(fd_, false);
  if (phase_ == Phase::Closing) lose(std::nullopt);
}

void DatagramSocketTransport::on_socket_error(const Error& error) {
  // Fault: dgram-error-closes
  if (faults_.dgram_error_closes) return lose(error);
  // Fault: dgram-enobufs-closes
  if (faults_.dgram_enobufs_closes && error.errnum == ENOBUFS) return lose(error);
  auto protocol = protocol_;
  call("error_received", [&] { protocol->error_received(error); });
}

void DatagramSocketTransport::set_write_buffer_limits(std::optional<std::int64_t> high,
                                                      std::optional<std::int64_t> low) {
  flow_.set_limits(high, low);
  pause_if_over(flow_, queued_bytes_);
  resume_if_drained(flow_, queued_bytes_);
}

// ---- receiving ----

void DatagramSocketTransport::on_readable() {
  if (phase_ != Phase::Open) return;
  auto buffer = loop_->read_buffer().subspan(1, EpollLoop::kReadBufferSize);
  sockaddr_storage from{};
  socklen_t length = sizeof from;
  ssize_t n;
  do {
    length = sizeof from;
    n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &length);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (!would_block(errno)) on_socket_error(Error::from_errno(errno));
    return;
  }
  Address sender = to_address(reinterpret_cast<const sockaddr*>(&from), length);
  // A connected Unix datagram socket may get no sender address: it is the peer.
  if (length == 0 && remote_) sender = *remote_;
  // Fault: dgram-wrong-sender
  if (faults_.dgram_wrong_sender && local_) sender = *local_;
  std::string_view data(buffer.data(), static_cast<std::size_t>(n));
  // Fault: dgram-split
  if (faults_.dgram_split && data.size() > 1) {
    deliver_datagram(data.substr(0, data.size() / 2), sender);
    if (phase_ == Phase::Open) deliver_datagram(data.substr(data.size() / 2), sender);
    return;
  }
  deliver_datagram(data, sender);
}

void DatagramSocketTransport::deliver_datagram(std::string_view data, const Address& sender) {
  auto protocol = protocol_;  // set_protocol inside the callback must not free it mid-call
  call("datagram_received", [&] { protocol->datagram_received(data, sender); });
}

// ---- opening a socket ----

namespace {

// The stale socket file of an earlier endpoint at a Unix path goes first, as
// in CPython; anything else at the path makes bind() fail.
void unlink_stale_socket(const UnixAddress& address) {
  if (address.path.empty() || address.path[0] == '\0') return;
  struct stat st {};
  if (::stat(address.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(address.path.c_str());
}

[[noreturn]] void fail_with_errno(int fd) {
  Error error = Error::from_errno(errno);
  ::close(fd);
  throw ContractError(std::move(error));
}

}  // namespace

int open_datagram_socket(const DatagramOptions& options) {
  const auto& local = options.local_addr;
  const auto& remote = options.remote_addr;
  if (!local && !remote) throw ContractError(value_error("unexpected address family"));
  auto is_unix = [](const Address& a) { return std::holds_alternative<UnixAddress>(a); };
  if (local && remote && is_unix(*local) != is_unix(*remote)) {
    throw ContractError(value_error("local_addr and remote_addr must be of the same address family"));
  }
  std::optional<SocketAddress> bind_to;
  std::optional<SocketAddress> connect_to;
  if (local) bind_to = bind_address(*local);
  if (remote) {
    auto candidates = connect_candidates(*remote);
    for (const auto& candidate : candidates) {
      if (!bind_to || candidate.family() == bind_to->family()) {
        connect_to = candidate;
        break;
      }
    }
    if (!connect_to) throw ContractError(Error{"OSError", 0, "local_addr and remote_addr have no address family in common"});
  }
  int family = bind_to ? bind_to->family() : connect_to->family();
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ContractError(Error::from_errno(errno));
  if (options.reuse_port) {
    int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) fail_with_errno(fd);
  }
  if (bind_to) {
    if (local && is_unix(*local)) unlink_stale_socket(std::get<UnixAddress>(*local));
    if (::bind(fd, bind_to->get(), bind_to->length) < 0) fail_with_errno(fd);
  }
  if (connect_to && ::connect(fd, connect_to->get(), connect_to->length) < 0) fail_with_errno(fd);
  return fd;
}

}  // namespace loopspec::reference
