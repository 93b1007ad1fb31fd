#include "loopspec/kit/pipe_ends.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace loopspec::kit {

MaybeError adopt_pipe(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return Error::from_errno(errno);
  if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode)) {
    return Error{"ValueError", 0, "Pipe transport is for pipes/sockets only."};
  }
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return Error::from_errno(errno);
  return std::nullopt;
}

}  // namespace loopspec::kit
