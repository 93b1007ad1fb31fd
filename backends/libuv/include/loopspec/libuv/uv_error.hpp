// The canonical error (loopspec::Error) of a libuv status.
//
// Promise: libuv's statuses on Unix are negated errno values, so a status is
// Error::from_errno(-status) (asyncio's class for that errno); getaddrinfo
// failures (UV_EAI_*) are a "gaierror" carrying the C library's EAI_* code,
// as Python's socket.gaierror does. `message` replaces libuv's text when given.
#pragma once

#include <string>

#include "loopspec/error.hpp"

namespace loopspec::libuv {

Error error_from_status(int status, std::string message = {});

}  // namespace loopspec::libuv
