// Turns a checker state machine written as a list of
// {state, input, next, violated rule} lines into a lookup table at compile
// time, and tells whether the list names every (state, input) pair exactly
// once, so that a machine can static_assert it is total and unambiguous.
#pragma once

#include <array>
#include <cstddef>

namespace loopspec::checking {

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
