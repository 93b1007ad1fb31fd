#include "loopspec/libuv/pipe_transports.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "loopspec/kit/exception_error.hpp"

namespace loopspec::libuv {

MaybeError adopt_pipe(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return Error::from_errno(errno);
  if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode)) {
    return Error{"ValueError", 0, "Pipe transport is for pipes/sockets only."};
  }
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return Error::from_errno(errno);
  return std::nullopt;
}

// ---- the read end ----

ReadPipeTransport::ReadPipeTransport(UvLoop& loop, HandleBox* box)
    : StreamReading(loop, box, "a read pipe transport needs a Protocol or a BufferedProtocol") {
  describe_as_pipe();
}

bool ReadPipeTransport::is_end_of_file(int status) const {
  // Linux reports a pty whose other side closed with EIO: that is its end of file.
  uv_os_fd_t fd = -1;
  return status == UV_EIO && handle() != nullptr && uv_fileno(handle(), &fd) == 0 && ::isatty(fd) == 1;
}

void ReadPipeTransport::on_eof() {
  auto protocol = protocol_;
  lose(std::nullopt);  // closing from here on, as CPython's _closing; connection_lost(None) follows
  // Fault: pipe-no-eof
  if (faults_.pipe_no_eof) return;
  try {
    protocol->eof_received();  // its answer is ignored: nothing to keep half-open
  } catch (...) {
    if (loop_ != nullptr) loop_->report_exception("eof_received", kit::error_from_current_exception());
  }
}

// ---- the write end ----

WritePipeTransport::WritePipeTransport(UvLoop& loop, HandleBox* box)
    : StreamWriting(loop, box, "a write pipe transport needs a protocol") {
  describe_as_pipe();
}

void WritePipeTransport::on_connection_made() {
  // Only a socket reads the reader's end; a pty would read what the other side writes.
  if (ending() || !uv_is_readable(stream()) || ::isatty(get_extra_info("pipe")->at("fd").get<int>()) == 1) return;
  auto lend = [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
    auto buffer = static_cast<WritePipeTransport*>(HandleBox::owner_of(handle))->loop_->read_buffer();
    *buf = uv_buf_t{buffer.data(), buffer.size()};
  };
  uv_read_start(stream(), lend, on_reader_news);
}

void WritePipeTransport::on_lose() {
  StreamWriting::on_lose();
  if (stream() != nullptr && uv_is_readable(stream())) uv_read_stop(stream());
}

void WritePipeTransport::on_reader_news(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  if (nread == 0) return;  // nothing after all
  static_cast<WritePipeTransport*>(HandleBox::owner_of(reinterpret_cast<uv_handle_t*>(stream)))->reader_gone();
}

void WritePipeTransport::reader_gone() {
  if (!active()) return;
  // Data still queued is lost: that is a broken pipe.
  lose(drained() ? std::nullopt : MaybeError(Error::from_errno(EPIPE)));
}

void WritePipeTransport::write(std::string_view data) {
  const std::string_view pieces[] = {data};
  write_pieces(pieces);
}

void WritePipeTransport::write_eof() {
  if (phase_ != Phase::Open) return;
  phase_ = Phase::Closing;
  if (drained()) on_drained();
}

void WritePipeTransport::on_drained() {
  // Fault: pipe-write-eof-keeps-open
  if (phase_ == Phase::Closing && !faults_.pipe_write_eof_keeps_open) lose(std::nullopt);
}

void WritePipeTransport::abort() {
  // Fault: pipe-abort-flushes
  if (faults_.pipe_abort_flushes) return write_eof();
  lose(std::nullopt);
}

}  // namespace loopspec::libuv
