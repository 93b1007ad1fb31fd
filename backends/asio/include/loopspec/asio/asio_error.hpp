// The canonical error (loopspec::Error) of a Boost error_code.
//
// Promise: a system error is Error::from_errno(its errno) (asyncio's class
// for that errno); Asio's resolver errors (netdb and addrinfo categories) are
// a "gaierror" carrying the C library's EAI_* code, as Python's
// socket.gaierror does; end of file (asio::error::eof) is OSError without an
// errno. `message` replaces the default text when given.
#pragma once

#include <boost/system/error_code.hpp>

#include <string>

#include "loopspec/error.hpp"

namespace loopspec::asio {

Error error_from_code(const boost::system::error_code& ec, std::string message = {});

// Whether ec says the operation would block (EAGAIN/EWOULDBLOCK).
bool would_block(const boost::system::error_code& ec);

}  // namespace loopspec::asio
