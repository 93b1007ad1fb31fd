// One-way streaming: one connection writes 256 KiB chunks as fast as the
// server takes them (the server runs in sink mode and reads and drops). The
// figure is the bytes written inside the window; what still sits in the
// socket buffers when it closes (a few MiB) is under 0.1% of a window's
// gigabytes.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "server_target.hpp"

namespace bench {

struct StreamLoad {
  ServerTarget server;
  double warmup_s = 0.3;
  double duration_s = 2.0;
};

// {"bytes", "gb_per_s", "server_cpu_s_per_gb", "window": ...}
nlohmann::json run_stream(const StreamLoad& load);

}  // namespace bench
