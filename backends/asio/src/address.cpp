#include "loopspec/asio/address.hpp"

#include <netdb.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <cstring>
#include <memory>

#include "loopspec/asio/asio_error.hpp"

namespace loopspec::asio {

namespace ip = boost::asio::ip;

GenericEndpoint inet_endpoint(const ip::address& host, std::uint16_t port) {
  return GenericEndpoint(ip::tcp::endpoint(host, port));
}

GenericEndpoint unix_endpoint(const std::string& path) {
  if (auto error = unix_path_error(path)) throw ContractError(*error);
  return GenericEndpoint(boost::asio::local::stream_protocol::endpoint(path));
}

Address to_address(const sockaddr* address, std::size_t length) {
  if (address->sa_family == AF_UNIX) {
    // An unnamed socket has no path bytes at all (length == sizeof(sa_family_t)).
    std::size_t room = length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
    const char* path = reinterpret_cast<const sockaddr_un*>(address)->sun_path;
    // A path name ends at its NUL; an abstract name (leading NUL) is all its bytes.
    std::size_t size = room > 0 && path[0] == '\0' ? room : ::strnlen(path, room);
    return UnixAddress{std::string(path, size)};
  }
  ip::tcp::endpoint endpoint;
  std::memcpy(endpoint.data(), address, std::min<std::size_t>(length, endpoint.capacity()));
  return InetAddress{endpoint.address().to_string(), endpoint.port()};
}

namespace {

std::optional<Address> name_of(int fd, bool peer) {
  sockaddr_storage storage{};
  socklen_t size = sizeof storage;
  auto* address = reinterpret_cast<sockaddr*>(&storage);
  if ((peer ? ::getpeername(fd, address, &size) : ::getsockname(fd, address, &size)) != 0) return std::nullopt;
  return to_address(address, size);
}

}  // namespace

std::optional<Address> local_address(int fd) { return name_of(fd, false); }

std::optional<Address> peer_address(int fd) { return name_of(fd, true); }

namespace {

// One name being resolved; held by the loop until its answer.
class Resolution final : public LoopResident, public std::enable_shared_from_this<Resolution> {
 public:
  using Done = std::function<void(std::vector<GenericEndpoint>, MaybeError)>;
  Resolution(AsioLoop& loop, Done done) : loop_(&loop), resolver_(std::in_place, loop.context()), done_(std::move(done)) {}

  void start(const InetAddress& address, bool passive) {
    loop_->hold(shared_from_this());
    auto flags = passive ? ip::resolver_base::passive : ip::resolver_base::flags();
    resolver_->async_resolve(address.host, std::to_string(address.port), flags,
                             [self = shared_from_this(), host = address.host](const boost::system::error_code& ec,
                                                                              ip::tcp::resolver::results_type results) {
                               if (self->loop_ == nullptr || !self->done_) return;
                               self->loop_->call_soon([self, host, ec, results] { self->finish(host, ec, results); });
                             });
  }

  void on_loop_destroyed() override {
    done_ = nullptr;
    resolver_.reset();
    loop_ = nullptr;
  }

 private:
  void finish(const std::string& host, boost::system::error_code ec, const ip::tcp::resolver::results_type& results) {
    if (loop_ == nullptr || !done_) return;
    auto self = shared_from_this();
    loop_->let_go(this);
    std::vector<GenericEndpoint> endpoints;
    for (const auto& entry : results) endpoints.emplace_back(entry.endpoint());
    if (!ec && endpoints.empty()) ec = boost::asio::error::host_not_found;
    auto done = std::exchange(done_, nullptr);
    if (ec) return done({}, error_from_code(ec, error_from_code(ec).message + " (" + host + ")"));
    done(std::move(endpoints), std::nullopt);
  }

  AsioLoop* loop_;
  std::optional<ip::tcp::resolver> resolver_;
  Done done_;
};

}  // namespace

void resolve(AsioLoop& loop, const InetAddress& address, bool passive,
             std::function<void(std::vector<GenericEndpoint>, MaybeError)> done) {
  boost::system::error_code ec;
  auto numeric = ip::make_address(address.host, ec);
  if (!ec) return done({inet_endpoint(numeric, address.port)}, std::nullopt);
  std::make_shared<Resolution>(loop, std::move(done))->start(address, passive);
}

}  // namespace loopspec::asio
