// kit::StreamWriting's definitions (stream_writing.hpp), included only by
// the file of a backend that instantiates it.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "loopspec/kit/sigpipe_guard.hpp"
#include "loopspec/kit/stream_writing.hpp"

namespace loopspec::kit {

template <class Base>
void StreamWriting<Base>::write_pieces(std::span<const std::string_view> pieces) {
  if (this->phase_ != Base::Phase::Open) return;  // after close()/abort(): dropped silently
  // The library writes now, outside the loop's own guard: a reader gone is EPIPE, never SIGPIPE.
  SigpipeGuard no_sigpipe;
  // One buffer per non-empty piece; a write() needs no allocation for them.
  iovec few[4];
  std::vector<iovec> many(pieces.size() > std::size(few) ? pieces.size() : 0);
  iovec* buffers = many.empty() ? few : many.data();
  std::size_t count = 0;
  for (std::string_view piece : pieces) {
    if (!piece.empty()) buffers[count++] = iovec{const_cast<char*>(piece.data()), piece.size()};
  }
  std::span<iovec> unsent(buffers, count);
  if (queue_.empty() && !try_write(unsent)) return;
  if (unsent.empty()) return;
  for (const iovec& buffer : unsent) queue_.append({static_cast<const char*>(buffer.iov_base), buffer.iov_len});
  if (in_flight_ == 0) start_write();
  check_flow();
}

template <class Base>
bool StreamWriting<Base>::try_write(std::span<iovec>& unsent) {
  while (!unsent.empty()) {
    auto batch = unsent.first(std::min(unsent.size(), kMaxBuffers));
    MaybeError error;
    std::size_t taken = write_now(batch, error);
    if (error) {
      this->lose(*error);
      return false;
    }
    // Drop what the kernel took: whole buffers, then the front of a partly written one.
    while (!unsent.empty() && taken >= unsent.front().iov_len) {
      taken -= unsent.front().iov_len;
      unsent = unsent.subspan(1);
    }
    if (taken > 0) {
      unsent.front().iov_base = static_cast<char*>(unsent.front().iov_base) + taken;
      unsent.front().iov_len -= taken;
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
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < count; ++i) bytes += chunks[i].iov_len;
  MaybeError error;
  if (!start_send({chunks, count}, error)) {
    if (error) this->lose(*error);
    return;
  }
  in_flight_ = bytes;
}

template <class Base>
void StreamWriting<Base>::written(const MaybeError& error) {
  std::size_t done = std::exchange(in_flight_, 0);
  if (!this->active()) return queue_.clear();  // lost meanwhile (the send cancelled, or its last success)
  if (error) return this->lose(*error);
  queue_.consume(done);
  check_flow();  // the protocol may write more from resume_writing
  if (!this->active() || in_flight_ != 0) return;
  if (!queue_.empty()) return start_write();
  on_drained();
}

template <class Base>
void StreamWriting<Base>::on_lose() {
  Base::on_lose();
  // Bytes in flight are the send's until written(); the rest goes now.
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

}  // namespace loopspec::kit
