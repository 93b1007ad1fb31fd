#include "echo_load.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "client_socket.hpp"
#include "window.hpp"

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
  int fd = -1;
  std::size_t sent = 0;      // of the message in flight
  std::size_t received = 0;  // of its echo
  bool want_out = false;
  Clock::time_point started;
};

class EchoRun {
 public:
  explicit EchoRun(const EchoLoad& load) : load_(load), message_(load.size), scratch_(std::max<std::size_t>(load.size, 1 << 16)) {
    for (std::size_t i = 0; i < message_.size(); ++i) message_[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    connections_.resize(static_cast<std::size_t>(load.connections));
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      connections_[i].fd = connect_to(load.server.port);
      epoll_event ev{EPOLLIN, {.u64 = i}};
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, connections_[i].fd, &ev);
    }
  }
  ~EchoRun() {
    for (auto& c : connections_) ::close(c.fd);
    ::close(epoll_);
  }

  nlohmann::json run() {
    Window window(load_.server.pid);
    const auto begin = Clock::now();
    const bool counted = load_.requests > 0;
    const auto window_start = begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(load_.warmup_s));
    const auto window_end = window_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(load_.duration_s));
    bool measuring = counted;
    if (counted) window.start();
    for (std::size_t i = 0; i < connections_.size(); ++i) start_request(i);

    std::vector<epoll_event> events(connections_.size());
    for (;;) {
      const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 10);
      if (n < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "epoll_wait");
      for (int k = 0; k < n; ++k) {
        const std::size_t i = events[k].data.u64;
        if (events[k].events & EPOLLOUT) send_more(i);
        if (events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive(i, measuring);
      }
      if (counted) {
        if (completed_ >= load_.requests) break;
        continue;
      }
      const auto now = Clock::now();
      if (!measuring && now >= window_start) {
        window.start();
        measuring = true;
        completed_ = 0;
        latencies_us_.clear();
      } else if (measuring && now >= window_end) {
        break;
      }
    }
    window.stop();

    nlohmann::json result;
    const double seconds = window.seconds();
    result["requests"] = completed_;
    result["requests_per_s"] = static_cast<double>(completed_) / seconds;
    result["mb_per_s"] = static_cast<double>(completed_) * static_cast<double>(load_.size) / seconds / 1e6;
    result["server_cpu_us_per_request"] = completed_ ? window.server_cpu_s() * 1e6 / static_cast<double>(completed_) : 0.0;
    std::sort(latencies_us_.begin(), latencies_us_.end());
    auto percentile = [&](double p) {
      return latencies_us_.empty() ? 0.0 : latencies_us_[static_cast<std::size_t>(p * static_cast<double>(latencies_us_.size() - 1))];
    };
    result["latency_us"] = {{"p50", percentile(0.5)}, {"p99", percentile(0.99)}};
    result["window"] = window.to_json();
    return result;
  }

 private:
  void start_request(std::size_t i) {
    auto& c = connections_[i];
    c.sent = 0;
    c.received = 0;
    c.started = Clock::now();
    send_more(i);
  }

  void send_more(std::size_t i) {
    auto& c = connections_[i];
    while (c.sent < message_.size()) {
      const ssize_t n = ::write(c.fd, message_.data() + c.sent, message_.size() - c.sent);
      if (n < 0) {
        if (errno == EAGAIN) break;
        throw std::system_error(errno, std::generic_category(), "write");
      }
      c.sent += static_cast<std::size_t>(n);
    }
    set_want_out(i, c.sent < message_.size());
  }

  void set_want_out(std::size_t i, bool on) {
    auto& c = connections_[i];
    if (c.want_out == on) return;
    c.want_out = on;
    const std::uint32_t mask = on ? EPOLLIN | EPOLLOUT : EPOLLIN;
    epoll_event ev{mask, {.u64 = i}};
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void receive(std::size_t i, bool measuring) {
    auto& c = connections_[i];
    const ssize_t n = ::read(c.fd, scratch_.data(), std::min(scratch_.size(), message_.size() - c.received));
    if (n == 0) throw std::runtime_error("the server closed a connection");
    if (n < 0) {
      if (errno == EAGAIN) return;
      throw std::system_error(errno, std::generic_category(), "read");
    }
    if (load_.verify && std::memcmp(scratch_.data(), message_.data() + c.received, static_cast<std::size_t>(n)) != 0)
      throw std::runtime_error("echoed bytes differ from those sent, at offset " + std::to_string(c.received));
    c.received += static_cast<std::size_t>(n);
    if (c.received < message_.size()) return;
    ++completed_;
    if (measuring) latencies_us_.push_back(std::chrono::duration<double, std::micro>(Clock::now() - c.started).count());
    start_request(i);
  }

  const EchoLoad& load_;
  std::vector<char> message_;
  std::vector<char> scratch_;
  int epoll_ = -1;
  std::vector<Connection> connections_;
  std::uint64_t completed_ = 0;
  std::vector<double> latencies_us_;
};

}  // namespace

nlohmann::json run_echo(const EchoLoad& load) { return EchoRun(load).run(); }

}  // namespace bench
