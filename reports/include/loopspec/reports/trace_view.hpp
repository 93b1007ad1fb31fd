// A trace kept in results.json (scenarios[].trace), read back for display.
//
// results.json keeps at most max_trace_events events around the first
// violation ({header, events, complete, first_event, omitted}). A report
// shows fewer still: a window of rows around the event in focus.
// Promises: read_kept_trace never throws; a trace it cannot read comes back
// with no events and `problem` saying why (naming the field); so does
// read_trace_file for a whole trace on disk. Positions are
// absolute: the index an event had in the whole recorded trace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loopspec/trace.hpp"

namespace loopspec::reports {

struct KeptTrace {
  std::vector<Event> events;
  std::size_t first_event = 0;  // absolute position of events[0]
  std::size_t omitted = 0;      // events of the recorded trace not kept in results.json
  bool complete = false;
  std::string problem;          // why the stored trace could not be read; empty when it could

  std::size_t total() const { return events.size() + omitted; }
  // The index in `events` of the event with this seq.
  std::optional<std::size_t> index_of_seq(std::uint64_t seq) const;
};

KeptTrace read_kept_trace(const nlohmann::json& trace, const std::string& source);
// A whole trace written by `loopspec run --traces` (JSON Lines).
KeptTrace read_trace_file(const std::filesystem::path& file);

// [begin, end) of at most max_rows indices out of n, around focus: a quarter
// of the rows before it, the rest after (what led up to a violation matters,
// what followed matters more). Without a focus, the last rows.
struct Window {
  std::size_t begin = 0;
  std::size_t end = 0;
};
Window window_around(std::size_t n, std::optional<std::size_t> focus, std::size_t max_rows);

// Where the rows in view start inside a window: `context` rows before the
// focus, or the last `context` rows without one; rows before it are folded
// away (still in the page, collapsed).
std::size_t fold_point(Window w, std::optional<std::size_t> focus, std::size_t context);

// What an event carried besides kind and name, for people: "size=5
// digest=… value=true error=ValueError(…)". Not escaped.
std::string describe_arguments(const Event& event, bool with_digest = true);

// The transport state columns: "65536" or "" when absent.
std::string state_buffer(const Event& event);
std::string state_limits(const Event& event);   // "16384/65536" (low/high)
std::string state_flag(const std::optional<bool>& flag);  // "yes", "no", ""

}  // namespace loopspec::reports
