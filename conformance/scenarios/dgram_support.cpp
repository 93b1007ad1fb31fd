#include "dgram_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace loopspec::scenarios {

namespace {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// The harness's own conversion (numeric hosts and paths only), independent of any backend.
SocketAddress to_sockaddr(const Address& address) {
  SocketAddress out;
  if (const auto* un_address = std::get_if<UnixAddress>(&address)) {
    auto* un = reinterpret_cast<sockaddr_un*>(&out.storage);
    if (un_address->path.size() >= sizeof un->sun_path) throw ScenarioAbort("Unix path too long: " + un_address->path);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, un_address->path.data(), un_address->path.size());
    out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + un_address->path.size() + 1);
    return out;
  }
  const auto& inet = std::get<InetAddress>(address);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (::inet_pton(AF_INET, inet.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(inet.port);
    out.length = sizeof(sockaddr_in);
    return out;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (::inet_pton(AF_INET6, inet.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(inet.port);
    out.length = sizeof(sockaddr_in6);
    return out;
  }
  throw ScenarioAbort("not a numeric address: " + inet.host);
}

Address from_sockaddr(const sockaddr_storage& storage, socklen_t length) {
  char text[INET6_ADDRSTRLEN] = {};
  switch (storage.ss_family) {
    case AF_INET: {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      return InetAddress{text, ntohs(v4->sin_port)};
    }
    case AF_INET6: {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      return InetAddress{text, ntohs(v6->sin6_port)};
    }
    default: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage);
      std::size_t offset = offsetof(sockaddr_un, sun_path);
      std::size_t size = length > offset ? length - offset : 0;
      return UnixAddress{std::string(un->sun_path, ::strnlen(un->sun_path, size))};
    }
  }
}

int bound_socket(const Address& address) {
  SocketAddress bind_to = to_sockaddr(address);
  int fd = ::socket(bind_to.storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ScenarioAbort(std::string("socket: ") + std::strerror(errno));
  if (::bind(fd, bind_to.get(), bind_to.length) < 0) {
    int err = errno;
    ::close(fd);
    throw ScenarioAbort("bind " + to_string(address) + ": " + std::strerror(err));
  }
  return fd;
}

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

// ---- the observing protocol ----

void ObservingDatagramProtocol::connection_made(std::shared_ptr<BaseTransport> transport) {
  ++seen_.made;
  seen_.transport = std::dynamic_pointer_cast<DatagramTransport>(transport);
}

void ObservingDatagramProtocol::datagram_received(std::string_view data, const Address& addr) {
  seen_.datagrams.push_back(ReceivedDatagram{std::string(data), addr});
}

void ObservingDatagramProtocol::error_received(const Error& exc) { seen_.errors.push_back(exc); }

void ObservingDatagramProtocol::connection_lost(const MaybeError& exc) {
  ++seen_.lost;
  seen_.lost_error = exc;
}

void ObservingDatagramProtocol::pause_writing() {
  ++seen_.pauses;
  if (hooks_.on_pause) hooks_.on_pause();
}

void ObservingDatagramProtocol::resume_writing() {
  ++seen_.resumes;
  if (hooks_.on_resume) hooks_.on_resume();
}

// ---- endpoints of the backend ----

bool unix_variant(const ScenarioContext& ctx) { return ctx.variant() == "udp+unix"; }

Address local_address_for(ScenarioContext& ctx, const std::string& name) {
  if (unix_variant(ctx)) return UnixAddress{(ctx.temp_dir() / name).string()};
  if (ctx.variant() == "udp+ipv6") return InetAddress{"::1", 0};
  return InetAddress{"127.0.0.1", 0};
}

Address sockname_address(DatagramTransport& transport) {
  auto name = transport.get_extra_info("sockname");
  if (name && name->is_string()) return UnixAddress{name->get<std::string>()};
  if (name && name->is_array() && name->size() >= 2 && (*name)[0].is_string() && (*name)[1].is_number_unsigned()) {
    return InetAddress{(*name)[0].get<std::string>(), (*name)[1].get<std::uint16_t>()};
  }
  throw ScenarioAbort("the endpoint's get_extra_info('sockname') is not an address: " + (name ? name->dump() : "None"));
}

std::unique_ptr<DatagramEndpoint> open_endpoint(ScenarioContext& ctx, DatagramOptions options) {
  auto endpoint = std::make_unique<DatagramEndpoint>();
  endpoint->protocol = std::make_shared<ObservingDatagramProtocol>(endpoint->seen, endpoint->hooks);
  auto recorded = ctx.recorder().record_datagram(endpoint->protocol);
  endpoint->recorded = recorded;
  bool completed = false;
  MaybeError failure;
  DatagramEndpoint* raw = endpoint.get();
  ctx.loop().create_datagram_endpoint([recorded] { return recorded; }, std::move(options),
                                      [&, raw](Outcome<DatagramTransport> outcome) {
                                        completed = true;
                                        failure = outcome.error;
                                        raw->completed = outcome.value;
                                        raw->made_before_done = raw->seen.made > 0;
                                      });
  ctx.wait([&] { return completed; }, "create_datagram_endpoint to complete");
  if (failure || !endpoint->completed) {
    throw ScenarioAbort("create_datagram_endpoint failed: " + (failure ? failure->to_string() : "no transport"));
  }
  ctx.wait([&] { return endpoint->seen.made > 0; }, "connection_made");
  if (!endpoint->seen.transport) throw ScenarioAbort("connection_made did not get a DatagramTransport");
  return endpoint;
}

std::unique_ptr<DatagramEndpoint> open_unconnected_endpoint(ScenarioContext& ctx) {
  return open_endpoint(ctx, DatagramOptions{local_address_for(ctx, "endpoint"), std::nullopt, false});
}

// ---- the peer ----

DatagramPeer::DatagramPeer(ScenarioContext& ctx, const std::string& name)
    : PeerThread(bound_socket(local_address_for(ctx, name))) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length);
  address_ = from_sockaddr(storage, length);
  watch_with(ctx);
  start();
}

