#include "checker_machines.hpp"

#include <array>

namespace loopspec::checking {

namespace {

using S = StreamState;
using I = StreamInput;
using R = CheckedRule;

using Entry = TransitionEntry<S, I, R>;

// The stream protocol order, one line per (state, input). After a violation
// the machine moves to the state that keeps later findings meaningful: a
// callback before connection_made does not open the connection, so a late
// connection_made is not also reported as a second one.
constexpr Entry kStreamOrder[] = {
    // state          input                   next            violated rule
    {S::BeforeMade,  I::ConnectionMade,       S::Open},
    {S::BeforeMade,  I::DataReceived,         S::BeforeMade,  R::MadeFirst},
    {S::BeforeMade,  I::GetBuffer,            S::BeforeMade,  R::MadeFirst},
    {S::BeforeMade,  I::BufferReturned,       S::BeforeMade},
    {S::BeforeMade,  I::EmptyBufferReturned,  S::BeforeMade},
    {S::BeforeMade,  I::BufferUpdated,        S::BeforeMade,  R::MadeFirst},
    {S::BeforeMade,  I::EofReceived,          S::BeforeMade,  R::MadeFirst},
    {S::BeforeMade,  I::EofReturned,          S::BeforeMade},
    {S::BeforeMade,  I::ConnectionLost,       S::Lost,        R::MadeFirst},
    {S::BeforeMade,  I::Other,                S::BeforeMade,  R::MadeFirst},

    {S::Open,        I::ConnectionMade,       S::Open,        R::MadeOnce},
    {S::Open,        I::DataReceived,         S::Open},
    {S::Open,        I::GetBuffer,            S::InGetBuffer},
    {S::Open,        I::BufferReturned,       S::Open},
    {S::Open,        I::EmptyBufferReturned,  S::Open},
    {S::Open,        I::BufferUpdated,        S::Open,        R::UpdatedAfterGetBuffer},
    {S::Open,        I::EofReceived,          S::AfterEof},
    {S::Open,        I::EofReturned,          S::Open},
    {S::Open,        I::ConnectionLost,       S::Lost},
    {S::Open,        I::Other,                S::Open},

    // A callback instead of the Return means get_buffer raised. pause_writing
    // may come from inside get_buffer (a write made there).
    {S::InGetBuffer, I::ConnectionMade,       S::InGetBuffer, R::MadeOnce},
    {S::InGetBuffer, I::DataReceived,         S::Open},
    {S::InGetBuffer, I::GetBuffer,            S::InGetBuffer},
    {S::InGetBuffer, I::BufferReturned,       S::BufferLent},
    {S::InGetBuffer, I::EmptyBufferReturned,  S::EmptyBuffer},
    {S::InGetBuffer, I::BufferUpdated,        S::Open,        R::UpdatedAfterGetBuffer},
    {S::InGetBuffer, I::EofReceived,          S::AfterEof},
    {S::InGetBuffer, I::EofReturned,          S::InGetBuffer},
    {S::InGetBuffer, I::ConnectionLost,       S::Lost},
    {S::InGetBuffer, I::Other,                S::InGetBuffer},

    // get_buffer without buffer_updated is allowed: the buffer is dropped.
    {S::BufferLent,  I::ConnectionMade,       S::BufferLent,  R::MadeOnce},
    {S::BufferLent,  I::DataReceived,         S::Open},
    {S::BufferLent,  I::GetBuffer,            S::InGetBuffer},
    {S::BufferLent,  I::BufferReturned,       S::BufferLent},
    {S::BufferLent,  I::EmptyBufferReturned,  S::BufferLent},
    {S::BufferLent,  I::BufferUpdated,        S::Open},
    {S::BufferLent,  I::EofReceived,          S::AfterEof},
    {S::BufferLent,  I::EofReturned,          S::BufferLent},
    {S::BufferLent,  I::ConnectionLost,       S::Lost},
    {S::BufferLent,  I::Other,                S::BufferLent},

    // A zero-size buffer is an error: connection_lost(exc) should follow.
    {S::EmptyBuffer, I::ConnectionMade,       S::EmptyBuffer, R::MadeOnce},
    {S::EmptyBuffer, I::DataReceived,         S::Open},
    {S::EmptyBuffer, I::GetBuffer,            S::InGetBuffer},
    {S::EmptyBuffer, I::BufferReturned,       S::EmptyBuffer},
    {S::EmptyBuffer, I::EmptyBufferReturned,  S::EmptyBuffer},
    {S::EmptyBuffer, I::BufferUpdated,        S::Open,        R::ZeroSizeBufferError},
    {S::EmptyBuffer, I::EofReceived,          S::AfterEof},
    {S::EmptyBuffer, I::EofReturned,          S::EmptyBuffer},
    {S::EmptyBuffer, I::ConnectionLost,       S::Lost},
    {S::EmptyBuffer, I::Other,                S::EmptyBuffer},

    // Half-open: writing (and flow control) goes on, reading is over.
    {S::AfterEof,    I::ConnectionMade,       S::AfterEof,    R::MadeOnce},
    {S::AfterEof,    I::DataReceived,         S::AfterEof,    R::DataNotAfterEof},
    {S::AfterEof,    I::GetBuffer,            S::AfterEof,    R::DataNotAfterEof},
    {S::AfterEof,    I::BufferReturned,       S::AfterEof},
    {S::AfterEof,    I::EmptyBufferReturned,  S::AfterEof},
    {S::AfterEof,    I::BufferUpdated,        S::AfterEof,    R::DataNotAfterEof},
    {S::AfterEof,    I::EofReceived,          S::AfterEof,    R::EofAtMostOnce},
    {S::AfterEof,    I::EofReturned,          S::AfterEof},
    {S::AfterEof,    I::ConnectionLost,       S::Lost},
    {S::AfterEof,    I::Other,                S::AfterEof},

    // Returns of callbacks entered before connection_lost are not callbacks.
    {S::Lost,        I::ConnectionMade,       S::Lost,        R::MadeOnce},
    {S::Lost,        I::DataReceived,         S::Lost,        R::LostLast},
    {S::Lost,        I::GetBuffer,            S::Lost,        R::LostLast},
    {S::Lost,        I::BufferReturned,       S::Lost},
    {S::Lost,        I::EmptyBufferReturned,  S::Lost},
    {S::Lost,        I::BufferUpdated,        S::Lost,        R::LostLast},
    {S::Lost,        I::EofReceived,          S::Lost,        R::LostLast},
    {S::Lost,        I::EofReturned,          S::Lost},
    {S::Lost,        I::ConnectionLost,       S::Lost,        R::LostOnce},
    {S::Lost,        I::Other,                S::Lost,        R::LostLast},
};

constexpr auto kTable = index_transitions<Transition, kStreamStateCount, kStreamInputCount>(kStreamOrder);
static_assert(kTable.each_pair_once, "kStreamOrder must list every (state, input) pair exactly once");

}  // namespace

Transition stream_transition(StreamState state, StreamInput input) {
  return kTable.at(state, input);
}

std::string_view describe(StreamState state) {
  switch (state) {
    case S::BeforeMade: return "before connection_made";
    case S::Open: return "while open";
    case S::InGetBuffer: return "before get_buffer returned";
    case S::BufferLent: return "after get_buffer returned a buffer";
    case S::EmptyBuffer: return "after get_buffer returned a zero-size buffer";
    case S::AfterEof: return "after eof_received";
    case S::Lost: return "after connection_lost";
  }
  return "in an unknown state";
}

}  // namespace loopspec::checking
