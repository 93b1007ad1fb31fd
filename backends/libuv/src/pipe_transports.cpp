#include "loopspec/libuv/pipe_transports.hpp"

#include <unistd.h>

namespace loopspec::libuv {

// ---- the read end ----

ReadPipeTransport::ReadPipeTransport(UvLoop& loop, HandleBox* box)
    : ReadPipe(loop, box, "a read pipe transport needs a Protocol or a BufferedProtocol") {
  describe_as_pipe();
}

bool ReadPipeTransport::is_end_of_file(int status) const {
  // Linux reports a pty whose other side closed with EIO: that is its end of file.
  uv_os_fd_t fd = -1;
  return status == UV_EIO && handle() != nullptr && uv_fileno(handle(), &fd) == 0 && ::isatty(fd) == 1;
}

// ---- the write end ----

WritePipeTransport::WritePipeTransport(UvLoop& loop, HandleBox* box)
    : WritePipe(loop, box, "a write pipe transport needs a protocol") {
  describe_as_pipe();
}

void WritePipeTransport::on_connection_made() {
  // Only a socket reads the reader's end; a pty would read what the other side writes.
  if (ending() || !uv_is_readable(stream()) || ::isatty(fd()) == 1) return;
  auto lend = [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
    auto buffer = static_cast<WritePipeTransport*>(HandleBox::owner_of(handle))->loop_->read_buffer();
    *buf = uv_buf_t{buffer.data(), buffer.size()};
  };
  uv_read_start(stream(), lend, on_reader_news);
}

void WritePipeTransport::on_lose() {
  WritePipe::on_lose();
  if (stream() != nullptr && uv_is_readable(stream())) uv_read_stop(stream());
}

void WritePipeTransport::on_reader_news(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  if (nread == 0) return;  // nothing after all
  static_cast<WritePipeTransport*>(HandleBox::owner_of(reinterpret_cast<uv_handle_t*>(stream)))->reader_gone();
}

}  // namespace loopspec::libuv
