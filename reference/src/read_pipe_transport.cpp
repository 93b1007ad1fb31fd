#include "loopspec/reference/read_pipe_transport.hpp"

#include <unistd.h>

#include <cerrno>

#include "loopspec/reference/protocol_call.hpp"

namespace loopspec::reference {

template <class F>
bool ReadPipeTransport::call(const char* name, F&& callback) {
  return call_protocol(loop_, name, std::forward<F>(callback), [this](const Error& error) { lose(error); });
}

// ---- creation and teardown ----

std::shared_ptr<ReadPipeTransport> ReadPipeTransport::start(EpollLoop& loop, int fd, PipeKind kind,
                                                            std::shared_ptr<StreamProtocol> protocol,
                                                            Completion<ReadTransport> done) {
  auto transport = std::make_shared<ReadPipeTransport>(Passkey{}, loop, fd, kind);
  transport->set_protocol(std::move(protocol));
  loop.watch_fd(fd, transport);
  loop.call_soon([transport, done = std::move(done)] {
    transport->deliver_connection_made();
    if (done) done(Outcome<ReadTransport>{transport, std::nullopt});
  });
  return transport;
}

ReadPipeTransport::ReadPipeTransport(Passkey, EpollLoop& loop, int fd, PipeKind kind)
    : loop_(&loop), faults_(loop.faults()), fd_(fd), kind_(kind) {}

ReadPipeTransport::~ReadPipeTransport() {
  if (fd_ >= 0) ::close(fd_);
}

void ReadPipeTransport::deliver_connection_made() {
  if (phase_ == Phase::Lost) return;
  made_ = true;
  auto protocol = protocol_;
  if (call("connection_made", [&] { protocol->connection_made(shared_from_this()); })) update_reading();
}

void ReadPipeTransport::lose(const MaybeError& exc) {
  if (phase_ != Phase::Open) return;
  phase_ = Phase::LostPending;
  update_reading();
  loop_->call_soon([self = shared_from_this(), exc] { self->deliver_connection_lost(exc); });
}

void ReadPipeTransport::deliver_connection_lost(const MaybeError& exc) {
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

void ReadPipeTransport::release() {
  phase_ = Phase::Lost;
  if (fd_ >= 0) {
    if (loop_ != nullptr) loop_->unwatch_fd(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  protocol_.reset();
  data_protocol_ = nullptr;
  buffered_protocol_ = nullptr;
}

void ReadPipeTransport::on_loop_destroyed() {
  loop_ = nullptr;
  release();
}

// ---- BaseTransport ----

std::optional<nlohmann::json> ReadPipeTransport::get_extra_info(std::string_view name) {
  if (name == "pipe") return pipe_extra_info(fd_);
  return std::nullopt;
}

void ReadPipeTransport::close() { lose(std::nullopt); }

void ReadPipeTransport::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto stream = std::dynamic_pointer_cast<StreamProtocol>(protocol);
  auto* data = dynamic_cast<Protocol*>(stream.get());
  auto* buffered = dynamic_cast<BufferedProtocol*>(stream.get());
  if (data == nullptr && buffered == nullptr) {
    throw ContractError(Error{"TypeError", 0, "a read pipe transport needs a Protocol or a BufferedProtocol"});
  }
  if (phase_ == Phase::Lost) return;
  protocol_ = std::move(stream);
  data_protocol_ = data;
  buffered_protocol_ = buffered;
}

// ---- reading ----

void ReadPipeTransport::pause_reading() {
  if (phase_ != Phase::Open || paused_) return;
  paused_ = true;
  update_reading();
}

void ReadPipeTransport::resume_reading() {
  if (phase_ != Phase::Open || !paused_) return;
  paused_ = false;
  update_reading();
}

void ReadPipeTransport::update_reading() {
  if (loop_ == nullptr || fd_ < 0) return;
  loop_->set_reading(fd_, phase_ == Phase::Open && made_ && !paused_);
}

void ReadPipeTransport::on_readable() {
  if (phase_ != Phase::Open) return;
  if (buffered_protocol_ != nullptr) {
    read_into_protocol_buffer();
  } else {
    read_into_loop_buffer();
  }
}

std::optional<std::size_t> ReadPipeTransport::read_into(std::span<char> into) {
  for (;;) {
    ssize_t n = ::read(fd_, into.data(), into.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
    // Linux reports a pty whose other side closed with EIO: that is its end of file.
    if (errno == EIO && kind_ == PipeKind::CharacterDevice && ::isatty(fd_) == 1) return 0;
    lose(Error::from_errno(errno));
    return std::nullopt;
  }
}

void ReadPipeTransport::read_into_loop_buffer() {
  auto buffer = loop_->read_buffer().subspan(1, EpollLoop::kReadBufferSize);
  auto n = read_into(buffer);
  if (!n) return;
  if (*n == 0) return on_eof();
  auto protocol = protocol_;  // set_protocol inside the callback must not free it mid-call
  call("data_received", [&] { data_protocol_->data_received({buffer.data(), *n}); });
}

void ReadPipeTransport::read_into_protocol_buffer() {
  auto protocol = protocol_;
  BufferedProtocol* buffered = buffered_protocol_;
  std::span<char> buffer;
  if (!call("get_buffer", [&] { buffer = buffered->get_buffer(-1); })) return;
  if (buffer.empty()) {
    loop_->report_exception("get_buffer", Error{"RuntimeError", 0, "get_buffer() returned an empty buffer"});
    return lose(Error{"RuntimeError", 0, "get_buffer() returned an empty buffer"});
  }
  // get_buffer may have paused reading or closed the transport.
  if (phase_ != Phase::Open || paused_) return;
  auto n = read_into(buffer);
  if (!n) return;
  if (*n == 0) return on_eof();
  call("buffer_updated", [&] { buffered->buffer_updated(*n); });
}

void ReadPipeTransport::on_eof() {
  auto protocol = protocol_;
  lose(std::nullopt);  // closing from here on, as CPython's _closing; connection_lost(None) follows
  // Fault: pipe-no-eof
  if (faults_.pipe_no_eof) return;
  // The return value is ignored: a read pipe has no write side to keep open.
  try {
    protocol->eof_received();
  } catch (...) {
    loop_->report_exception("eof_received", error_from_current_exception());
  }
}

}  // namespace loopspec::reference
