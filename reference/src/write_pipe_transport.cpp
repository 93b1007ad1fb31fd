#include "loopspec/reference/write_pipe_transport.hpp"

#include <cerrno>

namespace loopspec::reference {

std::shared_ptr<WritePipeTransport> WritePipeTransport::start(EpollLoop& loop, int fd, PipeKind kind,
                                                              std::shared_ptr<BaseProtocol> protocol,
                                                              Completion<WriteTransport> done) {
  return create<WritePipeTransport>(std::move(protocol), std::move(done), Passkey{}, loop, fd, kind);
}

WritePipeTransport::WritePipeTransport(Passkey, EpollLoop& loop, int fd, PipeKind kind)
    : StreamWriting(loop, fd, "a write pipe transport needs a protocol"), kind_(kind) {}

void WritePipeTransport::on_connection_made() {
  // The reader going away shows as an error on the write end; a character
  // device does not report it (CPython watches pipes and sockets only).
  if (!ending() && kind_ != PipeKind::CharacterDevice) loop_->set_reading(fd_, true);
}

std::optional<nlohmann::json> WritePipeTransport::get_extra_info(std::string_view name) {
  if (name == "pipe") return pipe_extra_info(fd_);
  return std::nullopt;
}

// ---- writing ----

void WritePipeTransport::write(std::string_view data) {
  if (data.empty()) return;
  const std::string_view pieces[] = {data};
  write_pieces(pieces);
}

void WritePipeTransport::writelines(std::span<const std::string_view> list_of_data) { write_pieces(list_of_data); }

ssize_t WritePipeTransport::write_gather(const iovec* iov, std::size_t count) {
  return writev_without_sigpipe(fd_, iov, static_cast<int>(count));
}

void WritePipeTransport::on_drained() {
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
  if (!active()) return;
  // The reader went away. Data still queued is lost: that is a broken pipe.
  bool data_lost = !queue_.empty();
  // Fault: pipe-reader-gone-none
  if (faults_.pipe_reader_gone_none) data_lost = false;
  lose(data_lost ? MaybeError(Error::from_errno(EPIPE)) : std::nullopt);
}

}  // namespace loopspec::reference
