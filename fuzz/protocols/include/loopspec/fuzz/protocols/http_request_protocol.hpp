// Example protocol: an HTTP/1.1 server's request reader (RFC 9112), pipelined
// requests with Content-Length or chunked bodies, each answered "204".
//
// Logs per request "request METHOD TARGET VERSION", "header NAME: VALUE"
// (name lower-cased, value trimmed), "body N DIGEST", then "end"; at end of
// file in the middle of a request, "incomplete". Anything malformed (a head
// over kMaxHead bytes or kMaxHeaders fields, a bad request line, a bad or
// conflicting length, a bad chunk size or chunk end) logs "error: WHY",
// answers "400" and closes: a limit holds at the same byte whatever the reads.
#pragma once

#include <cstddef>

#include "loopspec/fuzz/split_invariance.hpp"

namespace loopspec::fuzz::protocols {

inline constexpr std::size_t kMaxHead = 8 * 1024;
inline constexpr std::size_t kMaxHeaders = 64;
inline constexpr std::size_t kMaxBody = 1 << 20;

Subject http_request_subject();

}  // namespace loopspec::fuzz::protocols
