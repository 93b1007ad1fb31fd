// What the pipe transports need from a descriptor, whatever its kind.
//
// Promises:
// - adopt_pipe_descriptor accepts what CPython's pipe transports accept — a
//   pipe or FIFO, a socket, a character device (a pty, a terminal) — and
//   makes it non-blocking and close-on-exec. Anything else (a regular file, a
//   directory) throws ContractError(ValueError "Pipe transport is for
//   pipes/sockets only."); a descriptor that is not open throws the errno's
//   canonical error. It never closes fd.
// - writev_without_sigpipe never raises SIGPIPE in the process: a write to a
//   pipe whose reader is gone fails with EPIPE instead. SIGPIPE is blocked on
//   the calling thread around the write, and the one the write raised is
//   consumed (a SIGPIPE already pending before the call is left alone;
//   kit::SigpipeGuard). errno is as writev left it.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <nlohmann/json.hpp>

namespace loopspec::reference {

enum class PipeKind { Fifo, Socket, CharacterDevice };

PipeKind adopt_pipe_descriptor(int fd);

// get_extra_info('pipe') in loopspec's canonical form.
nlohmann::json pipe_extra_info(int fd);

ssize_t writev_without_sigpipe(int fd, const iovec* iov, int count);

}  // namespace loopspec::reference
