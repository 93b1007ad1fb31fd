// The two ends of a pipe, a FIFO, a pty or a socket, each on a uv_pipe_t
// opened on the descriptor (uv_pipe_open): asyncio's _UnixReadPipeTransport
// (a ReadTransport) and _UnixWritePipeTransport (a WriteTransport).
//
// Promises beyond kit::ReadPipe's and kit::WritePipe's (kit/pipe_ends.hpp):
// - connect_*_pipe takes what kit::adopt_pipe accepts; libuv makes the
//   descriptor non-blocking.
// - get_extra_info('pipe') is {"fd": N} (-1 once lost), nothing else.
// - The read end: on a pty the handle is a uv_poll_t and each readiness is
//   one read(2): libuv's stream reading declares end of file at a hang-up
//   that follows a short read (uv__stream_io), a pty's reads are always
//   short (at most 4095 bytes), and the bytes still queued in the pty when
//   its other side closed would be dropped. EIO on a pty whose other side
//   closed is its end of file (Linux's way of saying so).
// - The write end: a pipe without a reader fails the write with EPIPE
//   (BrokenPipeError), never with SIGPIPE (uv_loop.hpp).
// - The reader going away is noticed by the write libuv has in flight
//   (connection_lost(BrokenPipeError)). A write end that libuv can also read
//   (a socket: a child's stdin, socketpair()) is watched while idle, as
//   CPython watches it: its end of file (or any input, which a reader does
//   not send) is the reader gone (kit::WritePipe::reader_gone). Unlike
//   CPython, the idle write end of a pipe or FIFO is not watched: libuv lets
//   one handle watch a descriptor, and a write-only stream handle does not
//   poll for input, so that loss is noticed at the next write.
#pragma once

#include <memory>

#include "loopspec/libuv/endpoint.hpp"
#include "loopspec/libuv/stream_reading.hpp"
#include "loopspec/kit/pipe_ends.hpp"
#include "loopspec/libuv/stream_writing.hpp"

namespace loopspec::libuv {

class ReadPipeTransport final : public kit::ReadPipe<StreamReading<ReadTransport>> {
 public:
  // box: a uv_pipe_t open on the read end, or a uv_poll_t on a pty (start_endpoint).
  ReadPipeTransport(UvLoop& loop, HandleBox* box);

 private:
  bool is_end_of_file(int status) const override;
};

class WritePipeTransport final : public kit::WritePipe<StreamWriting<Endpoint<WriteTransport, BaseProtocol>>> {
 public:
  // box: a uv_pipe_t open on the write end (start_endpoint).
  WritePipeTransport(UvLoop& loop, HandleBox* box);

 private:
  void on_connection_made() override;
  void on_lose() override;
  static void on_reader_news(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
};

}  // namespace loopspec::libuv
