// The DatagramProtocol callback order and the endpoint's closing rules, as a
// state machine, and the per-connection monitor that feeds it.
//
// Inputs are the datagram protocol's callbacks (at entry) and the close() and
// abort() calls that returned; pause_writing, resume_writing and any other
// callback are "Other"; every other call is no input at all. A
// connection_lost carrying an OSError-class exception is an input of its own:
// a datagram endpoint passes OSErrors to error_received and stays open
// (CPython's _SelectorDatagramTransport ends only on other exceptions).
// Promises: datagram_transition is total: every (state, input) pair has a
// next state, and names the violated rule when the pair is not allowed. The
// monitor keeps a few bytes per connection and no event.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "checker_transition_table.hpp"
#include "loopspec/trace.hpp"

namespace loopspec::checking {

enum class DatagramState : std::uint8_t {
  BeforeMade,  // nothing delivered yet
  Open,        // connection_made delivered
  Closing,     // close() returned: no datagram may arrive any more
  Aborted,     // abort() returned: no datagram may arrive, connection_lost(None) must follow
  Lost,        // connection_lost delivered: nothing more
};
inline constexpr int kDatagramStateCount = 5;

enum class DatagramInput : std::uint8_t {
  ConnectionMade,
  DatagramReceived,
  ErrorReceived,
  ConnectionLost,   // with None or an exception that is not an OSError
  LostWithOsError,  // connection_lost(exc), exc an OSError
  CloseReturned,
  AbortReturned,
  Other,  // pause_writing, resume_writing, any other callback
};
inline constexpr int kDatagramInputCount = 8;

enum class DatagramRule : std::uint8_t {
  MadeFirst,
  MadeOnce,
  LostOnce,
  LostLast,
  NoDataAfterClose,
  NoDataAfterAbort,
  ErrorKeepsOpen,
  EnobufsIgnored,
  AbortThenLost,
  None,  // no rule: an allowed transition
};
inline constexpr std::size_t kDatagramRuleCount = static_cast<std::size_t>(DatagramRule::None);

using DatagramRuleInfo = MonitorRuleInfo<DatagramRule>;

// Every rule the datagram monitor can report (all hold for both revisions).
const std::array<DatagramRuleInfo, kDatagramRuleCount>& datagram_rules();
const DatagramRuleInfo& info(DatagramRule rule);

using DatagramTransition = MachineTransition<DatagramState, DatagramRule>;

DatagramTransition datagram_transition(DatagramState state, DatagramInput input);
std::string_view describe(DatagramState state);

// Whether an asyncio exception class name is OSError or one of its subclasses.
bool is_os_error(std::string_view type);

using DatagramFinding = MonitorFinding<DatagramRule>;

// One datagram connection: feed it every Callback and Call event of the
// connection, in order.
class DatagramMonitor {
 public:
  std::optional<DatagramFinding> on_event(const Event& event);
  // At the end of a complete trace: abort() without connection_lost.
  std::optional<DatagramFinding> on_end() const;
  // connection_made delivered and connection_lost not yet.
  bool live() const { return state_ != DatagramState::BeforeMade && state_ != DatagramState::Lost; }
  std::uint64_t abort_seq() const { return abort_seq_; }

  // Reports made so far per rule (the checker bounds them).
  std::array<std::uint8_t, kDatagramRuleCount> reported{};

 private:
  DatagramState state_ = DatagramState::BeforeMade;
  std::uint64_t abort_seq_ = 0;
};

}  // namespace loopspec::checking
