// Shared by the remote backend's tests: temporary files, driver commands for
// the real Python driver and for fake drivers, and an event-driven wait.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "loopspec/remote/remote_backend.hpp"

namespace loopspec::remote::testing {

// A directory removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "loopspec-remote-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::filesystem::path file = path_ / name;
    std::ofstream(file) << text;
    return file;
  }

 private:
  std::filesystem::path path_;
};

inline std::string python() { return LOOPSPEC_PYTHON; }
inline std::string python_driver() { return LOOPSPEC_PYTHON_DRIVER; }

inline DriverCommand python_command(const std::string& loop, std::vector<std::string> extra = {}) {
  DriverCommand command;
  command.argv = {python(), python_driver(), "--loop", loop};
  command.argv.insert(command.argv.end(), extra.begin(), extra.end());
  command.capture_stderr = true;
  return command;
}

inline bool python_module_available(const std::string& module) {
  std::string command = python() + " -c 'import " + module + "' 2>/dev/null";
  return std::system(command.c_str()) == 0;
}

inline std::unique_ptr<RemoteLoop> start_loop(const DriverCommand& command, double reply_timeout = 10.0,
                                              double start_timeout = 30.0) {
  return std::make_unique<RemoteLoop>(command,
                                      ConnectionOptions{"test-driver", std::chrono::duration<double>(reply_timeout),
                                                        std::chrono::duration<double>(start_timeout)},
                                      /*exit_on_ignored_failure=*/false);
}

// Runs the loop until done() holds, re-checked after every callback the test
// hands the loop through `poke` (the test arranges that); a 10 s timer only
// guards against a hang. Returns whether done() held.
inline bool run_until(EventLoop& loop, const std::function<bool()>& done) {
  if (done()) return true;
  bool timed_out = false;
  auto guard = loop.call_later(Duration(10.0), [&] {
    timed_out = true;
    loop.stop();
  });
  while (!done() && !timed_out) loop.run_forever();
  guard->cancel();
  return done();
}

}  // namespace loopspec::remote::testing
