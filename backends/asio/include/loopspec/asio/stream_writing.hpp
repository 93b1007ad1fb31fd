// The writing half of the transports that write a byte stream: Asio's
// primitives for kit::StreamWriting (kit/stream_writing.hpp), a
// non-blocking write_some (a gather write of up to 64 pieces) at once, then
// one async_write at a time (the queued chunks pointed at, not copied) for
// what the kernel did not take.
//
// Promises beyond kit::StreamWriting's:
// - A write that fails loses the transport with the canonical error of its
//   errno (EPIPE: BrokenPipeError); would-block leaves the data queued.
// - Bytes in flight stay alive until Asio's completion (operation_aborted
//   once the I/O object is closed) gives them back.
#pragma once

#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/kit/stream_writing.hpp"

namespace loopspec::asio {

template <class Base>
class StreamWriting : public kit::StreamWriting<Base> {
 protected:
  using kit::StreamWriting<Base>::StreamWriting;

 private:
  std::size_t write_now(std::span<const iovec> batch, MaybeError& error) override;
  bool start_send(std::span<const iovec> chunks, MaybeError& error) override;
};

}  // namespace loopspec::asio
