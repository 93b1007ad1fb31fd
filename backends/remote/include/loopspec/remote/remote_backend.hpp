// Remote backends: event loops that run in a driver process and speak the
// driver protocol (spec/driver-protocol.md), and the python:* family built
// on them (backends/python/loopspec_driver.py).
//
// Promises:
// - Creating a RemoteBackend starts the driver once to read its hello (the
//   implementation, version and capabilities of its loop), then ends it;
//   make_loop() starts a fresh driver per loop. A driver that cannot start
//   makes creation throw std::invalid_argument with the driver's own words.
// - Capabilities are the driver's, limited to remote_capabilities(): the
//   kinds the suite has scenarios for and the remote side was checked with.
// - info().timeout_scale is kTimeoutScale, by which the runner stretches its
//   wait and scenario timeouts: each callback is a round trip to the driver
//   (median about 30 us, and up to tens of milliseconds on a loaded machine),
//   so a wait that takes 30 000 callbacks (100 KiB through 7-byte buffers)
//   must still end by its condition, not by the timeout.
// - register_remote_backends adds the "python:" family when this build has
//   Python (LOOPSPEC_WITH_PYTHON): python:asyncio, python:uvloop and
//   python:MODULE:CALLABLE (a callable returning an event loop). names()
//   lists python:asyncio and python:uvloop where they import.
// - The driver's interpreter is $LOOPSPEC_PYTHON (default /usr/bin/python3),
//   the driver script $LOOPSPEC_PYTHON_DRIVER (default: the shipped one,
//   loopspec/shipped_data.hpp), extra import directories $LOOPSPEC_PYTHON_PATH
//   (colon-separated, passed as --python-path); PYTHONPATH is inherited.
//   $LOOPSPEC_DRIVER_TIMEOUT (seconds, default 10) bounds each reply.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "loopspec/backend.hpp"
#include "loopspec/remote/remote_loop.hpp"

namespace loopspec::remote {

inline constexpr double kTimeoutScale = 5.0;

struct RemoteOptions {
  std::string name;       // the registry name: "python:asyncio"
  DriverCommand command;  // how to start a driver
  std::chrono::duration<double> reply_timeout{10.0};
  // See remote_loop.hpp; tests that catch DriverFailure on purpose turn it off.
  bool exit_on_ignored_failure = true;
};

class RemoteBackend final : public Backend {
 public:
  explicit RemoteBackend(RemoteOptions options);
  const BackendInfo& info() const override { return info_; }
  std::unique_ptr<EventLoop> make_loop() override { return make_remote_loop(); }
  std::unique_ptr<RemoteLoop> make_remote_loop();

 private:
  RemoteOptions options_;
  BackendInfo info_;
};

// The capabilities a remote backend can carry, whatever its driver offers:
// streams (tcp, unix, buffered, and tls as the ssl fields of the stream
// commands), udp, pipes and subprocess.
const std::set<std::string>& remote_capabilities();

// python:* : the driver command for a loop spec ("asyncio", "uvloop", "MODULE:CALLABLE").
// Throws std::invalid_argument for a spec of another shape.
DriverCommand python_driver_command(const std::string& loop_spec);
std::unique_ptr<Backend> make_python_backend(const std::string& name, const BackendOptions& options);
// python:asyncio and python:uvloop, each where its module imports.
std::vector<std::string> available_python_backends();
bool python_enabled();

}  // namespace loopspec::remote

namespace loopspec {

void register_remote_backends(BackendRegistry& registry);

}  // namespace loopspec
