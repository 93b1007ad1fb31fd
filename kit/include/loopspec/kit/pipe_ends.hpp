// What asyncio's pipe transports (_UnixReadPipeTransport, a ReadTransport,
// and _UnixWritePipeTransport, a WriteTransport) do whatever the loop's I/O
// object: their ends of file, close() and abort(). Each is a mixin over the
// backend's reading or writing transport (a kit::Endpoint, endpoint.hpp).
//
// Promises:
// - adopt_pipe accepts what CPython's pipe transports accept (a pipe or
//   FIFO, a socket, a character device such as a pty) and makes it
//   close-on-exec; anything else is ValueError("Pipe transport is for
//   pipes/sockets only."). It never closes fd.
// ReadPipe (Base: reading, with on_eof() called once at end of file):
// - End of file: is_closing() turns true, eof_received is called once and
//   its return value ignored (nothing to keep half-open), then
//   connection_lost(None); an exception of eof_received is only reported.
// - close(): reading stops at once, connection_lost(None) follows.
// WritePipe (Base: StreamWriting, stream_writing.hpp):
// - write()/writelines() as StreamWriting promises; after write_eof(),
//   close() or abort() data is dropped silently.
// - write_eof() (and close(), which is the same) closes the pipe once the
//   queue is written: the reader sees end of file, connection_lost(None).
//   abort() drops the queue, connection_lost(None).
// - reader_gone(), the backend's news that the reader went away:
//   connection_lost(BrokenPipeError) with data queued, connection_lost(None)
//   without; nothing once the transport is ending.
#pragma once

#include <cerrno>
#include <optional>
#include <span>
#include <string_view>

#include "loopspec/error.hpp"
#include "loopspec/kit/exception_error.hpp"

namespace loopspec::kit {

MaybeError adopt_pipe(int fd);

template <class Base>
class ReadPipe : public Base {
 public:
  void close() override { this->lose(std::nullopt); }

 protected:
  using Base::Base;

  void on_eof() override {
    auto protocol = this->protocol_;
    this->lose(std::nullopt);  // closing from here on, as CPython's _closing; connection_lost(None) follows
    // Fault: pipe-no-eof
    if (this->faults_.pipe_no_eof) return;
    try {
      protocol->eof_received();  // its answer is ignored: nothing to keep half-open
    } catch (...) {
      if (this->loop_ != nullptr) this->loop_->report_exception("eof_received", error_from_current_exception());
    }
  }
};

template <class Base>
class WritePipe : public Base {
 public:
  void close() override { write_eof(); }
  void write(std::string_view data) override {
    const std::string_view pieces[] = {data};
    this->write_pieces(pieces);
  }
  void writelines(std::span<const std::string_view> list_of_data) override { this->write_pieces(list_of_data); }
  void write_eof() override {
    if (this->phase_ != Base::Phase::Open) return;
    this->phase_ = Base::Phase::Closing;
    if (this->drained()) on_drained();
  }
  bool can_write_eof() override { return true; }
  void abort() override {
    // Fault: pipe-abort-flushes
    if (this->faults_.pipe_abort_flushes) return write_eof();
    this->lose(std::nullopt);
  }

 protected:
  using Base::Base;

  void on_drained() override {
    // Fault: pipe-write-eof-keeps-open
    if (this->phase_ == Base::Phase::Closing && !this->faults_.pipe_write_eof_keeps_open) this->lose(std::nullopt);
  }
  void reader_gone() {
    if (!this->active()) return;
    // Data still queued is lost: that is a broken pipe.
    this->lose(this->drained() ? std::nullopt : MaybeError(Error::from_errno(EPIPE)));
  }
};

}  // namespace loopspec::kit
