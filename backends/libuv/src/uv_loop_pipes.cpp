// UvLoop's pipe endpoints, after kit::TransportLoop's adopt_pipe: a uv_pipe_t
// open on the descriptor, then the transport with its protocol.
#include <unistd.h>

#include "loopspec/libuv/endpoint_start.hpp"
#include "loopspec/libuv/pipe_transports.hpp"
#include "loopspec/libuv/uv_error.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

namespace {

// A pty to read from becomes a uv_poll_t instead: libuv's stream reading
// takes a short read followed by a hang-up for the end of file, and a pty's
// reads are always short, so what was still queued when its other side
// closed would be lost (pipe_transports.hpp).
template <class T, class Interface>
MaybeError start_pipe(UvLoop& loop, const StreamProtocolFactory& factory, int fd, bool reading,
                      Completion<Interface>& done) {
  HandleBox* box = HandleBox::make(nullptr);
  if (reading && ::isatty(fd) == 1) {
    if (int status = uv_poll_init(loop.uv(), &box->poll, fd); status < 0) {
      HandleBox::discard(box);  // libuv never took the handle
      return error_from_status(status);
    }
    box->adopt();
    box->owned_fd = fd;
  } else {
    uv_pipe_init(loop.uv(), &box->pipe, 0);
    box->adopt();
    if (int status = uv_pipe_open(&box->pipe, fd); status < 0) {
      HandleBox::close(box);
      return error_from_status(status);
    }
  }
  start_endpoint<T>(loop, box, factory, std::move(done));
  return std::nullopt;
}

}  // namespace

MaybeError UvLoop::start_read_pipe(const StreamProtocolFactory& factory, int fd, Completion<ReadTransport>& done) {
  return start_pipe<ReadPipeTransport>(*this, factory, fd, true, done);
}

MaybeError UvLoop::start_write_pipe(const StreamProtocolFactory& factory, int fd, Completion<WriteTransport>& done) {
  return start_pipe<WritePipeTransport>(*this, factory, fd, false, done);
}

}  // namespace loopspec::libuv
