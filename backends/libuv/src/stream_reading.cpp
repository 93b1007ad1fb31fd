#include "loopspec/libuv/stream_reading.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "loopspec/libuv/uv_error.hpp"

namespace loopspec::libuv {

template <class Interface>
void StreamReading<Interface>::update_reading() {
  if (this->handle_busy()) return;  // done once libuv's read_cb ends the busy spell
  bool wanted = wants_reading();
  if (wanted == reading_) return;
  reading_ = wanted;
  bool polled = this->handle() != nullptr && this->handle()->type == UV_POLL;
  if (wanted) {
    int status = polled ? uv_poll_start(this->poll(), UV_READABLE, on_readable)
                        : uv_read_start(this->stream(), on_alloc, on_read);
    if (status < 0) {
      reading_ = false;
      this->lose(error_from_status(status));
    }
  } else if (polled) {
    uv_poll_stop(this->poll());
  } else if (this->stream() != nullptr) {
    uv_read_stop(this->stream());
  }
}

template <class Interface>
StreamReading<Interface>& StreamReading<Interface>::of(uv_handle_t* handle) {
  return static_cast<StreamReading&>(*HandleBox::owner_of(handle));
}

template <class Interface>
void StreamReading<Interface>::on_alloc(uv_handle_t* handle, size_t size_hint, uv_buf_t* buf) {
  *buf = of(handle).lend_buffer(size_hint);
}

template <class Interface>
uv_buf_t StreamReading<Interface>::lend_buffer(size_t size_hint) {
  // An empty buffer makes libuv report UV_ENOBUFS instead of reading.
  const uv_buf_t none = uv_buf_init(nullptr, 0);
  lent_to_ = nullptr;
  if (this->buffered_protocol_ == nullptr) {
    auto buffer = this->loop_->read_buffer().subspan(1, UvLoop::kReadBufferSize);
    return uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
  }
  auto protocol = this->protocol_;  // set_protocol inside the callback must not free it mid-call
  BufferedProtocol* buffered = this->buffered_protocol_;
  std::span<char> buffer;
  this->begin_busy();  // until on_read(UV_ENOBUFS), unless a buffer is lent
  if (!this->call("get_buffer", [&] { buffer = buffered->get_buffer(static_cast<std::int64_t>(size_hint)); })) {
    return none;
  }
  if (buffer.empty()) {
    Error error{"RuntimeError", 0, "get_buffer() returned an empty buffer"};
    this->loop_->report_exception("get_buffer", error);
    this->lose(error);
    return none;
  }
  if (!wants_reading()) return none;  // get_buffer paused reading or closed the transport
  this->end_busy();
  lent_to_ = buffered;
  return uv_buf_init(buffer.data(), static_cast<unsigned>(std::min<std::size_t>(buffer.size(), UINT32_MAX)));
}

template <class Interface>
void StreamReading<Interface>::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  of(reinterpret_cast<uv_handle_t*>(stream)).delivered(nread, *buf);
}

template <class Interface>
void StreamReading<Interface>::on_readable(uv_poll_t* poll, int status, int) {
  auto& self = of(reinterpret_cast<uv_handle_t*>(poll));
  if (status < 0) return self.delivered(status, uv_buf_t{});
  self.read_once();
}

template <class Interface>
int StreamReading<Interface>::pending_socket_error() const {
  uv_os_fd_t fd = -1;
  if (this->handle() == nullptr || uv_fileno(this->handle(), &fd) != 0) return 0;
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return 0;  // not a socket: a pipe
  return error;
}

// What libuv's stream reading does, once per readiness, with its statuses.
template <class Interface>
void StreamReading<Interface>::read_once() {
  uv_buf_t buffer = lend_buffer(64 * 1024);
  if (buffer.len == 0) return delivered(UV_ENOBUFS, buffer);
  uv_os_fd_t fd = -1;
  uv_fileno(this->handle(), &fd);
  ssize_t n;
  do {
    n = ::read(fd, buffer.base, buffer.len);
  } while (n < 0 && errno == EINTR);
  if (n > 0) return delivered(n, buffer);
  if (n == 0) return delivered(UV_EOF, buffer);
  delivered(errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno, buffer);
}

template <class Interface>
void StreamReading<Interface>::delivered(ssize_t nread, const uv_buf_t& buf) {
  BufferedProtocol* lent_to = std::exchange(lent_to_, nullptr);
  if (nread == UV_ENOBUFS) {
    // lend_buffer refused (paused, closed or failed): now libuv may hear of it.
    this->end_busy();
    return update_reading();
  }
  // 0: the read would block.
  if (nread == 0 || this->phase_ != Base::Phase::Open) return;
  if (nread == UV_EOF) {
    // libuv takes a hang-up after a partial read for the end of the stream without reading on
    // (uv__stream_io): a reset behind the bytes read leaves its error pending on the socket unread.
    // A reset is not an EOF.
    if (int pending = pending_socket_error(); pending != 0) return this->lose(error_from_status(-pending));
  }
  if (nread == UV_EOF || (nread < 0 && this->is_end_of_file(static_cast<int>(nread)))) {
    this->eof_seen_ = true;
    update_reading();
    return this->on_eof();
  }
  if (nread < 0) return this->lose(error_from_status(static_cast<int>(nread)));
  auto protocol = this->protocol_;
  auto size = static_cast<std::size_t>(nread);
  if (lent_to != nullptr) {
    this->call("buffer_updated", [&] { lent_to->buffer_updated(size); });
  } else {
    this->call("data_received", [&] { this->data_protocol_->data_received({buf.base, size}); });
  }
}

template class StreamReading<Transport>;      // stream sockets
template class StreamReading<ReadTransport>;  // read pipes

}  // namespace loopspec::libuv
