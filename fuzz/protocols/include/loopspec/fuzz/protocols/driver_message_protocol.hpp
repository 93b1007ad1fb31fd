// Example protocol: the driver protocol's message reader (spec/driver-protocol.md,
// Framing and Blobs) as a Protocol, on the wire code of backends/remote
// (parse_message, MessageView::blob).
//
// Logs each message as "message JSON" (keys sorted), with every staged blob
// it names taken from the staging buffer in field order and logged as "blob
// FIELD N DIGEST". Chunk messages only stage bytes. A protocol violation (a
// line over kMaxMessage bytes, terminated or not; bad JSON; a non-object; a
// bad chunk; a blob naming more than was staged; staged bytes left unused;
// over kMaxStaged staged) logs "error: WHAT" and closes the transport.
#pragma once

#include "loopspec/fuzz/split_invariance.hpp"

namespace loopspec::fuzz::protocols {

Subject driver_message_subject();

}  // namespace loopspec::fuzz::protocols
