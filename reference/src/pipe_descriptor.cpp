#include "loopspec/reference/pipe_descriptor.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "loopspec/error.hpp"
#include "loopspec/kit/sigpipe_guard.hpp"

namespace loopspec::reference {

PipeKind adopt_pipe_descriptor(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) throw ContractError(Error::from_errno(errno));
  PipeKind kind;
  if (S_ISFIFO(st.st_mode)) {
    kind = PipeKind::Fifo;
  } else if (S_ISSOCK(st.st_mode)) {
    kind = PipeKind::Socket;
  } else if (S_ISCHR(st.st_mode)) {
    kind = PipeKind::CharacterDevice;
  } else {
    throw ContractError(Error{"ValueError", 0, "Pipe transport is for pipes/sockets only."});
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    throw ContractError(Error::from_errno(errno));
  }
  return kind;
}

nlohmann::json pipe_extra_info(int fd) { return nlohmann::json{{"fd", fd}}; }

ssize_t writev_without_sigpipe(int fd, const iovec* iov, int count) {
  kit::SigpipeGuard no_sigpipe;
  ssize_t written;
  do {
    written = ::writev(fd, iov, count);
  } while (written < 0 && errno == EINTR);
  return written;
}

}  // namespace loopspec::reference
