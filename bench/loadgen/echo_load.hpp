// The closed-loop echo load (vmbench's shape): `connections` connections,
// each with one message of `size` bytes in flight; a request completes when
// all its bytes came back, and the connection sends the next one at once.
//
// The window opens after `warmup_s` and lasts `duration_s`; only requests
// completed inside it are counted. With `requests` > 0 the load instead
// stops after that many requests in all (a fixed amount of work, for
// instruction counts under callgrind) and the window covers all of them.
// With `verify`, every byte that comes back is compared with what was sent
// and a mismatch throws std::runtime_error.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "server_target.hpp"

namespace bench {

struct EchoLoad {
  ServerTarget server;
  std::size_t size = 1024;
  int connections = 10;
  double warmup_s = 0.5;
  double duration_s = 2.0;
  std::uint64_t requests = 0;
  bool verify = false;
};

// {"requests", "requests_per_s", "mb_per_s", "server_cpu_us_per_request",
//  "latency_us": {"p50", "p99"}, "window": Window::to_json()}
nlohmann::json run_echo(const EchoLoad& load);

}  // namespace bench
