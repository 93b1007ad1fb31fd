// A measured window: the server's and the client's CPU and the wall clock,
// snapshotted at its start and at its end, so every figure of a window
// covers exactly the same interval.
#pragma once

#include <sys/types.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "process_stats.hpp"

namespace bench {

class Window {
 public:
  explicit Window(pid_t server) : server_(server) {}
  void start();
  void stop();
  double seconds() const;
  // server_cpu_s (user+system, ticks), server_user_s, server_system_s,
  // server_run_s (schedstat, ns resolution), client_cpu_s, seconds.
  nlohmann::json to_json() const;
  // The server's CPU seconds in the window, at nanosecond resolution when
  // schedstat is available (it is on Linux with CONFIG_SCHEDSTATS).
  double server_cpu_s() const;

 private:
  pid_t server_;
  std::chrono::steady_clock::time_point t0_, t1_;
  CpuTime server0_, server1_;
  double client0_ = 0, client1_ = 0;
};

}  // namespace bench
