#include "idle_load.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "client_socket.hpp"
#include "process_stats.hpp"
#include "window.hpp"

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

void wait_for_server_fds(pid_t server, std::size_t wanted) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (open_fds(server) < wanted) {
    if (Clock::now() > deadline) throw std::runtime_error("the server did not accept every connection within 30 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Sends one message on every connection and waits for every echo.
void burst(const std::vector<int>& fds, std::size_t size) {
  const std::vector<char> message(size, 'b');
  std::vector<char> scratch(size);
  std::vector<std::size_t> sent(fds.size(), 0), received(fds.size(), 0);
  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  for (std::size_t i = 0; i < fds.size(); ++i) {
    epoll_event ev{EPOLLIN | EPOLLOUT, {.u64 = i}};
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, fds[i], &ev);
  }
  std::size_t done = 0;
  std::vector<epoll_event> events(1024);
  while (done < fds.size()) {
    const int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 1000);
    if (n < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "epoll_wait");
    for (int k = 0; k < n; ++k) {
      const std::size_t i = events[k].data.u64;
      if ((events[k].events & EPOLLOUT) && sent[i] < size) {
        const ssize_t w = ::write(fds[i], message.data() + sent[i], size - sent[i]);
        if (w > 0) sent[i] += static_cast<std::size_t>(w);
        if (sent[i] == size) {
          epoll_event ev{EPOLLIN, {.u64 = i}};
          ::epoll_ctl(epoll, EPOLL_CTL_MOD, fds[i], &ev);
        }
      }
      if (events[k].events & EPOLLIN) {
        const ssize_t r = ::read(fds[i], scratch.data(), size - received[i]);
        if (r == 0) throw std::runtime_error("the server closed a connection during the burst");
        if (r > 0 && (received[i] += static_cast<std::size_t>(r)) == size) {
          ++done;
          ::epoll_ctl(epoll, EPOLL_CTL_DEL, fds[i], nullptr);
        }
      }
    }
  }
  ::close(epoll);
}

}  // namespace

nlohmann::json run_idle(const IdleLoad& load) {
  raise_fd_limit();
  const std::size_t fds_before = open_fds(load.server.pid);
  const std::uint64_t rss_before = rss_bytes(load.server.pid);
  std::vector<int> fds;
  fds.reserve(static_cast<std::size_t>(load.connections));
  const auto t0 = Clock::now();
  for (int i = 0; i < load.connections; ++i) fds.push_back(connect_to(load.server.port));
  wait_for_server_fds(load.server.pid, fds_before + fds.size());
  const double connect_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::duration<double>(load.idle_s));
  const std::uint64_t rss_idle = rss_bytes(load.server.pid);

  Window window(load.server.pid);
  window.start();
  burst(fds, load.size);
  window.stop();
  const std::uint64_t rss_after = rss_bytes(load.server.pid);
  for (const int fd : fds) ::close(fd);

  const double n = static_cast<double>(fds.size());
  return {{"connections", fds.size()},
          {"rss_before", rss_before},
          {"rss_idle", rss_idle},
          {"rss_after_burst", rss_after},
          {"bytes_per_idle_connection", (static_cast<double>(rss_idle) - static_cast<double>(rss_before)) / n},
          {"bytes_per_connection_after_burst", (static_cast<double>(rss_after) - static_cast<double>(rss_before)) / n},
          {"connect_s", connect_s},
          {"burst",
           {{"seconds", window.seconds()},
            {"server_cpu_us_per_request", window.server_cpu_s() * 1e6 / n},
            {"window", window.to_json()}}}};
}

}  // namespace bench
