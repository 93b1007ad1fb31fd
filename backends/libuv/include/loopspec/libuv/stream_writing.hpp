// The writing half of the transports that write a byte stream: libuv's
// primitives for kit::StreamWriting (kit/stream_writing.hpp), uv_try_write
// at once and one uv_write at a time for what the kernel did not take.
//
// Promises beyond kit::StreamWriting's:
// - get_write_buffer_size() counts the bytes of the uv_write in flight until
//   its callback. (libuv's own write_queue_size shrinks inside the poll
//   without a callback; counting it would let the size fall to low with no
//   chance to call resume_writing at that moment.)
// - A write that fails loses the transport with the canonical error of its
//   status; UV_EAGAIN leaves the data queued. Bytes in flight stay alive
//   until libuv's callback (UV_ECANCELED once the handle closes).
#pragma once

#include <uv.h>

#include "loopspec/kit/stream_writing.hpp"

namespace loopspec::libuv {

template <class Base>
class StreamWriting : public kit::StreamWriting<Base> {
 protected:
  using kit::StreamWriting<Base>::StreamWriting;

 private:
  std::size_t write_now(std::span<const iovec> batch, MaybeError& error) override;
  bool start_send(std::span<const iovec> chunks, MaybeError& error) override;
  static void on_written(uv_write_t* request, int status);

  uv_write_t write_request_{};
};

}  // namespace loopspec::libuv
