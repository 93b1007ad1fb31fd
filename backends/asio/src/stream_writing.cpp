#include "loopspec/asio/stream_writing.hpp"

#include <sys/uio.h>

#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <vector>

#include "loopspec/asio/asio_error.hpp"
#include "loopspec/asio/stream_reading.hpp"

namespace loopspec::asio {

namespace {

constexpr std::size_t kMaxBuffers = 64;  // Asio gathers at most 64 buffers per write

}  // namespace

template <class Base>
void StreamWriting<Base>::write_pieces(std::span<const std::string_view> pieces) {
  if (this->phase_ != Base::Phase::Open) return;  // after close()/abort(): dropped silently
  std::vector<net::const_buffer> buffers;
  buffers.reserve(pieces.size());
  for (std::string_view piece : pieces) {
    if (!piece.empty()) buffers.emplace_back(piece.data(), piece.size());
  }
  std::span<net::const_buffer> unsent(buffers);
  if (queue_.empty() && !try_write(unsent)) return;
  if (unsent.empty()) return;
  for (const auto& buffer : unsent) queue_.append({static_cast<const char*>(buffer.data()), buffer.size()});
  if (in_flight_ == 0) start_write();
  check_flow();
}

template <class Base>
bool StreamWriting<Base>::try_write(std::span<net::const_buffer>& unsent) {
  auto* handle = this->handle();
  while (!unsent.empty() && handle != nullptr) {
    auto batch = unsent.first(std::min(unsent.size(), kMaxBuffers));
    boost::system::error_code ec;
    std::size_t taken = handle->write_some(batch, ec);
    if (would_block(ec)) return true;
    if (ec == net::error::interrupted) continue;
    if (ec) {
      this->lose(error_from_code(ec));
      return false;
    }
    // Drop what the kernel took: whole buffers, then the front of a partly written one.
    while (!unsent.empty() && taken >= unsent.front().size()) {
      taken -= unsent.front().size();
      unsent = unsent.subspan(1);
    }
    if (taken > 0) {
      unsent.front() += taken;
      return true;
    }
    if (!unsent.empty() && unsent.data() != batch.data() + batch.size()) return true;  // the kernel is full
  }
  return true;
}

template <class Base>
void StreamWriting<Base>::start_write() {
  auto* handle = this->handle();
  if (handle == nullptr) return;
  iovec chunks[kMaxBuffers];
  std::size_t count = queue_.gather(chunks, kMaxBuffers);
  std::vector<net::const_buffer> buffers;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    buffers.emplace_back(chunks[i].iov_base, chunks[i].iov_len);
    bytes += chunks[i].iov_len;
  }
  in_flight_ = bytes;
  // The queue keeps the bytes where they are until the completion (write_queue.hpp).
  auto self = std::static_pointer_cast<StreamWriting>(this->shared_from_this());
  net::async_write(*handle, buffers, Base::completion(self, [](StreamWriting& me, boost::system::error_code ec, std::size_t) {
    me.written(ec);
  }));
}

template <class Base>
void StreamWriting<Base>::written(const boost::system::error_code& ec) {
  std::size_t done = std::exchange(in_flight_, 0);
  if (!this->active()) return queue_.clear();  // lost meanwhile (operation_aborted, or its last success)
  if (ec) return this->lose(error_from_code(ec));
  queue_.consume(done);
  check_flow();  // the protocol may write more from resume_writing
  if (!this->active() || in_flight_ != 0) return;
  if (!queue_.empty()) return start_write();
  on_drained();
}

template <class Base>
void StreamWriting<Base>::on_lose() {
  Base::on_lose();
  // Bytes in flight are Asio's until its completion; the rest goes now.
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

template class StreamWriting<StreamReading<Transport, StreamSocket>>;            // stream sockets
template class StreamWriting<Endpoint<WriteTransport, BaseProtocol, Descriptor>>;  // write pipes

}  // namespace loopspec::asio
