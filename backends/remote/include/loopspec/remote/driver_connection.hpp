// The lock-step conversation with one driver (spec/driver-protocol.md).
//
// The harness sends a command and reads until its reply; every event the
// driver sends meanwhile (a protocol callback, a factory call, a completion,
// a scheduled callback) is handed to DriverEvents at once, and its result
// goes back as the event's "return" (or "raise" when the harness callback
// threw), before the wait for the reply goes on. Commands issued by an event
// handler nest the same way, so callbacks re-enter exactly as in process.
//
// Promises:
// - The first message must be the driver's hello (protocol version 1).
// - Any protocol violation, a driver that exits, or silence past the reply
//   timeout throws DriverFailure with the driver's name, pid, how it ended
//   and (when captured) the tail of its stderr; the driver is killed and
//   every later call throws the same failure. post() never throws.
// - While the loop runs ("run"), the driver may be silent until the earliest
//   callback the harness scheduled is due, plus the reply timeout; with none
//   scheduled it may be silent indefinitely (the caller's own timeout guards).
// - Transport states attached to messages are cached per connection;
//   state() answers the recorder's queries without a round trip.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "loopspec/remote/channel.hpp"
#include "loopspec/remote/driver_process.hpp"
#include "loopspec/remote/wire.hpp"

namespace loopspec::remote {

struct Hello {
  int protocol = 0;
  std::string implementation;
  std::string version;
  std::set<std::string> capabilities;
  std::int64_t pid = 0;
};

// A transport's state as the driver last reported it; an absent field is a
// query that raised in the driver (ask it directly to get the error).
struct RemoteState {
  std::optional<std::int64_t> write_buffer_size;
  std::optional<std::int64_t> low;
  std::optional<std::int64_t> high;
  std::optional<bool> closing;
  std::optional<bool> reading;
};

class DriverEvents {
 public:
  virtual ~DriverEvents() = default;
  // Runs the harness's side of one event; the result is its "return" value.
  // A ContractError (or any exception but DriverFailure) becomes "raise".
  virtual nlohmann::json on_event(const std::string& name, const MessageView& event) = 0;
  // When the earliest callback the harness scheduled with a delay is due.
  virtual std::optional<Clock::time_point> next_due() = 0;
};

struct ConnectionOptions {
  std::string name;  // the backend's name, in messages
  std::chrono::duration<double> reply_timeout{10.0};
  // How long the driver may take to send its hello (at least reply_timeout):
  // an interpreter that imports its loop on a loaded machine starts far more
  // slowly than it answers, so a short reply timeout must not fail the start.
  std::chrono::duration<double> start_timeout{30.0};
};

class DriverConnection {
 public:
  // Spawns the driver and reads its hello.
  DriverConnection(const DriverCommand& command, ConnectionOptions options);
  ~DriverConnection();
  DriverConnection(const DriverConnection&) = delete;
  DriverConnection& operator=(const DriverConnection&) = delete;

  const Hello& hello() const { return hello_; }
  pid_t pid() const { return process_.pid(); }
  void set_events(DriverEvents* events) { events_ = events; }

  // A command; returns its "ok" value, throws ContractError for an "error" reply.
  nlohmann::json request(std::string_view command, nlohmann::json arguments = nlohmann::json::object(),
                         std::span<const int> fds = {});
  // The "run" command: returns when the driver's loop stopped.
  void run();
  // A blob field for the next request (chunks go out now).
  nlohmann::json blob(std::string_view data);
  // A message that needs no reply, from any thread; dropped once the driver failed or closed.
  void post(const nlohmann::json& message) noexcept;

  const RemoteState* state(std::uint64_t conn) const;
  bool failed() const { return failed_.load(); }
  const std::string& failure() const { return failure_; }

  // Ends the driver: "exit", then waits for it to go (kills it after the reply timeout). Never throws.
  void close() noexcept;

 private:
  nlohmann::json exchange(std::string_view command, nlohmann::json message, std::span<const int> fds, bool loop_runs);
  nlohmann::json await_reply(std::string_view command, bool loop_runs);
  void dispatch(Channel::Received& received);
  void absorb_states(const MessageView& message);
  void read_hello();
  Clock::time_point reply_deadline() const;
  // ending: the driver is on its way out (end of stream), so wait for its exit status.
  [[noreturn]] void fail(const std::string& what, bool ending = false);

  ConnectionOptions options_;
  DriverProcess process_;
  Channel channel_;
  Hello hello_;
  DriverEvents* events_ = nullptr;
  std::unordered_map<std::uint64_t, RemoteState> states_;
  std::atomic<bool> failed_{false};
  std::atomic<bool> closed_{false};
  std::string failure_;
  int depth_ = 0;  // nested requests, for messages
};

}  // namespace loopspec::remote
