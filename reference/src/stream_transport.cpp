#include "loopspec/reference/stream_transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "loopspec/kit/exception_error.hpp"
#include "loopspec/reference/socket_address.hpp"

namespace loopspec::reference {

// ---- creation ----

std::shared_ptr<StreamTransport> StreamTransport::start(EpollLoop& loop, int fd,
                                                        std::shared_ptr<StreamProtocol> protocol,
                                                        Completion<Transport> done) {
  return create<StreamTransport>(std::move(protocol), std::move(done), Passkey{}, loop, fd);
}

StreamTransport::StreamTransport(Passkey, EpollLoop& loop, int fd)
    : StreamWriting(loop, fd, "a stream transport needs a Protocol or a BufferedProtocol") {
  socklen_t length = sizeof family_;
  ::getsockopt(fd_, SOL_SOCKET, SO_DOMAIN, &family_, &length);
  if (family_ == AF_INET || family_ == AF_INET6) {
    // Small writes go out without waiting for the peer's ACK, as asyncio does.
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (auto address = local_address(fd_)) sockname_ = to_json(*address);
  if (auto address = peer_address(fd_)) peername_ = to_json(*address);
}

// ---- BaseTransport ----

std::optional<nlohmann::json> StreamTransport::get_extra_info(std::string_view name) {
  if (name == "peername") return peername_;
  if (name == "sockname") return sockname_;
  if (name == "socket") {
    return nlohmann::json{{"fd", fd_}, {"family", family_name(family_)}, {"type", "SOCK_STREAM"}};
  }
  return std::nullopt;
}

bool StreamTransport::is_closing() {
  // Fault: not-closing-after-close
  if (faults_.not_closing_after_close) return false;
  return phase_ != Phase::Open;
}

void StreamTransport::close() {
  // Fault: lost-twice
  if (faults_.lost_twice && aborted_ && protocol_) {
    loop_->call_soon([protocol = protocol_] { protocol->connection_lost(std::nullopt); });
    return;
  }
  if (phase_ != Phase::Open) return;
  // Fault: lost-error-on-close
  if (faults_.lost_error_on_close) close_error_ = Error{"OSError", 0, "connection closed (injected fault)"};
  // Fault: close-drops-buffer
  if (faults_.close_drops_buffer) queue_.clear();
  if (queue_.empty()) {
    lose(close_error_);
    return;
  }
  phase_ = Phase::Closing;
  update_reading();
}

void StreamTransport::abort() {
  aborted_ = true;
  if (ending()) return;
  // Fault: abort-without-lost
  if (faults_.abort_without_lost) {
    auto self = shared_from_this();  // release() drops the loop's reference
    release();
    return;
  }
  lose(std::nullopt);
}

// ---- reading ----

void StreamTransport::pause_reading() {
  // Fault: pause-reading-raises-twice
  if (faults_.pause_reading_raises_twice && phase_ == Phase::Open && paused_) {
    throw ContractError(Error{"RuntimeError", 0, "Already paused"});
  }
  // Fault: pause-reading-ignored (reports paused, goes on reading)
  if (faults_.pause_reading_ignored) {
    if (phase_ == Phase::Open) paused_ = true;
    return;
  }
  Reading::pause_reading();
}

void StreamTransport::resume_reading() {
  // Fault: resume-reading-noop (reports reading, reads nothing)
  if (faults_.resume_reading_noop) {
    if (phase_ == Phase::Open) paused_ = false;
    return;
  }
  Reading::resume_reading();
}

void StreamTransport::on_readable() {
  // Fault: data-after-eof
  if (faults_.data_after_eof && buffered_protocol_ == nullptr && phase_ == Phase::Open) {
    return read_holding_last_byte();
  }
  Reading::on_readable();
}

ssize_t StreamTransport::read_some(std::span<char> into) { return ::recv(fd_, into.data(), into.size(), 0); }

// Fault: data-after-eof. The last byte received so far is always held back
// (in front of the next read), and handed over only after eof_received.
void StreamTransport::read_holding_last_byte() {
  auto buffer = loop_->read_buffer();
  std::size_t held = held_byte_ ? 1 : 0;
  if (held_byte_) buffer[0] = *held_byte_;
  auto n = receive(buffer.subspan(1, EpollLoop::kReadBufferSize));
  if (!n) return;
  if (*n == 0) return end_of_file();
  auto data = buffer.subspan(1 - held, held + *n);
  held_byte_ = data.back();
  if (data.size() == 1) return;
  auto protocol = protocol_;
  call("data_received", [&] { data_protocol_->data_received({data.data(), data.size() - 1}); });
}

void StreamTransport::deliver_held_byte() {
  if (!held_byte_ || data_protocol_ == nullptr || ending()) return;
  char byte = *held_byte_;
  held_byte_.reset();
  call("data_received", [&] { data_protocol_->data_received({&byte, 1}); });
}

void StreamTransport::on_eof() {
  auto protocol = protocol_;
  // Fault: empty-data-received
  if (faults_.empty_data_received && data_protocol_ != nullptr) {
    if (!call("data_received", [&] { data_protocol_->data_received({}); })) return;
  }
  bool keep_open = false;
  if (!call("eof_received", [&] { keep_open = protocol->eof_received(); })) return;
  // Fault: eof-twice
  if (faults_.eof_twice && !call("eof_received", [&] { keep_open = protocol->eof_received(); })) return;
  // Fault: data-after-eof
  if (faults_.data_after_eof) deliver_held_byte();
  // Fault: eof-false-stays-open
  if (faults_.eof_false_stays_open) keep_open = true;
  // Fault: eof-true-closes
  if (faults_.eof_true_closes) keep_open = false;
  if (!keep_open) close();
}

// ---- writing ----

std::size_t StreamTransport::get_write_buffer_size() {
  // Fault: buffer-size-zero
  if (faults_.buffer_size_zero) return 0;
  return queue_.size();
}

void StreamTransport::check_writable() const {
  if (eof_requested_) throw ContractError(Error{"RuntimeError", 0, "Cannot call write() after write_eof()"});
}

void StreamTransport::write(std::string_view data) {
  check_writable();
  if (data.empty()) return;
  const std::string_view pieces[] = {data};
  // Fault: writev-reorder (newest chunk first)
  write_pieces(pieces, faults_.writev_reorder);
}

void StreamTransport::writelines(std::span<const std::string_view> list_of_data) {
  // Fault: writelines-drops-last
  if (faults_.writelines_drops_last && !list_of_data.empty())
    list_of_data = list_of_data.first(list_of_data.size() - 1);
  check_writable();
  // Fault: writev-reorder (newest chunk first)
  write_pieces(list_of_data, faults_.writev_reorder);
}

ssize_t StreamTransport::write_gather(const iovec* iov, std::size_t count) {
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(iov);
  message.msg_iovlen = count;
  for (;;) {
    ssize_t sent = ::sendmsg(fd_, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0 || errno != EINTR) return sent;
  }
}

void StreamTransport::on_drained() {
  if (phase_ == Phase::Closing) {
    lose(close_error_);
  } else if (eof_requested_) {
    shutdown_write();
  }
}

void StreamTransport::write_eof() {
  if (phase_ != Phase::Open || eof_requested_) return;
  eof_requested_ = true;
  // Fault: write-eof-before-flush
  if (faults_.write_eof_before_flush) {
    queue_.clear();
    loop_->set_writing(fd_, false);
  }
  if (queue_.empty()) shutdown_write();
}

void StreamTransport::shutdown_write() {
  if (eof_sent_) return;
  eof_sent_ = true;
  // A failure means the peer is gone; the next read or write reports that.
  ::shutdown(fd_, SHUT_WR);
}

// ---- starting a connection ----

void start_stream_connection(EpollLoop& loop, int fd, const StreamProtocolFactory& factory,
                             Completion<Transport> done) {
  auto report = [&](const Error& error) {
    if (done) {
      loop.call_soon([done, error] { done(Outcome<Transport>{nullptr, error}); });
    } else {
      loop.report_exception("protocol factory", error);
    }
  };
  std::shared_ptr<StreamProtocol> protocol;
  try {
    protocol = factory();
  } catch (...) {
    ::close(fd);
    return report(kit::error_from_current_exception());
  }
  if (!protocol) {
    ::close(fd);
    return report(Error{"TypeError", 0, "the protocol factory returned no protocol"});
  }
  try {
    StreamTransport::start(loop, fd, std::move(protocol), done);
  } catch (const ContractError& e) {
    report(e.error());  // the transport owned fd and closed it
  }
}

}  // namespace loopspec::reference
