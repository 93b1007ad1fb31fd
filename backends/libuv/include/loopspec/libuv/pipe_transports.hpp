// The two ends of a pipe, a FIFO, a pty or a socket, each on a uv_pipe_t
// opened on the descriptor (uv_pipe_open): asyncio's _UnixReadPipeTransport
// (a ReadTransport) and _UnixWritePipeTransport (a WriteTransport).
//
// Promises:
// - adopt_pipe accepts what CPython's pipe transports accept (a pipe or
//   FIFO, a socket, a character device such as a pty) and makes it
//   close-on-exec (libuv makes it non-blocking); anything else is
//   ValueError("Pipe transport is for pipes/sockets only."). It never closes fd.
// - Both: connection_made, then `done`, from one scheduled callback;
//   connection_lost exactly once, from a scheduled callback;
//   get_extra_info('pipe') is {"fd": N} (-1 once lost), nothing else.
// Read end:
// - Reading and BufferedProtocols as stream_reading.hpp promises. On a pty
//   the handle is a uv_poll_t and each readiness is one read(2): libuv's
//   stream reading declares end of file at a hang-up that follows a short
//   read (uv__stream_io), a pty's reads are always short (at most 4095
//   bytes), and the bytes still queued in the pty when its other side closed
//   would be dropped.
// - End of file (or EIO on a pty whose other side closed, Linux's way of
//   saying so): is_closing() turns true, eof_received is called once and its
//   return value ignored (nothing to keep half-open), then
//   connection_lost(None); an exception of eof_received is only reported.
// - close(): reading stops at once, connection_lost(None) follows.
// Write end:
// - write()/writelines() and flow control as stream_writing.hpp promises;
//   after write_eof(), close() or abort() data is dropped silently. A pipe
//   without a reader fails the write with EPIPE (BrokenPipeError), never
//   with SIGPIPE (uv_loop.hpp).
// - write_eof() (and close(), which is the same) closes the pipe once the
//   queue is written: the reader sees end of file, connection_lost(None).
//   abort() drops the queue, connection_lost(None).
// - The reader going away is noticed by the write libuv has in flight
//   (connection_lost(BrokenPipeError)). A write end that libuv can also read
//   (a socket: a child's stdin, socketpair()) is watched while idle, as
//   CPython watches it: its end of file (or any input, which a reader does
//   not send) is the reader gone: connection_lost(BrokenPipeError) with data
//   queued, connection_lost(None) without. Unlike CPython, the idle write
//   end of a pipe or FIFO is not watched: libuv lets one handle watch a
//   descriptor, and a write-only stream handle does not poll for input, so
//   that loss is noticed at the next write.
#pragma once

#include <memory>

#include "loopspec/libuv/endpoint.hpp"
#include "loopspec/libuv/stream_reading.hpp"
#include "loopspec/libuv/stream_writing.hpp"

namespace loopspec::libuv {

MaybeError adopt_pipe(int fd);

class ReadPipeTransport final : public StreamReading<ReadTransport> {
 public:
  // box: a uv_pipe_t open on the read end, or a uv_poll_t on a pty (start_endpoint).
  ReadPipeTransport(UvLoop& loop, HandleBox* box);

  void close() override { lose(std::nullopt); }

 private:
  bool is_end_of_file(int status) const override;
  void on_eof() override;
};

class WritePipeTransport final : public StreamWriting<Endpoint<WriteTransport, BaseProtocol>> {
 public:
  // box: a uv_pipe_t open on the write end (start_endpoint).
  WritePipeTransport(UvLoop& loop, HandleBox* box);

  void close() override { write_eof(); }
  void write(std::string_view data) override;
  void writelines(std::span<const std::string_view> list_of_data) override { write_pieces(list_of_data); }
  void write_eof() override;
  bool can_write_eof() override { return true; }
  void abort() override;

 private:
  void on_connection_made() override;
  void on_lose() override;
  void on_drained() override;
  static void on_reader_news(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  void reader_gone();
};

}  // namespace loopspec::libuv
