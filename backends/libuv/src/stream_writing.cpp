#include "loopspec/libuv/stream_writing.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <vector>

#include "loopspec/libuv/stream_reading.hpp"
#include "loopspec/libuv/uv_error.hpp"

namespace loopspec::libuv {

namespace {

constexpr std::size_t kMaxBuffers = 64;

}  // namespace

template <class Base>
void StreamWriting<Base>::write_pieces(std::span<const std::string_view> pieces) {
  if (this->phase_ != Base::Phase::Open) return;  // after close()/abort(): dropped silently
  // One buffer per non-empty piece; a write() needs no allocation for them.
  uv_buf_t few[4];
  std::vector<uv_buf_t> many(pieces.size() > std::size(few) ? pieces.size() : 0);
  uv_buf_t* buffers = many.empty() ? few : many.data();
  std::size_t count = 0;
  for (std::string_view piece : pieces) {
    if (!piece.empty()) buffers[count++] = uv_buf_t{const_cast<char*>(piece.data()), piece.size()};
  }
  std::span<uv_buf_t> unsent(buffers, count);
  if (queue_.empty() && !try_write(unsent)) return;
  if (unsent.empty()) return;
  for (const uv_buf_t& buffer : unsent) queue_.append({buffer.base, buffer.len});
  if (in_flight_ == 0) start_write();
  check_flow();
}

template <class Base>
bool StreamWriting<Base>::try_write(std::span<uv_buf_t>& unsent) {
  while (!unsent.empty()) {
    auto batch = unsent.first(std::min(unsent.size(), kMaxBuffers));
    int status = uv_try_write(this->stream(), batch.data(), static_cast<unsigned>(batch.size()));
    if (status == UV_EAGAIN) return true;
    if (status < 0) {
      this->lose(error_from_status(status));
      return false;
    }
    // Drop what the kernel took: whole buffers, then the front of a partly written one.
    auto taken = static_cast<std::size_t>(status);
    while (!unsent.empty() && taken >= unsent.front().len) {
      taken -= unsent.front().len;
      unsent = unsent.subspan(1);
    }
    if (taken > 0) {
      unsent.front().base += taken;
      unsent.front().len -= taken;
      return true;
    }
    if (!unsent.empty() && unsent.data() != batch.data() + batch.size()) return true;  // the kernel is full
  }
  return true;
}

template <class Base>
void StreamWriting<Base>::start_write() {
  iovec chunks[kMaxBuffers];
  std::size_t count = queue_.gather(chunks, kMaxBuffers);
  uv_buf_t buffers[kMaxBuffers];
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    buffers[i] = uv_buf_t{static_cast<char*>(chunks[i].iov_base), chunks[i].iov_len};
    bytes += chunks[i].iov_len;
  }
  write_request_.data = this;
  int status = uv_write(&write_request_, this->stream(), buffers, static_cast<unsigned>(count), on_written);
  if (status < 0) return this->lose(error_from_status(status));
  in_flight_ = bytes;
}

template <class Base>
void StreamWriting<Base>::on_written(uv_write_t* request, int status) {
  static_cast<StreamWriting*>(request->data)->written(status);
}

template <class Base>
void StreamWriting<Base>::written(int status) {
  std::size_t done = std::exchange(in_flight_, 0);
  if (!this->active()) return queue_.clear();  // lost meanwhile (UV_ECANCELED, or its last success)
  if (status < 0) return this->lose(error_from_status(status));
  queue_.consume(done);
  check_flow();  // the protocol may write more from resume_writing
  if (!this->active() || in_flight_ != 0) return;
  if (!queue_.empty()) return start_write();
  on_drained();
}

template <class Base>
void StreamWriting<Base>::on_lose() {
  Base::on_lose();
  // Bytes in flight are libuv's until its callback; the rest goes now.
  if (in_flight_ == 0) queue_.clear();
}

template <class Base>
void StreamWriting<Base>::set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) {
  flow_.set_limits(high, low);
  check_flow();
}

template <class Base>
void StreamWriting<Base>::check_flow() {
  if (!this->made_ || this->ending()) return;
  auto protocol = this->protocol_;  // kept alive through the callback
  flow_.tell(*protocol, queue_.size(), [this](const char* name, auto&& callback) { this->call(name, callback); });
}

template class StreamWriting<StreamReading<Transport>>;                 // stream sockets
template class StreamWriting<Endpoint<WriteTransport, BaseProtocol>>;  // write pipes

}  // namespace loopspec::libuv
