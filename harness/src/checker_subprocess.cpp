#include "checker_subprocess.hpp"

#include <fmt/format.h>

#include "checker_transition_table.hpp"

namespace loopspec::checking {

namespace {

using S = ProcessState;
using I = ProcessInput;
using P = PipeState;
using PI = PipeInput;
using R = SubprocessRule;

using ProcessEntry = TransitionEntry<S, I, R>;

// The process's callbacks, one line per (state, input). The documents do not
// order process_exited against the pipe callbacks (INFO rule
// subprocess.exited.order-vs-pipes): pipe callbacks are fine before and after
// it, but not after connection_lost.
constexpr ProcessEntry kProcessOrder[] = {
    // state        input               next           violated rule
    {S::BeforeMade, I::ConnectionMade,  S::Running},
    {S::BeforeMade, I::PipeData,        S::BeforeMade, R::MadeFirst},
    {S::BeforeMade, I::PipeLost,        S::BeforeMade, R::MadeFirst},
    {S::BeforeMade, I::ProcessExited,   S::BeforeMade, R::MadeFirst},
    {S::BeforeMade, I::ConnectionLost,  S::Lost,       R::MadeFirst},
    {S::BeforeMade, I::Other,           S::BeforeMade, R::MadeFirst},

    {S::Running,    I::ConnectionMade,  S::Running,    R::MadeOnce},
    {S::Running,    I::PipeData,        S::Running},
    {S::Running,    I::PipeLost,        S::Running},
    {S::Running,    I::ProcessExited,   S::Exited},
    {S::Running,    I::ConnectionLost,  S::Lost,       R::ConnectionLostLast},
    {S::Running,    I::Other,           S::Running},

    {S::Exited,     I::ConnectionMade,  S::Exited,     R::MadeOnce},
    {S::Exited,     I::PipeData,        S::Exited},
    {S::Exited,     I::PipeLost,        S::Exited},
    {S::Exited,     I::ProcessExited,   S::Exited,     R::ExitedOnce},
    {S::Exited,     I::ConnectionLost,  S::Lost},
    {S::Exited,     I::Other,           S::Exited},

    {S::Lost,       I::ConnectionMade,  S::Lost,       R::MadeOnce},
    {S::Lost,       I::PipeData,        S::Lost,       R::LostLast},
    {S::Lost,       I::PipeLost,        S::Lost,       R::ConnectionLostLast},
    {S::Lost,       I::ProcessExited,   S::Lost,       R::ConnectionLostLast},
    {S::Lost,       I::ConnectionLost,  S::Lost,       R::LostOnce},
    {S::Lost,       I::Other,           S::Lost,       R::LostLast},
};

using PipeEntry = TransitionEntry<P, PI, R>;

// One pipe of the child (fd 0, 1 or 2).
constexpr PipeEntry kPipeOrder[] = {
    // state      input       next       violated rule
    {P::Unknown, PI::Exists, P::Open},
    {P::Unknown, PI::Data,   P::Open},
    {P::Unknown, PI::Lost,   P::Closed},

    {P::Open,    PI::Exists, P::Open},
    {P::Open,    PI::Data,   P::Open},
    {P::Open,    PI::Lost,   P::Closed},

    {P::Closed,  PI::Exists, P::Closed},
    {P::Closed,  PI::Data,   P::Closed, R::PipeLostOnce},
    {P::Closed,  PI::Lost,   P::Closed, R::PipeLostOnce},
};

constexpr auto kProcessTable = index_transitions<ProcessTransition, kProcessStateCount, kProcessInputCount>(kProcessOrder);
static_assert(kProcessTable.each_pair_once, "kProcessOrder must list every (state, input) pair exactly once");
constexpr auto kPipeTable = index_transitions<PipeTransition, kPipeStateCount, kPipeInputCount>(kPipeOrder);
static_assert(kPipeTable.each_pair_once, "kPipeOrder must list every (state, input) pair exactly once");

constexpr std::array<SubprocessRuleInfo, kSubprocessRuleCount> kRules{{
    {R::MadeFirst, "proto.order.made-first", "connection_made as the first callback"},
    {R::MadeOnce, "proto.order.made-once", "connection_made at most once"},
    {R::LostOnce, "proto.order.lost-once", "connection_lost at most once"},
    {R::LostLast, "proto.order.lost-last", "no callback after connection_lost"},
    {R::ConnectionLostLast, "subprocess.connection-lost.last",
     "connection_lost after process_exited and after pipe_connection_lost of every pipe"},
    {R::ExitedOnce, "subprocess.exited.called", "process_exited once"},
    {R::PipeLostOnce, "subprocess.pipe-lost.per-pipe",
     "pipe_connection_lost once per pipe, with fd 0, 1 or 2, and no data on a pipe after it"},
    {R::DataFd, "subprocess.pipe-data.fd", "pipe_data_received with fd 1 (stdout) or 2 (stderr)"},
    {R::DataNonEmpty, "subprocess.pipe-data.non-empty", "pipe_data_received with non-empty data"},
}};

constexpr bool rules_in_enum_order() {
  for (std::size_t i = 0; i < kSubprocessRuleCount; ++i) {
    if (static_cast<std::size_t>(kRules[i].rule) != i) return false;
  }
  return true;
}
static_assert(rules_in_enum_order(), "kRules must list the rules in enum order");

SubprocessFinding finding(R rule, std::string observed) {
  return SubprocessFinding{rule, std::string(info(rule).expected), std::move(observed)};
}

}  // namespace

const std::array<SubprocessRuleInfo, kSubprocessRuleCount>& subprocess_rules() { return kRules; }

const SubprocessRuleInfo& info(SubprocessRule rule) { return kRules[static_cast<std::size_t>(rule)]; }

ProcessTransition process_transition(ProcessState state, ProcessInput input) { return kProcessTable.at(state, input); }

PipeTransition pipe_transition(PipeState state, PipeInput input) { return kPipeTable.at(state, input); }

std::string_view describe(ProcessState state) {
  switch (state) {
    case S::BeforeMade: return "before connection_made";
    case S::Running: return "before process_exited";
    case S::Exited: return "after process_exited";
    case S::Lost: return "after connection_lost";
  }
  return "in an unknown state";
}

std::optional<SubprocessFinding> SubprocessMonitor::on_event(const Event& e) {
  if (e.kind == EventKind::Call) {
    bool handed_out = e.name == "get_pipe_transport" && !e.error && e.value.value_or(false);
    if (handed_out && e.fd && *e.fd >= 0 && *e.fd <= 2) return on_pipe(e, PI::Exists);
    return std::nullopt;
  }
  if (e.kind != EventKind::Callback) return std::nullopt;
  if (e.name == "pipe_data_received") {
    // The order finding (data after connection_lost) comes first; it is the one a reader looks for.
    if (auto found = on_process(e, I::PipeData)) return found;
    if (e.size && *e.size <= 0) return finding(R::DataNonEmpty, fmt::format("size {}", *e.size));
    if (!e.fd || (*e.fd != 1 && *e.fd != 2)) {
      return finding(R::DataFd, e.fd ? fmt::format("fd {}", *e.fd) : std::string("no fd"));
    }
    return on_pipe(e, PI::Data);
  }
  if (e.name == "pipe_connection_lost") {
    if (auto found = on_process(e, I::PipeLost)) return found;
    if (!e.fd || *e.fd < 0 || *e.fd > 2) {
      return finding(R::PipeLostOnce, e.fd ? fmt::format("pipe_connection_lost with fd {}", *e.fd)
                                           : std::string("pipe_connection_lost without fd"));
    }
    return on_pipe(e, PI::Lost);
  }
  if (e.name == "connection_made") return on_process(e, I::ConnectionMade);
  if (e.name == "process_exited") return on_process(e, I::ProcessExited);
  if (e.name == "connection_lost") {
    ProcessState before = process_;
    if (auto found = on_process(e, I::ConnectionLost)) return found;
    if (before != S::Exited) return std::nullopt;
    for (int fd = 0; fd < 3; ++fd) {
      if (pipes_[static_cast<std::size_t>(fd)] == P::Open) {
        return finding(R::ConnectionLostLast, fmt::format("connection_lost before pipe_connection_lost({})", fd));
      }
    }
    return std::nullopt;
  }
  return on_process(e, I::Other);
}

std::optional<SubprocessFinding> SubprocessMonitor::on_process(const Event& e, ProcessInput input) {
  ProcessState before = process_;
  ProcessTransition step = process_transition(before, input);
  process_ = step.next;
  if (step.violated == R::None) return std::nullopt;
  return finding(step.violated, fmt::format("{} {}", e.name, describe(before)));
}

std::optional<SubprocessFinding> SubprocessMonitor::on_pipe(const Event& e, PipeInput input) {
  auto& pipe = pipes_[static_cast<std::size_t>(*e.fd)];
  PipeTransition step = pipe_transition(pipe, input);
  pipe = step.next;
  if (step.violated == R::None) return std::nullopt;
  return finding(step.violated, fmt::format("{}({}) after pipe_connection_lost({})", e.name, *e.fd, *e.fd));
}

}  // namespace loopspec::checking
