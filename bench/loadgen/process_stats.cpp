#include "process_stats.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace bench {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

CpuTime cpu(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const std::string stat = slurp(proc + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  CpuTime t;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (int index = 3; fields >> field; ++index) {  // index: the field's number in proc(5)
    if (index == 14) t.user_s = std::stod(field) / tick;
    if (index == 15) {
      t.system_s = std::stod(field) / tick;
      break;
    }
  }
  for (const auto& task : std::filesystem::directory_iterator(proc + "/task")) {
    std::ifstream in(task.path() / "schedstat");
    std::uint64_t ns = 0;
    if (in >> ns) t.run_ns += ns;
  }
  return t;
}

std::uint64_t rss_bytes(pid_t pid) {
  std::istringstream status(slurp("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmRSS:  1234 kB"
  throw std::runtime_error("no VmRSS");
}

std::size_t open_fds(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

}  // namespace bench
