// The pieces every checker state machine is made of: the machine written as
// a list of {state, input, next, violated rule} lines (TransitionEntry), the
// lookup table built from it at compile time, which tells whether the list
// names every (state, input) pair exactly once, so that a machine can
// static_assert it is total and unambiguous; and the rule table and findings
// of a monitor.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace loopspec::checking {

// One line of a machine; a line without a rule is an allowed transition.
template <class State, class Input, class Rule>
struct TransitionEntry {
  State state;
  Input input;
  State next;
  Rule violated = Rule::None;
};

// What a machine answers for one (state, input) pair.
template <class State, class Rule>
struct MachineTransition {
  State next;
  Rule violated = Rule::None;
};

// One rule a monitor reports: its catalogue id and what it expects.
template <class Rule>
struct MonitorRuleInfo {
  Rule rule;
  std::string_view id;
  std::string_view expected;
};

// One violation a monitor found.
template <class Rule>
struct MonitorFinding {
  Rule rule;
  std::string expected;
  std::string observed;
};

template <class Transition, int kStates, int kInputs>
struct TransitionTable {
  std::array<std::array<Transition, kInputs>, kStates> cells{};
  bool each_pair_once = false;

  template <class State, class Input>
  constexpr const Transition& at(State state, Input input) const {
    return cells[static_cast<std::size_t>(state)][static_cast<std::size_t>(input)];
  }
};

// Entry: {state, input, next, violated}; Transition: {next, violated}.
template <class Transition, int kStates, int kInputs, class Entry, std::size_t kEntries>
constexpr TransitionTable<Transition, kStates, kInputs> index_transitions(const Entry (&entries)[kEntries]) {
  TransitionTable<Transition, kStates, kInputs> table{};
  std::array<std::array<int, kInputs>, kStates> seen{};
  for (const Entry& entry : entries) {
    auto s = static_cast<std::size_t>(entry.state);
    auto i = static_cast<std::size_t>(entry.input);
    table.cells[s][i] = Transition{entry.next, entry.violated};
    ++seen[s][i];
  }
  table.each_pair_once = true;
  for (const auto& row : seen) {
    for (int count : row) table.each_pair_once = table.each_pair_once && count == 1;
  }
  return table;
}

}  // namespace loopspec::checking
