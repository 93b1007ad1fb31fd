#include "loopspec/asio/pipe_transports.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/error.hpp>

#include <cerrno>

#include "loopspec/kit/exception_error.hpp"

namespace loopspec::asio {

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

ReadPipeTransport::ReadPipeTransport(AsioLoop& loop, Descriptor descriptor)
    : StreamReading(loop, std::move(descriptor), "a read pipe transport needs a Protocol or a BufferedProtocol"),
      is_tty_(::isatty(fd()) == 1) {
  describe_as_pipe();
}

bool ReadPipeTransport::is_end_of_file(const boost::system::error_code& ec) const {
  // Linux reports a pty whose other side closed with EIO: that is its end of file.
  return is_tty_ && ec == boost::system::error_code(EIO, boost::system::system_category());
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

WritePipeTransport::WritePipeTransport(AsioLoop& loop, Descriptor descriptor)
    : StreamWriting(loop, std::move(descriptor), "a write pipe transport needs a protocol") {
  describe_as_pipe();
  struct stat st {};
  watch_reader_ = ::fstat(fd(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

void WritePipeTransport::on_connection_made() {
  if (ending() || !watch_reader_ || handle() == nullptr) return;
  auto self = std::static_pointer_cast<WritePipeTransport>(shared_from_this());
  handle()->async_wait(Descriptor::wait_read,
                       completion(self, [](WritePipeTransport& me, boost::system::error_code ec) { me.reader_news(ec); }));
}

void WritePipeTransport::reader_news(const boost::system::error_code& ec) {
  if (ec == net::error::operation_aborted || !active()) return;
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

}  // namespace loopspec::asio
