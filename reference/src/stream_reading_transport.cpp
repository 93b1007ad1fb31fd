#include "loopspec/reference/stream_reading_transport.hpp"

#include <cerrno>

namespace loopspec::reference {

template <class Interface>
void StreamReadingTransport<Interface>::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto stream = std::dynamic_pointer_cast<StreamProtocol>(protocol);
  auto* data = dynamic_cast<Protocol*>(stream.get());
  auto* buffered = dynamic_cast<BufferedProtocol*>(stream.get());
  if (data == nullptr && buffered == nullptr) throw ContractError(this->wrong_protocol());
  if (!this->adopt_protocol(std::move(stream))) return;
  data_protocol_ = data;
  buffered_protocol_ = buffered;
}

template <class Interface>
void StreamReadingTransport<Interface>::on_released() {
  data_protocol_ = nullptr;
  buffered_protocol_ = nullptr;
}

template <class Interface>
void StreamReadingTransport<Interface>::pause_reading() {
  if (this->phase_ != Base::Phase::Open || paused_) return;
  paused_ = true;
  update_reading();
}

template <class Interface>
void StreamReadingTransport<Interface>::resume_reading() {
  if (this->phase_ != Base::Phase::Open || !paused_) return;
  paused_ = false;
  update_reading();
}

template <class Interface>
void StreamReadingTransport<Interface>::update_reading() {
  if (this->loop_ == nullptr || this->fd_ < 0) return;
  this->loop_->set_reading(this->fd_, this->phase_ == Base::Phase::Open && this->made_ && !paused_ && !eof_seen_);
}

template <class Interface>
void StreamReadingTransport<Interface>::on_readable() {
  if (this->phase_ != Base::Phase::Open) return;
  if (buffered_protocol_ != nullptr) {
    read_into_protocol_buffer();
  } else {
    read_into_loop_buffer();
  }
}

template <class Interface>
std::optional<std::size_t> StreamReadingTransport<Interface>::receive(std::span<char> into) {
  for (;;) {
    ssize_t n = read_some(into);
    if (n >= 0) return static_cast<std::size_t>(n);
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return std::nullopt;
    if (is_end_of_file(err)) return 0;
    this->lose(Error::from_errno(err));
    return std::nullopt;
  }
}

template <class Interface>
void StreamReadingTransport<Interface>::read_into_loop_buffer() {
  auto buffer = this->loop_->read_buffer().subspan(1, EpollLoop::kReadBufferSize);
  auto n = receive(buffer);
  if (!n) return;
  if (*n == 0) return end_of_file();
  auto protocol = this->protocol_;  // set_protocol inside the callback must not free it mid-call
  this->call("data_received", [&] { data_protocol_->data_received({buffer.data(), *n}); });
}

template <class Interface>
void StreamReadingTransport<Interface>::read_into_protocol_buffer() {
  auto protocol = this->protocol_;
  BufferedProtocol* buffered = buffered_protocol_;  // the one whose buffer is filled
  std::span<char> buffer;
  if (!this->call("get_buffer", [&] { buffer = buffered->get_buffer(-1); })) return;
  if (buffer.empty()) {
    Error error{"RuntimeError", 0, "get_buffer() returned an empty buffer"};
    this->loop_->report_exception("get_buffer", error);
    return this->lose(error);
  }
  // get_buffer may have paused reading or closed the transport.
  if (this->phase_ != Base::Phase::Open || !this->loop_->is_reading_fd(this->fd_)) return;
  auto n = receive(buffer);
  if (!n) return;
  if (*n == 0) return end_of_file();
  this->call("buffer_updated", [&] { buffered->buffer_updated(*n); });
}

template <class Interface>
void StreamReadingTransport<Interface>::end_of_file() {
  eof_seen_ = true;
  update_reading();
  on_eof();
}

template class StreamReadingTransport<Transport>;      // stream sockets
template class StreamReadingTransport<ReadTransport>;  // read pipes

}  // namespace loopspec::reference
