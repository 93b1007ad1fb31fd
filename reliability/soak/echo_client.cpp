#include "echo_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "loopspec/digest.hpp"

namespace loopspec::reliability {
namespace {

using Clock = std::chrono::steady_clock;

void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Blocking connect (on loopback it returns once the server's kernel completed the
// handshake), then non-blocking. -1 and errno on failure.
int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_in self{};
  socklen_t size = sizeof self;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &size);
  return ntohs(self.sin_port);
}

struct Connection {
  int fd = -1;
  enum class Phase { Exchanging, Draining, Ended } phase = Phase::Exchanging;
  std::string message;
  std::size_t sent = 0;      // of the message in flight
  std::size_t received = 0;  // of its echo
  bool want_out = false;
  Digest sent_digest, echoed_digest;
  EchoConnectionReport report;
};

class EchoClient {
 public:
  explicit EchoClient(const EchoClientOptions& options) : options_(options), scratch_(1 << 16) {}

  EchoClientReport run() {
    raise_fd_limit();
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    const auto connecting = Clock::now();
    connections_.reserve(options_.connections);
    for (std::size_t i = 0; i < options_.connections; ++i) {
      int fd = connect_loopback(options_.port);
      if (fd < 0) {
        if (report_.connect_failures++ == 0) report_.first_connect_error = std::strerror(errno);
        continue;
      }
      Connection& c = connections_.emplace_back();
      c.fd = fd;
      c.report.local_port = local_port(fd);
      epoll_event ev{EPOLLIN, {.u64 = connections_.size() - 1}};
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    }
    const auto loaded = Clock::now();
    report_.connect_seconds = std::chrono::duration<double>(loaded - connecting).count();
    const auto stop_at = loaded + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.seconds));
    const auto give_up_at =
        stop_at + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.grace_seconds));
    for (std::size_t i = 0; i < connections_.size(); ++i) next_message(i);

    std::vector<epoll_event> events(std::max<std::size_t>(connections_.size(), 1));
    bool stopping = false;
    while (ended_ < connections_.size()) {
      const auto now = Clock::now();
      if (now >= give_up_at) break;
      if (!stopping && now >= stop_at) stopping = true;
      stopping_ = stopping;
      const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
      if (n < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "epoll_wait");
      for (int k = 0; k < n; ++k) {
        const std::size_t i = events[k].data.u64;
        if (events[k].events & EPOLLOUT) send_more(i);
        if (events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive(i);
      }
      // Connections idle between messages when the time came: start draining them now.
      if (stopping && !drained_idle_) {
        drained_idle_ = true;
        for (std::size_t i = 0; i < connections_.size(); ++i) {
          auto& c = connections_[i];
          if (c.phase == Connection::Phase::Exchanging && c.sent == 0 && c.received == 0) half_close(i);
        }
      }
    }
    report_.load_seconds = std::chrono::duration<double>(Clock::now() - loaded).count();
    for (auto& c : connections_) {
      c.report.sent_digest = c.sent_digest.value();
      c.report.echoed_digest = c.echoed_digest.value();
      if (c.fd >= 0) ::close(c.fd);
      report_.connections.push_back(std::move(c.report));
    }
    ::close(epoll_);
    return std::move(report_);
  }

 private:
  // Deterministic bytes of message `seq` of connection `i`: every message differs.
  void fill_message(std::size_t i, std::uint64_t seq, std::string& out) {
    out.resize(options_.message_bytes);
    std::uint64_t x = (static_cast<std::uint64_t>(i) << 32 ^ seq) * 0x9e3779b97f4a7c15ULL + 1;
    for (auto& byte : out) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      byte = static_cast<char>(x);
    }
  }

  void next_message(std::size_t i) {
    auto& c = connections_[i];
    c.sent = c.received = 0;
    if (stopping_) return half_close(i);
    fill_message(i, c.report.messages, c.message);
    send_more(i);
  }

  void send_more(std::size_t i) {
    auto& c = connections_[i];
    if (c.phase != Connection::Phase::Exchanging) return set_want_out(i, false);
    while (c.sent < c.message.size()) {
      const ssize_t n = ::write(c.fd, c.message.data() + c.sent, c.message.size() - c.sent);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        return fail(i, "write", errno);
      }
      c.sent_digest.update({c.message.data() + c.sent, static_cast<std::size_t>(n)});
      c.report.sent_bytes += static_cast<std::uint64_t>(n);
      c.sent += static_cast<std::size_t>(n);
    }
    set_want_out(i, c.sent < c.message.size());
  }

  void set_want_out(std::size_t i, bool on) {
    auto& c = connections_[i];
    if (c.want_out == on || c.fd < 0) return;
    c.want_out = on;
    epoll_event ev{on ? EPOLLIN | EPOLLOUT : EPOLLIN, {.u64 = i}};
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void half_close(std::size_t i) {
    auto& c = connections_[i];
    if (c.phase != Connection::Phase::Exchanging) return;
    c.phase = Connection::Phase::Draining;
    set_want_out(i, false);
    if (::shutdown(c.fd, SHUT_WR) != 0) fail(i, "shutdown", errno);
  }

  void receive(std::size_t i) {
    auto& c = connections_[i];
    if (c.phase == Connection::Phase::Ended) return;
    const ssize_t n = ::read(c.fd, scratch_.data(), scratch_.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return fail(i, "read", errno);
    }
    if (n == 0) {
      c.report.finished = c.phase == Connection::Phase::Draining;
      if (!c.report.finished) c.report.error = "end of file from the server before the client half-closed";
      return end(i);
    }
    const std::string_view got(scratch_.data(), static_cast<std::size_t>(n));
    c.echoed_digest.update(got);
    c.report.echoed_bytes += got.size();
    const std::size_t awaited = c.phase == Connection::Phase::Exchanging ? c.sent - c.received : 0;
    const std::size_t expected = std::min(awaited, got.size());
    for (std::size_t k = 0; k < expected; ++k) {
      if (got[k] != c.message[c.received + k]) ++c.report.mismatched_bytes;
    }
    c.report.unexpected_bytes += got.size() - expected;
    c.received += expected;
    if (c.phase == Connection::Phase::Exchanging && c.received == c.message.size()) {
      ++c.report.messages;
      next_message(i);
    }
  }

  void fail(std::size_t i, const char* what, int error) {
    auto& c = connections_[i];
    if (c.report.error.empty()) c.report.error = std::string(what) + ": " + std::strerror(error);
    end(i);
  }

  void end(std::size_t i) {
    auto& c = connections_[i];
    if (c.phase == Connection::Phase::Ended) return;
    c.phase = Connection::Phase::Ended;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    ++ended_;
  }

  const EchoClientOptions& options_;
  std::vector<char> scratch_;
  int epoll_ = -1;
  std::vector<Connection> connections_;
  std::size_t ended_ = 0;
  bool stopping_ = false;
  bool drained_idle_ = false;
  EchoClientReport report_;
};

