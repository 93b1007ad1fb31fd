// Client connections to the server under test.
//
// connect_to(port) opens one TCP connection to 127.0.0.1:PORT with
// TCP_NODELAY (as the vmbench client does, so a small message is not held
// back by Nagle's algorithm waiting for the server's ACK), connected
// (blocking connect: on loopback it returns once the server's kernel
// accepted the handshake) and then switched to non-blocking unless asked
// otherwise. Throws std::system_error on failure.
// raise_fd_limit() lifts the soft RLIMIT_NOFILE to the hard limit.
#pragma once

#include <cstdint>

namespace bench {

int connect_to(std::uint16_t port, bool non_blocking = true);
void raise_fd_limit();

}  // namespace bench
