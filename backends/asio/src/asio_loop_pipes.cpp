// AsioLoop's pipe endpoints, after kit::TransportLoop's adopt_pipe: the
// descriptor on a posix::stream_descriptor, then the transport with its
// protocol.
#include "loopspec/asio/asio_error.hpp"
#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/asio/pipe_transports.hpp"

namespace loopspec::asio {

namespace {

template <class T, class Interface>
MaybeError start_pipe(AsioLoop& loop, const StreamProtocolFactory& factory, int fd, Completion<Interface>& done) {
  Descriptor descriptor(loop.context());
  boost::system::error_code ec;
  descriptor.assign(fd, ec);  // epoll refuses nothing adopt_pipe accepts; a failure is reported all the same
  if (ec) return error_from_code(ec);
  start_endpoint<T>(loop, std::move(descriptor), factory, std::move(done));
  return std::nullopt;
}

}  // namespace

MaybeError AsioLoop::start_read_pipe(const StreamProtocolFactory& factory, int fd, Completion<ReadTransport>& done) {
  return start_pipe<ReadPipeTransport>(*this, factory, fd, done);
}

MaybeError AsioLoop::start_write_pipe(const StreamProtocolFactory& factory, int fd, Completion<WriteTransport>& done) {
  return start_pipe<WritePipeTransport>(*this, factory, fd, done);
}

}  // namespace loopspec::asio
