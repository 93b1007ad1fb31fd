#include "loopspec/asio/stream_writing.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include <vector>

#include "loopspec/asio/asio_error.hpp"
#include "loopspec/asio/stream_reading.hpp"
#include "loopspec/kit/stream_writing_impl.hpp"

namespace loopspec::asio {

template <class Base>
std::size_t StreamWriting<Base>::write_now(std::span<const iovec> batch, MaybeError& error) {
  auto* handle = this->handle();
  if (handle == nullptr) return 0;
  net::const_buffer buffers[StreamWriting::kMaxBuffers];  // Asio gathers at most 64 buffers per write
  for (std::size_t i = 0; i < batch.size(); ++i) buffers[i] = net::const_buffer(batch[i].iov_base, batch[i].iov_len);
  std::span<const net::const_buffer> sequence(buffers, batch.size());
  boost::system::error_code ec;
  std::size_t taken = 0;
  do {
    taken = handle->write_some(sequence, ec);
  } while (ec == net::error::interrupted);
  if (would_block(ec)) return 0;
  if (ec) {
    error = error_from_code(ec);
    return 0;
  }
  return taken;
}

template <class Base>
bool StreamWriting<Base>::start_send(std::span<const iovec> chunks, MaybeError& /*error*/) {
  auto* handle = this->handle();
  if (handle == nullptr) return false;
  std::vector<net::const_buffer> buffers;
  buffers.reserve(chunks.size());
  for (const iovec& chunk : chunks) buffers.emplace_back(chunk.iov_base, chunk.iov_len);
  // The queue keeps the bytes where they are until the completion (write_queue.hpp).
  auto self = std::static_pointer_cast<StreamWriting>(this->shared_from_this());
  net::async_write(*handle, buffers, Base::completion(self, [](StreamWriting& me, boost::system::error_code ec, std::size_t) {
    me.written(ec ? MaybeError(error_from_code(ec)) : std::nullopt);
  }));
  return true;
}

template class StreamWriting<StreamReading<Transport, StreamSocket>>;              // stream sockets
template class StreamWriting<Endpoint<WriteTransport, BaseProtocol, Descriptor>>;  // write pipes

}  // namespace loopspec::asio

// The shared half of both (kit/stream_writing.hpp).
template class loopspec::kit::StreamWriting<loopspec::asio::StreamReading<loopspec::Transport, loopspec::asio::StreamSocket>>;
template class loopspec::kit::StreamWriting<
    loopspec::asio::Endpoint<loopspec::WriteTransport, loopspec::BaseProtocol, loopspec::asio::Descriptor>>;
