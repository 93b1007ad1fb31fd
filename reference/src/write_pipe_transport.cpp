#include "loopspec/reference/write_pipe_transport.hpp"

#include <unistd.h>

#include <cerrno>

#include "loopspec/reference/protocol_call.hpp"

namespace loopspec::reference {

namespace {

constexpr std::size_t kMaxIov = 64;

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

template <class F>
bool WritePipeTransport::call(const char* name, F&& callback) {
  return call_protocol(loop_, name, std::forward<F>(callback), [this](const Error& error) { lose(error); });
}

// ---- creation and teardown ----

std::shared_ptr<WritePipeTransport> WritePipeTransport::start(EpollLoop& loop, int fd, PipeKind kind,
                                                              std::shared_ptr<BaseProtocol> protocol,
                                                              Completion<WriteTransport> done) {
  auto transport = std::make_shared<WritePipeTransport>(Passkey{}, loop, fd, kind);
  transport->set_protocol(std::move(protocol));
  loop.watch_fd(fd, transport);
  loop.call_soon([transport, done = std::move(done)] {
    transport->deliver_connection_made();
    if (done) done(Outcome<WriteTransport>{transport, std::nullopt});
  });
  return transport;
}

WritePipeTransport::WritePipeTransport(Passkey, EpollLoop& loop, int fd, PipeKind kind)
    : loop_(&loop), faults_(loop.faults()), fd_(fd), kind_(kind) {}

WritePipeTransport::~WritePipeTransport() {
  if (fd_ >= 0) ::close(fd_);
}

void WritePipeTransport::deliver_connection_made() {
  if (phase_ == Phase::Lost) return;
  made_ = true;
  auto protocol = protocol_;
  if (!call("connection_made", [&] { protocol->connection_made(shared_from_this()); })) return;
  // The reader going away shows as an error on the write end; a character
  // device does not report it (CPython watches pipes and sockets only).
  if (phase_ != Phase::LostPending && phase_ != Phase::Lost && kind_ != PipeKind::CharacterDevice) {
    loop_->set_reading(fd_, true);
  }
}

void WritePipeTransport::lose(const MaybeError& exc) {
  if (phase_ == Phase::LostPending || phase_ == Phase::Lost) return;
  phase_ = Phase::LostPending;
  queue_.clear();
  loop_->set_reading(fd_, false);
  loop_->set_writing(fd_, false);
  loop_->call_soon([self = shared_from_this(), exc] { self->deliver_connection_lost(exc); });
}

void WritePipeTransport::deliver_connection_lost(const MaybeError& exc) {
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

void WritePipeTransport::release() {
  phase_ = Phase::Lost;
  queue_.clear();
  if (fd_ >= 0) {
    if (loop_ != nullptr) loop_->unwatch_fd(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  protocol_.reset();
}

void WritePipeTransport::on_loop_destroyed() {
  loop_ = nullptr;
  release();
}

// ---- BaseTransport ----

std::optional<nlohmann::json> WritePipeTransport::get_extra_info(std::string_view name) {
  if (name == "pipe") return pipe_extra_info(fd_);
  return std::nullopt;
}

void WritePipeTransport::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  if (!protocol) throw ContractError(Error{"TypeError", 0, "a write pipe transport needs a protocol"});
  if (phase_ == Phase::Lost) return;
  protocol_ = std::move(protocol);
}

// ---- writing ----

void WritePipeTransport::write(std::string_view data) {
  if (data.empty()) return;
  const std::string_view pieces[] = {data};
  write_pieces(pieces);
}

void WritePipeTransport::writelines(std::span<const std::string_view> list_of_data) { write_pieces(list_of_data); }

void WritePipeTransport::write_pieces(std::span<const std::string_view> pieces) {
  if (phase_ != Phase::Open) return;  // after write_eof()/close()/abort(): dropped silently
  std::size_t index = 0;
  std::size_t offset = 0;
  if (queue_.empty()) {
    iovec iov[kMaxIov];
    std::size_t count = 0;
    for (std::size_t i = 0; i < pieces.size() && count < kMaxIov; ++i) {
      if (!pieces[i].empty()) iov[count++] = iovec{const_cast<char*>(pieces[i].data()), pieces[i].size()};
    }
    if (count == 0) return;
    ssize_t written = writev_without_sigpipe(fd_, iov, static_cast<int>(count));
    if (written < 0 && !would_block(errno)) return lose(Error::from_errno(errno));
    for (auto left = static_cast<std::size_t>(written < 0 ? 0 : written); left > 0 && index < pieces.size();) {
      std::size_t rest = pieces[index].size() - offset;
      if (left < rest) {
        offset += left;
        break;
      }
      left -= rest;
      ++index;
      offset = 0;
    }
  }
  std::size_t before = queue_.size();
  for (; index < pieces.size(); ++index, offset = 0) queue_.append(pieces[index].substr(offset));
  if (queue_.size() == before) return;
  loop_->set_writing(fd_, true);
  maybe_pause();
}

void WritePipeTransport::on_writable() { flush(); }

void WritePipeTransport::flush() {
  if (phase_ != Phase::Open && phase_ != Phase::Closing) return;
  if (!queue_.empty()) {
    iovec iov[kMaxIov];
    ssize_t written = writev_without_sigpipe(fd_, iov, static_cast<int>(queue_.gather(iov, kMaxIov)));
    if (written < 0) {
      if (!would_block(errno)) lose(Error::from_errno(errno));
      return;
    }
    queue_.consume(static_cast<std::size_t>(written));
    maybe_resume();  // the protocol may write more from resume_writing
    if (phase_ != Phase::Open && phase_ != Phase::Closing) return;
    if (!queue_.empty()) return;
  }
  loop_->set_writing(fd_, false);
  // Fault: pipe-write-eof-keeps-open
  if (phase_ == Phase::Closing && !faults_.pipe_write_eof_keeps_open) lose(std::nullopt);
}

void WritePipeTransport::write_eof() {
  if (phase_ != Phase::Open) return;
  phase_ = Phase::Closing;
  if (queue_.empty()) flush();
}

void WritePipeTransport::abort() {
  // Fault: pipe-abort-flushes
  if (faults_.pipe_abort_flushes) return write_eof();
  lose(std::nullopt);
}

void WritePipeTransport::on_readable() {
  if (phase_ != Phase::Open && phase_ != Phase::Closing) return;
  // The reader went away. Data still queued is lost: that is a broken pipe.
  bool data_lost = !queue_.empty();
  // Fault: pipe-reader-gone-none
  if (faults_.pipe_reader_gone_none) data_lost = false;
  lose(data_lost ? MaybeError(Error::from_errno(EPIPE)) : std::nullopt);
}

void WritePipeTransport::set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) {
  flow_.set_limits(high, low);
  maybe_pause();
  maybe_resume();
}

void WritePipeTransport::maybe_pause() {
  if (!made_ || phase_ == Phase::LostPending || phase_ == Phase::Lost) return;
  if (!flow_.should_pause(queue_.size())) return;
  auto protocol = protocol_;
  call("pause_writing", [&] { protocol->pause_writing(); });
}

void WritePipeTransport::maybe_resume() {
  if (!made_ || phase_ == Phase::LostPending || phase_ == Phase::Lost) return;
  if (!flow_.should_resume(queue_.size())) return;
  auto protocol = protocol_;
  call("resume_writing", [&] { protocol->resume_writing(); });
}

}  // namespace loopspec::reference
