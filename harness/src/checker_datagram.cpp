#include "checker_datagram.hpp"

#include <cerrno>

#include <fmt/format.h>

#include "checker_transition_table.hpp"

namespace loopspec::checking {

namespace {

using S = DatagramState;
using I = DatagramInput;
using R = DatagramRule;

using Entry = TransitionEntry<S, I, R>;

// The datagram protocol order, one line per (state, input). After a
// violation the machine moves where later findings stay meaningful, as the
// stream machine does (checker_machines.cpp).
constexpr Entry kDatagramOrder[] = {
    // state        input                  next          violated rule
    {S::BeforeMade, I::ConnectionMade,     S::Open},
    {S::BeforeMade, I::DatagramReceived,   S::BeforeMade, R::MadeFirst},
    {S::BeforeMade, I::ErrorReceived,      S::BeforeMade, R::MadeFirst},
    {S::BeforeMade, I::ConnectionLost,     S::Lost,       R::MadeFirst},
    {S::BeforeMade, I::LostWithOsError,    S::Lost,       R::MadeFirst},
    {S::BeforeMade, I::CloseReturned,      S::BeforeMade},
    {S::BeforeMade, I::AbortReturned,      S::BeforeMade},
    {S::BeforeMade, I::Other,              S::BeforeMade, R::MadeFirst},

    {S::Open,       I::ConnectionMade,     S::Open,       R::MadeOnce},
    {S::Open,       I::DatagramReceived,   S::Open},
    {S::Open,       I::ErrorReceived,      S::Open},
    {S::Open,       I::ConnectionLost,     S::Lost},
    {S::Open,       I::LostWithOsError,    S::Lost,       R::ErrorKeepsOpen},
    {S::Open,       I::CloseReturned,      S::Closing},
    {S::Open,       I::AbortReturned,      S::Aborted},
    {S::Open,       I::Other,              S::Open},

    // Queued datagrams are still sent: their errors may still be reported.
    {S::Closing,    I::ConnectionMade,     S::Closing,    R::MadeOnce},
    {S::Closing,    I::DatagramReceived,   S::Closing,    R::NoDataAfterClose},
    {S::Closing,    I::ErrorReceived,      S::Closing},
    {S::Closing,    I::ConnectionLost,     S::Lost},
    {S::Closing,    I::LostWithOsError,    S::Lost,       R::ErrorKeepsOpen},
    {S::Closing,    I::CloseReturned,      S::Closing},
    {S::Closing,    I::AbortReturned,      S::Aborted},
    {S::Closing,    I::Other,              S::Closing},

    {S::Aborted,    I::ConnectionMade,     S::Aborted,    R::MadeOnce},
    {S::Aborted,    I::DatagramReceived,   S::Aborted,    R::NoDataAfterAbort},
    {S::Aborted,    I::ErrorReceived,      S::Aborted},
    {S::Aborted,    I::ConnectionLost,     S::Lost},
    {S::Aborted,    I::LostWithOsError,    S::Lost,       R::AbortThenLost},
    {S::Aborted,    I::CloseReturned,      S::Aborted},
    {S::Aborted,    I::AbortReturned,      S::Aborted},
    {S::Aborted,    I::Other,              S::Aborted},

    // Calls after connection_lost are the application's business.
    {S::Lost,       I::ConnectionMade,     S::Lost,       R::MadeOnce},
    {S::Lost,       I::DatagramReceived,   S::Lost,       R::LostLast},
    {S::Lost,       I::ErrorReceived,      S::Lost,       R::LostLast},
    {S::Lost,       I::ConnectionLost,     S::Lost,       R::LostOnce},
    {S::Lost,       I::LostWithOsError,    S::Lost,       R::LostOnce},
    {S::Lost,       I::CloseReturned,      S::Lost},
    {S::Lost,       I::AbortReturned,      S::Lost},
    {S::Lost,       I::Other,              S::Lost,       R::LostLast},
};

constexpr auto kTable = index_transitions<DatagramTransition, kDatagramStateCount, kDatagramInputCount>(kDatagramOrder);
static_assert(kTable.each_pair_once, "kDatagramOrder must list every (state, input) pair exactly once");

constexpr std::array<DatagramRuleInfo, kDatagramRuleCount> kRules{{
    {R::MadeFirst, "proto.order.made-first", "connection_made as the first callback"},
    {R::MadeOnce, "proto.order.made-once", "connection_made at most once"},
    {R::LostOnce, "proto.order.lost-once", "connection_lost at most once"},
    {R::LostLast, "proto.order.lost-last", "no callback after connection_lost"},
    {R::NoDataAfterClose, "transport.close.no-more-data", "no datagram_received after close()"},
    {R::NoDataAfterAbort, "datagram.abort.no-more-data", "no datagram_received after abort()"},
    {R::ErrorKeepsOpen, "datagram.error.reported", "an OSError goes to error_received and the endpoint stays open"},
    {R::EnobufsIgnored, "datagram.enobufs.reported-and-ignored",
     "ENOBUFS goes to error_received and is otherwise ignored"},
    {R::AbortThenLost, "datagram.abort.connection-lost", "connection_lost(None) after abort()"},
}};

constexpr bool rules_in_enum_order() {
  for (std::size_t i = 0; i < kDatagramRuleCount; ++i) {
    if (static_cast<std::size_t>(kRules[i].rule) != i) return false;
  }
  return true;
}
static_assert(rules_in_enum_order(), "kRules must list the rules in enum order");

DatagramInput classify(const Event& e) {
  if (e.kind == EventKind::Call) {
    if (e.error) return I::Other;  // a call that raised changed nothing
    if (e.name == "close") return I::CloseReturned;
    if (e.name == "abort") return I::AbortReturned;
    return I::Other;
  }
  if (e.name == "connection_made") return I::ConnectionMade;
  if (e.name == "datagram_received") return I::DatagramReceived;
  if (e.name == "error_received") return I::ErrorReceived;
  if (e.name == "connection_lost") {
    return e.error && is_os_error(e.error->type) ? I::LostWithOsError : I::ConnectionLost;
  }
  return I::Other;
}

}  // namespace

const std::array<DatagramRuleInfo, kDatagramRuleCount>& datagram_rules() { return kRules; }

const DatagramRuleInfo& info(DatagramRule rule) { return kRules[static_cast<std::size_t>(rule)]; }

DatagramTransition datagram_transition(DatagramState state, DatagramInput input) {
  return kTable.at(state, input);
}

std::string_view describe(DatagramState state) {
  switch (state) {
    case S::BeforeMade: return "before connection_made";
    case S::Open: return "while open";
    case S::Closing: return "after close()";
    case S::Aborted: return "after abort()";
    case S::Lost: return "after connection_lost";
  }
  return "in an unknown state";
}

bool is_os_error(std::string_view type) {
  static constexpr std::string_view kOsErrors[] = {
      "OSError",          "IOError",           "EnvironmentError",  "ConnectionError",   "ConnectionRefusedError",
      "ConnectionResetError", "ConnectionAbortedError", "BrokenPipeError", "TimeoutError", "BlockingIOError",
      "FileNotFoundError", "FileExistsError",  "PermissionError",   "InterruptedError",  "ChildProcessError",
      "ProcessLookupError", "IsADirectoryError", "NotADirectoryError", "gaierror",       "herror",
  };
  for (std::string_view name : kOsErrors) {
    if (name == type) return true;
  }
  return false;
}

std::optional<DatagramFinding> DatagramMonitor::on_event(const Event& e) {
  if (e.kind != EventKind::Callback && e.kind != EventKind::Call) return std::nullopt;
  DatagramInput input = classify(e);
  if (e.kind == EventKind::Call && input == I::Other) return std::nullopt;  // calls are inputs only when they close
  DatagramState before = state_;
  DatagramTransition step = datagram_transition(before, input);
  state_ = step.next;
  if (input == I::AbortReturned && before != S::Aborted && before != S::Lost) abort_seq_ = e.seq;
  if (step.violated == R::None) return std::nullopt;
  DatagramRule rule = step.violated;
  // "Otherwise ignored": an ENOBUFS that ended the endpoint breaks the ENOBUFS rule itself.
  if (rule == R::ErrorKeepsOpen && e.error && e.error->errnum == ENOBUFS) rule = R::EnobufsIgnored;
  std::string observed = fmt::format("{} {}", e.name, describe(before));
  if (e.error) observed += fmt::format(" with {}", e.error->to_string());
  return DatagramFinding{rule, std::string(info(rule).expected), std::move(observed)};
}

std::optional<DatagramFinding> DatagramMonitor::on_end() const {
  if (state_ != S::Aborted) return std::nullopt;
  return DatagramFinding{R::AbortThenLost, "connection_lost after abort()", "the trace ended without connection_lost"};
}

}  // namespace loopspec::checking
