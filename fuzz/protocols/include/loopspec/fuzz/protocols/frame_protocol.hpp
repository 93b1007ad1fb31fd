// Example BufferedProtocol: length-prefixed frames (a 4-byte big-endian
// length, then that many bytes), each acknowledged with "ack N\n".
//
// It lends buffers sized from get_buffer's hint (2048 bytes without one,
// never more than the space it has left), reads into them in place, and logs
// "frame N DIGEST" per frame, "truncated N" for bytes of an unfinished frame
// at end of file. A length over kMaxFrame logs "error: frame of N bytes" and
// closes the transport.
#pragma once

#include <cstddef>

#include "loopspec/fuzz/split_invariance.hpp"

namespace loopspec::fuzz::protocols {

inline constexpr std::size_t kMaxFrame = 64 * 1024;

Subject frame_subject();

}  // namespace loopspec::fuzz::protocols
