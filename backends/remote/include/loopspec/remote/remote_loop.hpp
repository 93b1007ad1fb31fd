// RemoteLoop: loopspec's EventLoop played by an event loop in a driver
// process (spec/driver-protocol.md). Each RemoteLoop owns one driver.
//
// Promises:
// - Every method is one lock-step command; the driver runs its loop only
//   inside run_forever(), and every callback it makes into the harness's
//   protocols, factories, completions and scheduled callbacks runs on the
//   calling thread, inside run_forever() or inside the command that caused
//   it (write() -> pause_writing), exactly as in process.
// - Transports, servers and protocols keep their identity: one C++ object per
//   driver object, so get_protocol() returns the very protocol given.
// - call_soon_threadsafe may be called from any thread; it wakes a running
//   driver loop through the driver's own call_soon_threadsafe.
// - A failed driver (protocol violation, exit, silence) throws DriverFailure
//   from whatever call meets it, and every later call throws it again. When
//   the failure was swallowed (caught by scenario code that went on) and
//   exit_on_ignored_failure is set, destroying the loop ends the process
//   with status kIgnoredDriverFailureExit after saying why on stderr, so the
//   runner cannot mistake the scenario's later checks for the loop's verdicts.
#pragma once

#include <sys/types.h>

#include <memory>

#include "loopspec/event_loop.hpp"
#include "loopspec/remote/driver_connection.hpp"

namespace loopspec::remote {

inline constexpr int kIgnoredDriverFailureExit = 70;

class RemoteSession;

class RemoteLoop final : public EventLoop {
 public:
  RemoteLoop(const DriverCommand& command, ConnectionOptions options, bool exit_on_ignored_failure);
  ~RemoteLoop() override;

  const Hello& hello() const;
  pid_t driver_pid() const;

  void run_forever() override;
  void stop() override;
  Duration time() override;
  void call_soon(std::function<void()> callback) override;
  void call_soon_threadsafe(std::function<void()> callback) override;
  std::shared_ptr<TimerHandle> call_later(Duration delay, std::function<void()> callback) override;

  void create_connection(StreamProtocolFactory factory, Address address, ConnectOptions options,
                         Completion<Transport> done) override;
  void create_server(StreamProtocolFactory factory, Address address, ServerOptions options,
                     Completion<Server> done) override;
  void connect_accepted_socket(StreamProtocolFactory factory, int fd, ServerOptions options,
                               Completion<Transport> done) override;
  void create_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options,
                                Completion<DatagramTransport> done) override;
  void connect_read_pipe(StreamProtocolFactory factory, int fd, Completion<ReadTransport> done) override;
  void connect_write_pipe(StreamProtocolFactory factory, int fd, Completion<WriteTransport> done) override;
  void subprocess_exec(SubprocessProtocolFactory factory, std::vector<std::string> argv, SubprocessOptions options,
                       Completion<SubprocessTransport> done) override;
  void subprocess_shell(SubprocessProtocolFactory factory, std::string command, SubprocessOptions options,
                        Completion<SubprocessTransport> done) override;

 private:
  std::shared_ptr<RemoteSession> session_;
  bool exit_on_ignored_failure_;
};

}  // namespace loopspec::remote
