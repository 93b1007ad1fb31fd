// The callback order of Protocol and BufferedProtocol as a state machine.
//
// One machine covers both kinds because set_protocol() may switch a
// connection from one to the other. Inputs are the callbacks (at entry) and
// the Return events of get_buffer and eof_received; every other callback
// (pause_writing, resume_writing, callbacks of other protocol kinds) is
// "Other" and only matters before connection_made and after connection_lost.
// Promise: stream_transition is total: every (state, input) pair has a next
// state, and names the violated rule when the pair is not allowed.
#pragma once

#include <cstdint>
#include <string_view>

#include "checker_rules.hpp"
#include "checker_transition_table.hpp"

namespace loopspec::checking {

enum class StreamState : std::uint8_t {
  BeforeMade,   // nothing delivered yet
  Open,         // connection_made delivered; data may come
  InGetBuffer,  // get_buffer entered, its Return not seen yet
  BufferLent,   // get_buffer returned a non-empty buffer: one buffer_updated may follow
  EmptyBuffer,  // get_buffer returned a zero-size buffer: buffer_updated may not follow
  AfterEof,     // eof_received delivered: no more data
  Lost,         // connection_lost delivered: nothing more
};
inline constexpr int kStreamStateCount = 7;

enum class StreamInput : std::uint8_t {
  ConnectionMade,
  DataReceived,
  GetBuffer,
  BufferReturned,       // get_buffer's Return, size > 0 (or unknown)
  EmptyBufferReturned,  // get_buffer's Return, size == 0
  BufferUpdated,
  EofReceived,
  EofReturned,  // eof_received's Return
  ConnectionLost,
  Other,  // pause_writing, resume_writing, any other callback
};
inline constexpr int kStreamInputCount = 10;

using Transition = MachineTransition<StreamState, CheckedRule>;

Transition stream_transition(StreamState state, StreamInput input);

// "before connection_made", "after eof_received", ... for messages.
std::string_view describe(StreamState state);

}  // namespace loopspec::checking
