// How OpenSSL failures become canonical errors (the names Python's ssl module
// raises), so verdicts compare with asyncio's.
//
// Promise: each function drains this thread's OpenSSL error queue, so a
// failure never leaks into the next operation's diagnosis.
#pragma once

#include <string>

#include "loopspec/error.hpp"

struct ssl_st;

namespace loopspec::kit {

// Error{type, 0, "[SSL: REASON] text"} from the queue's oldest entry (or `fallback` when empty).
Error take_openssl_error(const std::string& type, const std::string& fallback);

// The error of a failed SSL operation on ssl: SSLCertVerificationError when
// the peer's certificate was rejected, SSLError otherwise.
Error take_session_error(const ssl_st* ssl, const std::string& fallback);

}  // namespace loopspec::kit
