#include "loopspec/libuv/stream_writing.hpp"

#include "loopspec/kit/stream_writing_impl.hpp"
#include "loopspec/libuv/stream_reading.hpp"
#include "loopspec/libuv/uv_error.hpp"

namespace loopspec::libuv {

namespace {

// libuv's buffers for the iovecs (at most kit::StreamWriting's kMaxBuffers).
template <std::size_t N>
unsigned to_buffers(std::span<const iovec> from, uv_buf_t (&to)[N]) {
  for (std::size_t i = 0; i < from.size(); ++i) to[i] = uv_buf_t{static_cast<char*>(from[i].iov_base), from[i].iov_len};
  return static_cast<unsigned>(from.size());
}

}  // namespace

template <class Base>
std::size_t StreamWriting<Base>::write_now(std::span<const iovec> batch, MaybeError& error) {
  uv_buf_t buffers[StreamWriting::kMaxBuffers];
  int status = uv_try_write(this->stream(), buffers, to_buffers(batch, buffers));
  if (status == UV_EAGAIN) return 0;
  if (status < 0) {
    error = error_from_status(status);
    return 0;
  }
  return static_cast<std::size_t>(status);
}

template <class Base>
bool StreamWriting<Base>::start_send(std::span<const iovec> chunks, MaybeError& error) {
  uv_buf_t buffers[StreamWriting::kMaxBuffers];
  unsigned count = to_buffers(chunks, buffers);
  write_request_.data = this;
  if (int status = uv_write(&write_request_, this->stream(), buffers, count, on_written); status < 0) {
    error = error_from_status(status);
    return false;
  }
  return true;
}

template <class Base>
void StreamWriting<Base>::on_written(uv_write_t* request, int status) {
  auto* self = static_cast<StreamWriting*>(request->data);
  self->written(status < 0 ? MaybeError(error_from_status(status)) : std::nullopt);
}

template class StreamWriting<StreamReading<Transport>>;                 // stream sockets
template class StreamWriting<Endpoint<WriteTransport, BaseProtocol>>;  // write pipes

}  // namespace loopspec::libuv

// The shared half of both (kit/stream_writing.hpp).
template class loopspec::kit::StreamWriting<loopspec::libuv::StreamReading<loopspec::Transport>>;
template class loopspec::kit::StreamWriting<loopspec::libuv::Endpoint<loopspec::WriteTransport, loopspec::BaseProtocol>>;
