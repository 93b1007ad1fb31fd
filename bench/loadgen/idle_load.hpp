// Many idle connections, then one burst over all of them.
//
// Opens `connections` connections, waits until the server holds a
// descriptor for each (so it accepted them and built whatever it keeps per
// connection), lets them sit idle for `idle_s`, and reads the server's RSS:
// (RSS with them - RSS before) / connections is the user-space memory the
// server spends per idle connection; the kernel's socket buffers are not in
// RSS. Then every connection sends one `size`-byte message at once and
// waits for its echo: the burst's wall time and the server's CPU for it.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "server_target.hpp"

namespace bench {

struct IdleLoad {
  ServerTarget server;
  int connections = 10000;
  std::size_t size = 1024;
  double idle_s = 1.0;
};

// {"connections", "rss_before", "rss_idle", "rss_after_burst", "bytes_per_idle_connection",
//  "connect_s", "burst": {"seconds", "server_cpu_us_per_request", "window"}}
nlohmann::json run_idle(const IdleLoad& load);

}  // namespace bench
