#include "loopspec/asio/stream_transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace loopspec::asio {

StreamTransport::StreamTransport(AsioLoop& loop, StreamSocket socket)
    : StreamWriting(loop, std::move(socket), "a stream transport needs a Protocol or a BufferedProtocol") {
  // Small writes go out without waiting for the peer's ACK, as asyncio does.
  boost::system::error_code ec;
  if (auto* socket = handle(); socket != nullptr && socket->local_endpoint(ec).protocol().family() != AF_UNIX && !ec) {
    int one = 1;
    ::setsockopt(socket->native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
}

// ---- BaseTransport ----

bool StreamTransport::is_closing() {
  // Fault: not-closing-after-close
  if (faults_.not_closing_after_close) return false;
  return phase_ != Phase::Open;
}

void StreamTransport::close() {
  if (phase_ != Phase::Open) return;
  // Fault: lost-error-on-close
  if (faults_.lost_error_on_close) close_error_ = Error{"OSError", 0, "connection closed (injected fault)"};
  // Fault: close-drops-buffer
  if (drained() || faults_.close_drops_buffer) return lose(close_error_);
  phase_ = Phase::Closing;  // reading stops: no wait is started any more, one outstanding reads nothing
}

void StreamTransport::abort() {
  if (!ending()) lose(std::nullopt);
}

// ---- reading ----

void StreamTransport::on_eof() {
  auto protocol = protocol_;
  bool keep_open = false;
  if (!call("eof_received", [&] { keep_open = protocol->eof_received(); })) return;
  // Fault: eof-twice
  if (faults_.eof_twice && !call("eof_received", [&] { keep_open = protocol->eof_received(); })) return;
  // Fault: empty-data-received
  if (faults_.empty_data_received && data_protocol_ != nullptr) {
    if (!call("data_received", [&] { data_protocol_->data_received({}); })) return;
  }
  // Fault: eof-false-stays-open
  if (faults_.eof_false_stays_open) keep_open = true;
  // Fault: eof-true-closes
  if (faults_.eof_true_closes) keep_open = false;
  if (!keep_open) close();
}

// ---- reading control ----

void StreamTransport::pause_reading() {
  // Fault: pause-reading-raises-twice
  if (faults_.pause_reading_raises_twice && phase_ == Phase::Open && paused_) {
    throw ContractError(Error{"RuntimeError", 0, "Already paused"});
  }
  StreamWriting::pause_reading();
}

// ---- writing ----

std::size_t StreamTransport::get_write_buffer_size() {
  // Fault: buffer-size-zero
  if (faults_.buffer_size_zero) return 0;
  return StreamWriting::get_write_buffer_size();
}

void StreamTransport::check_writable() const {
  if (eof_requested_) throw ContractError(Error{"RuntimeError", 0, "Cannot call write() after write_eof()"});
}

void StreamTransport::write(std::string_view data) {
  check_writable();
  const std::string_view pieces[] = {data};
  write_pieces(pieces);
}

void StreamTransport::writelines(std::span<const std::string_view> list_of_data) {
  // Fault: writelines-drops-last
  if (faults_.writelines_drops_last && !list_of_data.empty()) list_of_data = list_of_data.first(list_of_data.size() - 1);
  check_writable();
  write_pieces(list_of_data);
}

void StreamTransport::on_drained() {
  if (phase_ == Phase::Closing) return lose(close_error_);
  if (eof_requested_) shutdown_write();
}

void StreamTransport::write_eof() {
  if (phase_ != Phase::Open || eof_requested_) return;
  eof_requested_ = true;
  if (drained()) shutdown_write();
}

void StreamTransport::shutdown_write() {
  if (shutdown_done_ || handle() == nullptr) return;
  shutdown_done_ = true;
  // A failure means the peer is gone; the next read or write reports that.
  boost::system::error_code ignored;
  handle()->shutdown(StreamSocket::shutdown_send, ignored);
}

// ---- starting a connection ----

void start_stream_connection(AsioLoop& loop, StreamSocket socket, const StreamProtocolFactory& factory,
                             Completion<Transport> done) {
  start_endpoint<StreamTransport>(loop, std::move(socket), factory, std::move(done));
}

}  // namespace loopspec::asio
