// The two ends of a pipe, a FIFO, a pty or a socket, each on a
// posix::stream_descriptor: asyncio's _UnixReadPipeTransport (a
// ReadTransport) and _UnixWritePipeTransport (a WriteTransport).
//
// Promises beyond kit::ReadPipe's and kit::WritePipe's (kit/pipe_ends.hpp):
// - connect_*_pipe takes what kit::adopt_pipe accepts; the transport makes
//   the descriptor non-blocking.
// - get_extra_info('pipe') is {"fd": N} (-1 once lost), nothing else.
// - The read end: one read per readiness (stream_reading.hpp), so a pty's
//   bytes still queued at its hang-up are read, one readiness after another,
//   before the hang-up's EIO, which is its end of file (Linux's way of
//   saying the other side closed).
// - The write end: a pipe without a reader fails the write with EPIPE
//   (BrokenPipeError), never with SIGPIPE (asio_loop.hpp).
// - The reader going away: a write end that is a pipe, a FIFO or a socket is
//   watched for reading (async_wait(wait_read)) as CPython watches it; the
//   kernel reports a pipe whose reader closed as an error event, which
//   completes the wait, and a socket's end of file (or any input, which a
//   reader does not send) does too. That is the reader gone
//   (kit::WritePipe::reader_gone). A pty's write end is not watched (the
//   other side's output would look the same).
#pragma once

#include <memory>

#include "loopspec/asio/endpoint.hpp"
#include "loopspec/asio/stream_reading.hpp"
#include "loopspec/asio/stream_writing.hpp"
#include "loopspec/kit/pipe_ends.hpp"

namespace loopspec::asio {

class ReadPipeTransport final : public kit::ReadPipe<StreamReading<ReadTransport, Descriptor>> {
 public:
  // descriptor: the read end (start_endpoint).
  ReadPipeTransport(AsioLoop& loop, Descriptor descriptor);

 private:
  bool is_end_of_file(const boost::system::error_code& ec) const override;

  bool is_tty_;
};

class WritePipeTransport final : public kit::WritePipe<StreamWriting<Endpoint<WriteTransport, BaseProtocol, Descriptor>>> {
 public:
  // descriptor: the write end (start_endpoint).
  WritePipeTransport(AsioLoop& loop, Descriptor descriptor);

 private:
  void on_connection_made() override;
  void reader_news(const boost::system::error_code& ec);

  bool watch_reader_;  // a pipe, FIFO or socket
};

}  // namespace loopspec::asio
