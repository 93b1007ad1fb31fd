// The two ends of a pipe, a FIFO, a pty or a socket, each on a
// posix::stream_descriptor: asyncio's _UnixReadPipeTransport (a
// ReadTransport) and _UnixWritePipeTransport (a WriteTransport).
//
// Promises:
// - adopt_pipe accepts what CPython's pipe transports accept (a pipe or
//   FIFO, a socket, a character device such as a pty) and makes it
//   close-on-exec (the transport makes it non-blocking); anything else is
//   ValueError("Pipe transport is for pipes/sockets only."). It never closes fd.
// - Both: connection_made, then `done`, from one scheduled callback;
//   connection_lost exactly once, from a scheduled callback;
//   get_extra_info('pipe') is {"fd": N} (-1 once lost), nothing else.
// Read end:
// - Reading and BufferedProtocols as stream_reading.hpp promises: one read
//   per readiness, so a pty's bytes still queued at its hang-up are read,
//   one readiness after another, before the hang-up's EIO.
// - End of file (or EIO on a pty whose other side closed, Linux's way of
//   saying so): is_closing() turns true, eof_received is called once and its
//   return value ignored (nothing to keep half-open), then
//   connection_lost(None); an exception of eof_received is only reported.
// - close(): reading stops at once, connection_lost(None) follows.
// Write end:
// - write()/writelines() and flow control as stream_writing.hpp promises;
//   after write_eof(), close() or abort() data is dropped silently. A pipe
//   without a reader fails the write with EPIPE (BrokenPipeError), never
//   with SIGPIPE (asio_loop.hpp).
// - write_eof() (and close(), which is the same) closes the pipe once the
//   queue is written: the reader sees end of file, connection_lost(None).
//   abort() drops the queue, connection_lost(None).
// - The reader going away: a write end that is a pipe, a FIFO or a socket is
//   watched for reading (async_wait(wait_read)) as CPython watches it; the
//   kernel reports a pipe whose reader closed as an error event, which
//   completes the wait, and a socket's end of file (or any input, which a
//   reader does not send) does too. That is the reader gone:
//   connection_lost(BrokenPipeError) with data queued, connection_lost(None)
//   without. A pty's write end is not watched (the other side's output
//   would look the same).
#pragma once

#include <memory>

#include "loopspec/asio/endpoint.hpp"
#include "loopspec/asio/stream_reading.hpp"
#include "loopspec/asio/stream_writing.hpp"

namespace loopspec::asio {

MaybeError adopt_pipe(int fd);

class ReadPipeTransport final : public StreamReading<ReadTransport, Descriptor> {
 public:
  // descriptor: the read end (start_endpoint).
  ReadPipeTransport(AsioLoop& loop, Descriptor descriptor);

  void close() override { lose(std::nullopt); }

 private:
  bool is_end_of_file(const boost::system::error_code& ec) const override;
  void on_eof() override;

  bool is_tty_;
};

class WritePipeTransport final : public StreamWriting<Endpoint<WriteTransport, BaseProtocol, Descriptor>> {
 public:
  // descriptor: the write end (start_endpoint).
  WritePipeTransport(AsioLoop& loop, Descriptor descriptor);

  void close() override { write_eof(); }
  void write(std::string_view data) override;
  void writelines(std::span<const std::string_view> list_of_data) override { write_pieces(list_of_data); }
  void write_eof() override;
  bool can_write_eof() override { return true; }
  void abort() override;

 private:
  void on_connection_made() override;
  void on_drained() override;
  void reader_news(const boost::system::error_code& ec);

  bool watch_reader_;  // a pipe, FIFO or socket
};

}  // namespace loopspec::asio
