#include "loopspec/libuv/stream_transport.hpp"

#include <sys/socket.h>

#include "loopspec/libuv/endpoint_start.hpp"
#include "loopspec/libuv/uv_address.hpp"

namespace loopspec::libuv {

StreamTransport::StreamTransport(UvLoop& loop, HandleBox* box)
    : StreamWriting(loop, box, "a stream transport needs a Protocol or a BufferedProtocol") {
  // Small writes go out without waiting for the peer's ACK, as asyncio does.
  if (handle()->type == UV_TCP) uv_tcp_nodelay(&box->tcp, 1);
}

// ---- BaseTransport ----

bool StreamTransport::is_closing() {
  // Fault: not-closing-after-close
  if (faults_.not_closing_after_close) return false;
  return phase_ != Phase::Open;
}

void StreamTransport::close() {
  if (phase_ != Phase::Open) return;
  // Fault: close-drops-buffer
  if (drained() || faults_.close_drops_buffer) return lose(std::nullopt);
  phase_ = Phase::Closing;
  update_reading();
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
  if (!keep_open) close();
}

// ---- writing ----

void StreamTransport::check_writable() const {
  if (eof_requested_) throw ContractError(Error{"RuntimeError", 0, "Cannot call write() after write_eof()"});
}

void StreamTransport::write(std::string_view data) {
  check_writable();
  const std::string_view pieces[] = {data};
  write_pieces(pieces);
}

void StreamTransport::writelines(std::span<const std::string_view> list_of_data) {
  check_writable();
  write_pieces(list_of_data);
}

void StreamTransport::on_drained() {
  if (phase_ == Phase::Closing) return lose(std::nullopt);
  if (eof_requested_) shutdown_write();
}

void StreamTransport::write_eof() {
  if (phase_ != Phase::Open || eof_requested_) return;
  eof_requested_ = true;
  if (drained()) shutdown_write();
}

void StreamTransport::shutdown_write() {
  if (shutdown_started_) return;
  shutdown_started_ = true;
  // A failure means the peer is gone; the next read or write reports that.
  uv_shutdown(&shutdown_request_, stream(), on_shutdown);
}

// ---- starting a connection ----

void start_stream_connection(UvLoop& loop, HandleBox* box, const StreamProtocolFactory& factory,
                             Completion<Transport> done) {
  start_endpoint<StreamTransport>(loop, box, factory, std::move(done));
}

}  // namespace loopspec::libuv
