#include "window.hpp"

#include <sys/resource.h>

namespace bench {
namespace {

double own_cpu_s() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

}  // namespace

void Window::start() {
  server0_ = cpu(server_);
  client0_ = own_cpu_s();
  t0_ = std::chrono::steady_clock::now();
}

void Window::stop() {
  t1_ = std::chrono::steady_clock::now();
  server1_ = cpu(server_);
  client1_ = own_cpu_s();
}

double Window::seconds() const { return std::chrono::duration<double>(t1_ - t0_).count(); }

double Window::server_cpu_s() const {
  if (server1_.run_ns > server0_.run_ns) return static_cast<double>(server1_.run_ns - server0_.run_ns) / 1e9;
  return (server1_.user_s - server0_.user_s) + (server1_.system_s - server0_.system_s);
}

nlohmann::json Window::to_json() const {
  return {
      {"seconds", seconds()},
      {"server_user_s", server1_.user_s - server0_.user_s},
      {"server_system_s", server1_.system_s - server0_.system_s},
      {"server_cpu_ticks_s", (server1_.user_s - server0_.user_s) + (server1_.system_s - server0_.system_s)},
      {"server_cpu_s", server_cpu_s()},
      {"client_cpu_s", client1_ - client0_},
  };
}

}  // namespace bench
