#include "loopspec/reference/read_pipe_transport.hpp"

#include <unistd.h>

#include <cerrno>

#include "loopspec/kit/exception_error.hpp"

namespace loopspec::reference {

std::shared_ptr<ReadPipeTransport> ReadPipeTransport::start(EpollLoop& loop, int fd, PipeKind kind,
                                                            std::shared_ptr<StreamProtocol> protocol,
                                                            Completion<ReadTransport> done) {
  return create<ReadPipeTransport>(std::move(protocol), std::move(done), Passkey{}, loop, fd, kind);
}

ReadPipeTransport::ReadPipeTransport(Passkey, EpollLoop& loop, int fd, PipeKind kind)
    : StreamReadingTransport(loop, fd, "a read pipe transport needs a Protocol or a BufferedProtocol"), kind_(kind) {}

std::optional<nlohmann::json> ReadPipeTransport::get_extra_info(std::string_view name) {
  if (name == "pipe") return pipe_extra_info(fd_);
  return std::nullopt;
}

ssize_t ReadPipeTransport::read_some(std::span<char> into) { return ::read(fd_, into.data(), into.size()); }

// Linux reports a pty whose other side closed with EIO: that is its end of file.
bool ReadPipeTransport::is_end_of_file(int err) {
  return err == EIO && kind_ == PipeKind::CharacterDevice && ::isatty(fd_) == 1;
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
    loop_->report_exception("eof_received", kit::error_from_current_exception());
  }
}

}  // namespace loopspec::reference
