// The SubprocessProtocol callback order as two state machines, and the
// per-connection monitor that feeds them.
//
// The process machine follows connection_made, process_exited and
// connection_lost; a pipe machine per child fd (0, 1, 2) follows that pipe's
// pipe_data_received and pipe_connection_lost. connection_lost comes last:
// after process_exited and after pipe_connection_lost of every pipe known to
// exist (one that delivered data, or that get_pipe_transport returned).
// Inputs are the callbacks at entry, and get_pipe_transport calls that
// returned a transport; pause_writing, resume_writing and any other callback
// are "Other".
// Promises: both transition functions are total: every (state, input) pair
// has a next state, and names the violated rule when the pair is not
// allowed. The monitor keeps a few bytes per connection and no event.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "checker_transition_table.hpp"
#include "loopspec/trace.hpp"

namespace loopspec::checking {

enum class ProcessState : std::uint8_t {
  BeforeMade,  // nothing delivered yet
  Running,     // connection_made delivered, process_exited not yet
  Exited,      // process_exited delivered
  Lost,        // connection_lost delivered: nothing more
};
inline constexpr int kProcessStateCount = 4;

enum class ProcessInput : std::uint8_t {
  ConnectionMade,
  PipeData,
  PipeLost,
  ProcessExited,
  ConnectionLost,
  Other,
};
inline constexpr int kProcessInputCount = 6;

enum class PipeState : std::uint8_t {
  Unknown,  // not known to exist
  Open,     // delivered data or was handed out by get_pipe_transport
  Closed,   // pipe_connection_lost delivered
};
inline constexpr int kPipeStateCount = 3;

enum class PipeInput : std::uint8_t {
  Exists,  // get_pipe_transport(fd) returned a transport
  Data,
  Lost,
};
inline constexpr int kPipeInputCount = 3;

enum class SubprocessRule : std::uint8_t {
  MadeFirst,
  MadeOnce,
  LostOnce,
  LostLast,
  ConnectionLostLast,
  ExitedOnce,
  PipeLostOnce,
  DataFd,
  DataNonEmpty,
  None,  // no rule: an allowed transition
};
inline constexpr std::size_t kSubprocessRuleCount = static_cast<std::size_t>(SubprocessRule::None);

using SubprocessRuleInfo = MonitorRuleInfo<SubprocessRule>;

// Every rule the subprocess monitor can report (all hold for both revisions).
const std::array<SubprocessRuleInfo, kSubprocessRuleCount>& subprocess_rules();
const SubprocessRuleInfo& info(SubprocessRule rule);

using ProcessTransition = MachineTransition<ProcessState, SubprocessRule>;
using PipeTransition = MachineTransition<PipeState, SubprocessRule>;

ProcessTransition process_transition(ProcessState state, ProcessInput input);
PipeTransition pipe_transition(PipeState state, PipeInput input);
std::string_view describe(ProcessState state);

using SubprocessFinding = MonitorFinding<SubprocessRule>;

// One subprocess connection: feed it every Callback and Call event of the
// connection, in order. An event may break more than one rule: on_event
// returns the first, the rest is dropped (each rule has its own cases).
class SubprocessMonitor {
 public:
  std::optional<SubprocessFinding> on_event(const Event& event);
  bool live() const { return process_ != ProcessState::BeforeMade && process_ != ProcessState::Lost; }

  // Reports made so far per rule (the checker bounds them).
  std::array<std::uint8_t, kSubprocessRuleCount> reported{};

 private:
  std::optional<SubprocessFinding> on_pipe(const Event& event, PipeInput input);
  std::optional<SubprocessFinding> on_process(const Event& event, ProcessInput input);

  ProcessState process_ = ProcessState::BeforeMade;
  std::array<PipeState, 3> pipes_{};
};

}  // namespace loopspec::checking
