#include "loopspec/reference/stream_transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "loopspec/reference/exception_error.hpp"
#include "loopspec/reference/socket_address.hpp"

namespace loopspec::reference {

namespace {

constexpr std::size_t kMaxIov = 64;

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

template <class F>
bool StreamTransport::call_protocol(const char* name, F&& callback) {
  try {
    callback();
    return true;
  } catch (...) {
    protocol_failed(name, error_from_current_exception());
    return false;
  }
}

// ---- creation and teardown ----

std::shared_ptr<StreamTransport> StreamTransport::start(EpollLoop& loop, int fd,
                                                        std::shared_ptr<StreamProtocol> protocol,
                                                        Completion<Transport> done) {
  auto transport = std::make_shared<StreamTransport>(Passkey{}, loop, fd);
  transport->set_protocol(std::move(protocol));
  loop.watch_fd(fd, transport);
  loop.call_soon([transport, done = std::move(done)] {
    transport->deliver_connection_made();
    if (done) done(Outcome<Transport>{transport, std::nullopt});
  });
  return transport;
}

StreamTransport::StreamTransport(Passkey, EpollLoop& loop, int fd) : loop_(&loop), faults_(loop.faults()), fd_(fd) {
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

StreamTransport::~StreamTransport() {
  // Only reached with an open fd when start() failed before the loop watched it.
  if (fd_ >= 0) ::close(fd_);
}

void StreamTransport::deliver_connection_made() {
  if (phase_ == Phase::Lost) return;
  made_ = true;
  auto protocol = protocol_;
  call_protocol("connection_made", [&] { protocol->connection_made(shared_from_this()); });
  update_reading();
}

void StreamTransport::lose(const MaybeError& exc) {
  if (phase_ == Phase::LostPending || phase_ == Phase::Lost) return;
  phase_ = Phase::LostPending;
  queue_.clear();
  loop_->set_reading(fd_, false);
  loop_->set_writing(fd_, false);
  loop_->call_soon([self = shared_from_this(), exc] { self->deliver_connection_lost(exc); });
}

void StreamTransport::deliver_connection_lost(const MaybeError& exc) {
  if (phase_ == Phase::Lost) return;
  if (auto protocol = protocol_) {
    try {
      protocol->connection_lost(exc);
    } catch (...) {
      loop_->report_exception("connection_lost", error_from_current_exception());
    }
  }
  release();
}

void StreamTransport::release() {
  phase_ = Phase::Lost;
  queue_.clear();
  if (fd_ >= 0) {
    if (loop_ != nullptr) loop_->unwatch_fd(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  protocol_.reset();
  data_protocol_ = nullptr;
  buffered_protocol_ = nullptr;
}

void StreamTransport::on_loop_destroyed() {
  loop_ = nullptr;
  release();
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
  if (phase_ == Phase::LostPending || phase_ == Phase::Lost) return;
  // Fault: abort-without-lost
  if (faults_.abort_without_lost) {
    auto self = shared_from_this();  // release() drops the loop's reference
    release();
    return;
  }
  lose(std::nullopt);
}

void StreamTransport::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto stream = std::dynamic_pointer_cast<StreamProtocol>(protocol);
  auto* data = dynamic_cast<Protocol*>(stream.get());
  auto* buffered = dynamic_cast<BufferedProtocol*>(stream.get());
  if (data == nullptr && buffered == nullptr) {
    throw ContractError(Error{"TypeError", 0, "a stream transport needs a Protocol or a BufferedProtocol"});
  }
  if (phase_ == Phase::Lost) return;
  protocol_ = std::move(stream);
  data_protocol_ = data;
  buffered_protocol_ = buffered;
}

void StreamTransport::protocol_failed(const char* name, const Error& error) {
  if (loop_ != nullptr) loop_->report_exception(name, error);
  lose(error);
}

// ---- reading ----

bool StreamTransport::is_reading() { return phase_ == Phase::Open && !paused_; }

void StreamTransport::pause_reading() {
  if (phase_ != Phase::Open) return;
  if (paused_) {
    // Fault: pause-reading-raises-twice
    if (faults_.pause_reading_raises_twice) throw ContractError(Error{"RuntimeError", 0, "Already paused"});
    return;
  }
  paused_ = true;
  // Fault: pause-reading-ignored
  if (!faults_.pause_reading_ignored) update_reading();
}

void StreamTransport::resume_reading() {
  if (phase_ != Phase::Open || !paused_) return;
  paused_ = false;
  // Fault: resume-reading-noop
  if (!faults_.resume_reading_noop) update_reading();
}

void StreamTransport::update_reading() {
  if (loop_ == nullptr || fd_ < 0) return;
  loop_->set_reading(fd_, phase_ == Phase::Open && made_ && !paused_ && !eof_seen_);
}

void StreamTransport::on_readable() {
  if (phase_ != Phase::Open) return;
  if (buffered_protocol_ != nullptr) {
    read_into_protocol_buffer();
  } else if (faults_.data_after_eof) {  // Fault: data-after-eof
    read_holding_last_byte();
  } else {
    read_into_loop_buffer();
  }
}

std::optional<std::size_t> StreamTransport::receive(std::span<char> into) {
  for (;;) {
    ssize_t n = ::recv(fd_, into.data(), into.size(), 0);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (!would_block(errno)) lose(Error::from_errno(errno));
    return std::nullopt;
  }
}

void StreamTransport::read_into_loop_buffer() {
  auto buffer = loop_->read_buffer().subspan(1, EpollLoop::kReadBufferSize);
  auto n = receive(buffer);
  if (!n) return;
  if (*n == 0) return on_eof();
  auto protocol = protocol_;  // set_protocol inside the callback must not free it mid-call
  call_protocol("data_received", [&] { data_protocol_->data_received({buffer.data(), *n}); });
}

void StreamTransport::read_into_protocol_buffer() {
  auto protocol = protocol_;
  BufferedProtocol* buffered = buffered_protocol_;  // the one whose buffer is filled
  std::span<char> buffer;
  if (!call_protocol("get_buffer", [&] { buffer = buffered->get_buffer(-1); })) return;
  if (buffer.empty()) {
    protocol_failed("get_buffer", Error{"RuntimeError", 0, "get_buffer() returned an empty buffer"});
    return;
  }
  // get_buffer may have paused reading or closed the transport.
  if (phase_ != Phase::Open || !loop_->is_reading_fd(fd_)) return;
  auto n = receive(buffer);
  if (!n) return;
  if (*n == 0) return on_eof();
  call_protocol("buffer_updated", [&] { buffered->buffer_updated(*n); });
}

// Fault: data-after-eof. The last byte received so far is always held back
// (in front of the next read), and handed over only after eof_received.
void StreamTransport::read_holding_last_byte() {
  auto buffer = loop_->read_buffer();
  std::size_t held = held_byte_ ? 1 : 0;
  if (held_byte_) buffer[0] = *held_byte_;
  auto n = receive(buffer.subspan(1, EpollLoop::kReadBufferSize));
  if (!n) return;
  if (*n == 0) return on_eof();
  auto data = buffer.subspan(1 - held, held + *n);
  held_byte_ = data.back();
  if (data.size() == 1) return;
  auto protocol = protocol_;
  call_protocol("data_received", [&] { data_protocol_->data_received({data.data(), data.size() - 1}); });
}

void StreamTransport::deliver_held_byte() {
  if (!held_byte_ || data_protocol_ == nullptr || phase_ == Phase::LostPending || phase_ == Phase::Lost) return;
  char byte = *held_byte_;
  held_byte_.reset();
  call_protocol("data_received", [&] { data_protocol_->data_received({&byte, 1}); });
}

void StreamTransport::on_eof() {
  eof_seen_ = true;
  update_reading();
  auto protocol = protocol_;
  // Fault: empty-data-received
  if (faults_.empty_data_received && data_protocol_ != nullptr) {
    if (!call_protocol("data_received", [&] { data_protocol_->data_received({}); })) return;
  }
  bool keep_open = false;
  if (!call_protocol("eof_received", [&] { keep_open = protocol->eof_received(); })) return;
  // Fault: eof-twice
  if (faults_.eof_twice && !call_protocol("eof_received", [&] { keep_open = protocol->eof_received(); })) return;
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
  send_or_queue(pieces);
}

void StreamTransport::writelines(std::span<const std::string_view> list_of_data) {
  // Fault: writelines-drops-last
  if (faults_.writelines_drops_last && !list_of_data.empty())
    list_of_data = list_of_data.first(list_of_data.size() - 1);
  check_writable();
  send_or_queue(list_of_data);
}

void StreamTransport::send_or_queue(std::span<const std::string_view> pieces) {
  if (phase_ != Phase::Open) return;  // after close()/abort(): dropped silently
  std::size_t index = 0;
  std::size_t offset = 0;
  if (queue_.empty() && !send_now(pieces, index, offset)) return;
  std::size_t before = queue_.size();
  for (; index < pieces.size(); ++index, offset = 0) {
    // Fault: writev-reorder (newest chunk first)
    if (faults_.writev_reorder) {
      queue_.prepend_unsent(pieces[index].substr(offset));
    } else {
      queue_.append(pieces[index].substr(offset));
    }
  }
  if (queue_.size() == before) return;
  loop_->set_writing(fd_, true);
  maybe_pause();
}

bool StreamTransport::send_now(std::span<const std::string_view> pieces, std::size_t& index, std::size_t& offset) {
  while (index < pieces.size()) {
    iovec iov[kMaxIov];
    std::size_t count = 0;
    std::size_t batch = 0;
    for (std::size_t i = index; i < pieces.size() && count < kMaxIov; ++i) {
      std::string_view piece = pieces[i].substr(i == index ? offset : 0);
      if (piece.empty()) continue;
      iov[count++] = iovec{const_cast<char*>(piece.data()), piece.size()};
      batch += piece.size();
    }
    if (count == 0) {
      index = pieces.size();
      return true;
    }
    long sent = send_iov(iov, count);
    if (sent < 0) {
      if (would_block(errno)) return true;
      lose(Error::from_errno(errno));
      return false;
    }
    for (auto left = static_cast<std::size_t>(sent); left > 0;) {
      std::size_t rest = pieces[index].size() - offset;
      if (left < rest) {
        offset += left;
        break;
      }
      left -= rest;
      ++index;
      offset = 0;
    }
    if (static_cast<std::size_t>(sent) < batch) return true;
  }
  return true;
}

long StreamTransport::send_iov(const iovec* iov, std::size_t count) {
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(iov);
  message.msg_iovlen = count;
  for (;;) {
    ssize_t sent = ::sendmsg(fd_, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0 || errno != EINTR) return sent;
  }
}

void StreamTransport::on_writable() { flush(); }

void StreamTransport::flush() {
  if (phase_ != Phase::Open && phase_ != Phase::Closing) return;
  if (queue_.empty()) return loop_->set_writing(fd_, false);
  iovec iov[kMaxIov];
  long sent = send_iov(iov, queue_.gather(iov, kMaxIov));
  if (sent < 0) {
    if (!would_block(errno)) lose(Error::from_errno(errno));
    return;
  }
  queue_.consume(static_cast<std::size_t>(sent));
  maybe_resume();  // the protocol may write more from resume_writing
  if (phase_ != Phase::Open && phase_ != Phase::Closing) return;
  if (!queue_.empty()) return;
  loop_->set_writing(fd_, false);
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

void StreamTransport::set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) {
  flow_.set_limits(high, low);
  maybe_pause();
  maybe_resume();
}

void StreamTransport::maybe_pause() {
  if (!made_ || phase_ == Phase::LostPending || phase_ == Phase::Lost) return;
  if (!flow_.should_pause(queue_.size())) return;
  auto protocol = protocol_;
  call_protocol("pause_writing", [&] { protocol->pause_writing(); });
}

void StreamTransport::maybe_resume() {
  if (!made_ || phase_ == Phase::LostPending || phase_ == Phase::Lost) return;
  if (!flow_.should_resume(queue_.size())) return;
  auto protocol = protocol_;
  call_protocol("resume_writing", [&] { protocol->resume_writing(); });
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
    return report(error_from_current_exception());
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