DatagramPeer::~DatagramPeer() { stop(); }

DatagramPeer::Snapshot DatagramPeer::snapshot() const {
  std::lock_guard lock(mutex_);
  Snapshot copy = state_;
  copy.send_queue = queue_.size();
  return copy;
}

void DatagramPeer::send(std::string data, const Address& to) {
  post([this, data = std::move(data), to] {
    queue_.emplace_back(data, to);
    send_queued();
  });
}

void DatagramPeer::stop_reading() {
  post([this] { state_.reading = false; });
}

void DatagramPeer::resume_reading() {
  post([this] {
    state_.reading = true;
    read_all();
  });
}

void DatagramPeer::wait_synced(ScenarioContext& ctx, std::string_view what) {
  wait_for_commands(ctx, what, [this] {
    if (state_.reading) read_all();
  });
}

short DatagramPeer::wanted() { return static_cast<short>((state_.reading ? POLLIN : 0) | (queue_.empty() ? 0 : POLLOUT)); }

void DatagramPeer::on_ready(short revents) {
  if (state_.reading && (revents & (POLLIN | POLLERR)) != 0) read_all();
  if ((revents & (POLLOUT | POLLERR)) != 0) send_queued();
}

void DatagramPeer::read_all() {
  static thread_local std::string buffer(1 << 18, '\0');
  for (;;) {
    sockaddr_storage from{};
    socklen_t length = sizeof from;
    ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &length);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (!would_block(errno)) state_.errors.push_back(errno);
      return;
    }
    state_.received.push_back(ReceivedDatagram{buffer.substr(0, static_cast<std::size_t>(n)), from_sockaddr(from, length)});
  }
}

void DatagramPeer::send_queued() {
  while (!queue_.empty()) {
    auto& [data, to] = queue_.front();
    SocketAddress target = to_sockaddr(to);
    ssize_t n = ::sendto(fd_, data.data(), data.size(), 0, target.get(), target.length);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) return;
      state_.errors.push_back(errno);
    }
    queue_.pop_front();
  }
}

}  // namespace loopspec::scenarios
