#include "stream_load.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>
#include <vector>

#include "client_socket.hpp"
#include "window.hpp"

namespace bench {

nlohmann::json run_stream(const StreamLoad& load) {
  using Clock = std::chrono::steady_clock;
  const int fd = connect_to(load.server.port, /*non_blocking=*/false);
  std::vector<char> chunk(256 * 1024, 'x');
  Window window(load.server.pid);
  const auto begin = Clock::now();
  const auto window_start = begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(load.warmup_s));
  const auto window_end = window_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(load.duration_s));
  bool measuring = false;
  std::uint64_t bytes = 0;
  for (;;) {
    const ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      throw std::system_error(errno, std::generic_category(), "write");
    }
    bytes += static_cast<std::uint64_t>(n);
    const auto now = Clock::now();
    if (!measuring && now >= window_start) {
      window.start();
      measuring = true;
      bytes = 0;
    } else if (measuring && now >= window_end) {
      break;
    }
  }
  window.stop();
  ::close(fd);
  const double gb = static_cast<double>(bytes) / 1e9;
  return {{"bytes", bytes},
          {"gb_per_s", gb / window.seconds()},
          {"server_cpu_s_per_gb", window.server_cpu_s() / gb},
          {"window", window.to_json()}};
}

}  // namespace bench
