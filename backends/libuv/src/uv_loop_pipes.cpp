// UvLoop's pipe endpoints: check the descriptor, open a uv_pipe_t on it,
// then the transport with its protocol.
#include <unistd.h>

#include <utility>

#include "loopspec/libuv/endpoint_start.hpp"
#include "loopspec/libuv/pipe_transports.hpp"
#include "loopspec/libuv/uv_error.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

namespace {

// fd as an open uv_pipe_t, or null after done got the error (fd closed).
// A pty to read from becomes a uv_poll_t instead: libuv's stream reading
// takes a short read followed by a hang-up for the end of file, and a pty's
// reads are always short, so what was still queued when its other side
// closed would be lost (pipe_transports.hpp).
template <class T>
HandleBox* open_pipe(UvLoop& loop, int fd, bool reading, Completion<T>& done) {
  MaybeError error = kit::adopt_pipe(fd);
  HandleBox* box = error ? nullptr : HandleBox::make(nullptr);
  if (box != nullptr && reading && ::isatty(fd) == 1) {
    if (int status = uv_poll_init(loop.uv(), &box->poll, fd); status < 0) {
      HandleBox::discard(std::exchange(box, nullptr));  // libuv never took the handle
      error = error_from_status(status);
    } else {
      box->adopt();
      box->owned_fd = fd;
    }
  } else if (box != nullptr) {
    uv_pipe_init(loop.uv(), &box->pipe, 0);
    box->adopt();
    if (int status = uv_pipe_open(&box->pipe, fd); status < 0) {
      HandleBox::close(std::exchange(box, nullptr));
      error = error_from_status(status);
    }
  }
  if (!error) return box;
  ::close(fd);  // libuv did not take it
  loop.complete_with_error(std::move(done), std::move(*error));
  return nullptr;
}

}  // namespace

void UvLoop::connect_read_pipe(StreamProtocolFactory factory, int fd, Completion<ReadTransport> done) {
  if (HandleBox* box = open_pipe(*this, fd, true, done)) start_endpoint<ReadPipeTransport>(*this, box, factory, std::move(done));
}

void UvLoop::connect_write_pipe(StreamProtocolFactory factory, int fd, Completion<WriteTransport> done) {
  if (HandleBox* box = open_pipe(*this, fd, false, done)) start_endpoint<WritePipeTransport>(*this, box, factory, std::move(done));
}

}  // namespace loopspec::libuv
