#include "loopspec/asio/stream_reading.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>

#include "loopspec/asio/asio_error.hpp"

namespace loopspec::asio {

template <class Interface, class Handle>
void StreamReading<Interface, Handle>::update_reading() {
  Handle* handle = this->handle();
  if (waiting_ || !this->wants_reading() || handle == nullptr) return;
  waiting_ = true;
  auto self = std::static_pointer_cast<StreamReading>(this->shared_from_this());
  handle->async_wait(Handle::wait_read, Base::completion(self, [](StreamReading& me, boost::system::error_code ec) {
    me.readable(ec);
  }));
}

template <class Interface, class Handle>
void StreamReading<Interface, Handle>::readable(const boost::system::error_code& ec) {
  waiting_ = false;
  if (ec == net::error::operation_aborted) return;  // closed meanwhile
  // Any other outcome of the wait is for the read to tell (an error, end of file).
  if (this->wants_reading()) read_once();
  update_reading();
}

// One read, as asyncio's _read_ready does per readiness.
template <class Interface, class Handle>
void StreamReading<Interface, Handle>::read_once() {
  std::span<char> buffer;
  auto protocol = this->protocol_;  // set_protocol inside a callback must not free it mid-call
  BufferedProtocol* lent_by = this->buffered_protocol_;
  if (lent_by == nullptr) {
    buffer = this->loop_->read_buffer().subspan(1, AsioLoop::kReadBufferSize);
  } else {
    if (!this->call("get_buffer", [&] { buffer = lent_by->get_buffer(-1); })) return;
    if (buffer.empty()) {
      Error error{"RuntimeError", 0, "get_buffer() returned an empty buffer"};
      this->loop_->report_exception("get_buffer", error);
      return this->lose(error);
    }
    if (!this->wants_reading()) return;  // get_buffer paused reading or closed the transport
  }
  Handle* handle = this->handle();
  if (handle == nullptr) return;
  boost::system::error_code ec;
  std::size_t n = handle->read_some(net::buffer(buffer.data(), buffer.size()), ec);
  if (would_block(ec) || ec == net::error::interrupted) return;
  if (ec == net::error::eof || (ec && this->is_end_of_file(ec))) {
    this->eof_seen_ = true;
    return this->on_eof();
  }
  if (ec) return this->lose(error_from_code(ec));
  if (lent_by != nullptr) {
    this->call("buffer_updated", [&] { lent_by->buffer_updated(n); });
  } else {
    this->call("data_received", [&] { this->data_protocol_->data_received({buffer.data(), n}); });
  }
}

template class StreamReading<Transport, StreamSocket>;      // stream sockets
template class StreamReading<ReadTransport, Descriptor>;    // read pipes

}  // namespace loopspec::asio
