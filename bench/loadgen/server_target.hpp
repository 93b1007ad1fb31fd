// The server a load is aimed at: where it listens (127.0.0.1:port) and its
// process, whose own CPU and memory accounting each load reads.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace bench {

struct ServerTarget {
  std::uint16_t port = 0;
  pid_t pid = 0;
};

}  // namespace bench
