#include "loopspec/remote/remote_backend.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <stdexcept>

#include "loopspec/shipped_data.hpp"

extern char** environ;

namespace loopspec::remote {

namespace {

std::chrono::duration<double> reply_timeout_from_environment() {
  const char* text = std::getenv("LOOPSPEC_DRIVER_TIMEOUT");
  if (text == nullptr || *text == '\0') return std::chrono::duration<double>(10.0);
  char* end = nullptr;
  double seconds = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(seconds > 0) || seconds > 3600) {
    throw std::invalid_argument(std::string("LOOPSPEC_DRIVER_TIMEOUT must be a number of seconds in (0, 3600], got '") +
                                text + "'");
  }
  return std::chrono::duration<double>(seconds);
}

std::string environment_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

const std::set<std::string>& remote_capabilities() {
  static const std::set<std::string> kinds{capability::kTcp,   capability::kUnix,       capability::kBuffered,
                                           capability::kUdp,   capability::kPipes,      capability::kSubprocess,
                                           capability::kTls};
  return kinds;
}

RemoteBackend::RemoteBackend(RemoteOptions options) : options_(std::move(options)) {
  DriverCommand probe = options_.command;
  probe.capture_stderr = true;  // so a driver that cannot start says why in the error
  try {
    DriverConnection driver(probe, ConnectionOptions{options_.name, options_.reply_timeout});
    const Hello& hello = driver.hello();
    info_.name = options_.name;
    info_.implementation = hello.implementation;
    info_.version = hello.version;
    info_.timeout_scale = kTimeoutScale;
    for (const auto& c : hello.capabilities) {
      if (remote_capabilities().count(c) != 0) info_.capabilities.insert(c);
    }
  } catch (const DriverFailure& e) {
    throw std::invalid_argument("backend " + options_.name + ": " + e.what());
  }
}

std::unique_ptr<RemoteLoop> RemoteBackend::make_remote_loop() {
  return std::make_unique<RemoteLoop>(options_.command, ConnectionOptions{options_.name, options_.reply_timeout},
                                      options_.exit_on_ignored_failure);
}

bool python_enabled() {
#ifdef LOOPSPEC_WITH_PYTHON
  return true;
#else
  return false;
#endif
}

DriverCommand python_driver_command(const std::string& loop_spec) {
  static const std::regex kDotted("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
  auto colon = loop_spec.find(':');
  bool valid = loop_spec == "asyncio" || loop_spec == "uvloop" ||
               (colon != std::string::npos && std::regex_match(loop_spec.substr(0, colon), kDotted) &&
                std::regex_match(loop_spec.substr(colon + 1), kDotted));
  if (!valid) {
    throw std::invalid_argument("backend 'python:" + loop_spec +
                                "': expected python:asyncio, python:uvloop or python:MODULE:CALLABLE "
                                "(dotted Python names)");
  }
  DriverCommand command;
  command.argv = {environment_or("LOOPSPEC_PYTHON", LOOPSPEC_PYTHON),
                  environment_or("LOOPSPEC_PYTHON_DRIVER", shipped_data().python_driver), "--loop", loop_spec};
  std::string path = environment_or("LOOPSPEC_PYTHON_PATH", "");
  for (std::size_t start = 0; start < path.size();) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) {
      command.argv.push_back("--python-path");
      command.argv.push_back(path.substr(start, end - start));
    }
    start = end + 1;
  }
  return command;
}

std::unique_ptr<Backend> make_python_backend(const std::string& name, const BackendOptions& options) {
  if (!options.fault.empty()) {
    throw std::invalid_argument("backend " + name + " has no faults (asked for '" + options.fault + "')");
  }
  RemoteOptions remote;
  remote.name = name;
  remote.command = python_driver_command(name.substr(std::string_view("python:").size()));
  remote.reply_timeout = reply_timeout_from_environment();
  return std::make_unique<RemoteBackend>(std::move(remote));
}

std::vector<std::string> available_python_backends() {
  // Asked once per process: starting an interpreter per module costs tens of milliseconds.
  static const std::vector<std::string> available = [] {
    std::vector<std::string> names;
    for (const char* module : {"asyncio", "uvloop"}) {
      std::string interpreter = environment_or("LOOPSPEC_PYTHON", LOOPSPEC_PYTHON);
      std::string statement = std::string("import ") + module;
      // Quiet: a missing module is an answer, not an error to show.
      posix_spawn_file_actions_t files;
      posix_spawn_file_actions_init(&files);
      posix_spawn_file_actions_addopen(&files, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
      char* argv[] = {interpreter.data(), const_cast<char*>("-c"), statement.data(), nullptr};
      pid_t pid = -1;
      if (::posix_spawn(&pid, interpreter.c_str(), &files, nullptr, argv, environ) != 0) pid = -1;
      posix_spawn_file_actions_destroy(&files);
      int status = 0;
      if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        names.push_back(std::string("python:") + module);
      }
    }
    return names;
  }();
  return available;
}

}  // namespace loopspec::remote

namespace loopspec {

void register_remote_backends(BackendRegistry& registry) {
  if (!remote::python_enabled()) return;
  registry.add_prefix("python:", remote::make_python_backend, remote::available_python_backends);
}

}  // namespace loopspec
