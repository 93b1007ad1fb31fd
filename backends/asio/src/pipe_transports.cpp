#include "loopspec/asio/pipe_transports.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/error.hpp>

#include <cerrno>

namespace loopspec::asio {

// ---- the read end ----

ReadPipeTransport::ReadPipeTransport(AsioLoop& loop, Descriptor descriptor)
    : ReadPipe(loop, std::move(descriptor), "a read pipe transport needs a Protocol or a BufferedProtocol"),
      is_tty_(::isatty(fd()) == 1) {
  describe_as_pipe();
}

bool ReadPipeTransport::is_end_of_file(const boost::system::error_code& ec) const {
  // Linux reports a pty whose other side closed with EIO: that is its end of file.
  return is_tty_ && ec == boost::system::error_code(EIO, boost::system::system_category());
}

// ---- the write end ----

WritePipeTransport::WritePipeTransport(AsioLoop& loop, Descriptor descriptor)
    : WritePipe(loop, std::move(descriptor), "a write pipe transport needs a protocol") {
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
  if (ec != net::error::operation_aborted) reader_gone();
}

}  // namespace loopspec::asio