template <class T>
T field(const nlohmann::json& object, const char* name, const std::string& where) {
  auto it = object.find(name);
  if (it == object.end()) throw std::runtime_error(where + ": field '" + name + "' is missing");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(where + ": field '" + name + "': " + e.what());
  }
}

}  // namespace

EchoClientReport run_echo_client(const EchoClientOptions& options) { return EchoClient(options).run(); }

nlohmann::json to_json(const EchoClientReport& report) {
  nlohmann::json connections = nlohmann::json::array();
  for (const auto& c : report.connections) {
    connections.push_back({{"local_port", c.local_port},
                           {"messages", c.messages},
                           {"sent_bytes", c.sent_bytes},
                           {"echoed_bytes", c.echoed_bytes},
                           {"sent_digest", c.sent_digest},
                           {"echoed_digest", c.echoed_digest},
                           {"mismatched_bytes", c.mismatched_bytes},
                           {"unexpected_bytes", c.unexpected_bytes},
                           {"finished", c.finished},
                           {"error", c.error}});
  }
  return {{"connect_failures", report.connect_failures},
          {"first_connect_error", report.first_connect_error},
          {"connect_seconds", report.connect_seconds},
          {"load_seconds", report.load_seconds},
          {"connections", connections}};
}

EchoClientReport echo_client_report_from_json(const nlohmann::json& json) {
  if (!json.is_object()) throw std::runtime_error("client report: not a JSON object");
  EchoClientReport report;
  report.connect_failures = field<std::size_t>(json, "connect_failures", "client report");
  report.first_connect_error = field<std::string>(json, "first_connect_error", "client report");
  report.connect_seconds = field<double>(json, "connect_seconds", "client report");
  report.load_seconds = field<double>(json, "load_seconds", "client report");
  const auto connections = field<nlohmann::json>(json, "connections", "client report");
  if (!connections.is_array()) throw std::runtime_error("client report: field 'connections' is not an array");
  for (std::size_t i = 0; i < connections.size(); ++i) {
    const auto& c = connections[i];
    const std::string where = "client report: connections[" + std::to_string(i) + "]";
    if (!c.is_object()) throw std::runtime_error(where + ": not an object");
    EchoConnectionReport r;
    r.local_port = field<std::uint16_t>(c, "local_port", where);
    r.messages = field<std::uint64_t>(c, "messages", where);
    r.sent_bytes = field<std::uint64_t>(c, "sent_bytes", where);
    r.echoed_bytes = field<std::uint64_t>(c, "echoed_bytes", where);
    r.sent_digest = field<std::uint64_t>(c, "sent_digest", where);
    r.echoed_digest = field<std::uint64_t>(c, "echoed_digest", where);
    r.mismatched_bytes = field<std::uint64_t>(c, "mismatched_bytes", where);
    r.unexpected_bytes = field<std::uint64_t>(c, "unexpected_bytes", where);
    r.finished = field<bool>(c, "finished", where);
    r.error = field<std::string>(c, "error", where);
    report.connections.push_back(std::move(r));
  }
  return report;
}

}  // namespace loopspec::reliability
