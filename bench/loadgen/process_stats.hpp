// What the kernel accounts to another process: its CPU time and its memory.
//
// Promises: cpu() is the process's own accounting, read from /proc: user and
// system time from /proc/PID/stat (clock ticks, so 10 ms resolution) and the
// scheduler's run time in nanoseconds summed over every thread
// (/proc/PID/task/*/schedstat), which is the same quantity without the tick
// rounding. rss_bytes() is VmRSS; open_fds() counts /proc/PID/fd. Each throws
// std::runtime_error when the process is gone.
#pragma once

#include <cstdint>
#include <sys/types.h>

namespace bench {

struct CpuTime {
  double user_s = 0;     // utime
  double system_s = 0;   // stime
  std::uint64_t run_ns = 0;  // schedstat, all threads
};

CpuTime cpu(pid_t pid);
std::uint64_t rss_bytes(pid_t pid);
std::size_t open_fds(pid_t pid);

}  // namespace bench
