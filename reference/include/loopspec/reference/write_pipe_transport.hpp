// The write end of a pipe, a FIFO, a pty or a socket as an asyncio
// WriteTransport; the behaviour is CPython's _UnixWritePipeTransport unless
// stated otherwise.
//
// Lifecycle (states and the only transitions):
//   Open --write_eof()/close() with data queued--> Closing --queue written--> LostPending
//   Open --write_eof()/close() with nothing queued, abort(), the reader gone,
//         write error, protocol exception--> LostPending
//   Closing --abort(), the reader gone, write error--> LostPending
//   LostPending --connection_lost delivered, fd closed--> Lost
// Promises:
// - connection_made, then `done`, from one callback scheduled at creation;
//   connection_lost always from a scheduled callback, exactly once.
// - write()/writelines() and flow control as stream_writing.hpp promises,
//   with writev. Empty data is a no-op; after write_eof(), close() or abort()
//   data is dropped silently (as CPython). SIGPIPE is never raised: a pipe
//   without a reader fails the write with EPIPE.
// - write_eof() closes the pipe once the queue is written: the reader sees
//   EOF and connection_lost(None) follows; can_write_eof() is true. close()
//   is write_eof(). abort() drops the queue, connection_lost(None).
// - The reader going away is noticed while the transport is idle too (the
//   descriptor is watched for errors, except a character device, as in
//   CPython): connection_lost(BrokenPipeError) when data was still queued,
//   connection_lost(None) when nothing was lost. A write that fails ends the
//   transport with the errno's canonical error (EPIPE: BrokenPipeError).
// - get_extra_info('pipe') is {"fd": N} (the fd is -1 once closed).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>

#include "loopspec/event_loop.hpp"
#include "loopspec/reference/descriptor_transport.hpp"
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/reference/pipe_descriptor.hpp"
#include "loopspec/reference/stream_writing.hpp"

namespace loopspec::reference {

class WritePipeTransport final : public StreamWriting<DescriptorTransport<WriteTransport, BaseProtocol>> {
  struct Passkey {};

 public:
  // Adopts fd (already checked by adopt_pipe_descriptor; closed if this
  // throws) and schedules connection_made.
  static std::shared_ptr<WritePipeTransport> start(EpollLoop& loop, int fd, PipeKind kind,
                                                   std::shared_ptr<BaseProtocol> protocol,
                                                   Completion<WriteTransport> done);

  WritePipeTransport(Passkey, EpollLoop& loop, int fd, PipeKind kind);

  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override;
  void close() override { write_eof(); }
  // WriteTransport
  void write(std::string_view data) override;
  void writelines(std::span<const std::string_view> list_of_data) override;
  void write_eof() override;
  bool can_write_eof() override { return true; }
  void abort() override;
  // FdWatcher
  void on_readable() override;  // only ever the reader going away

 private:
  void on_connection_made() override;
  ssize_t write_gather(const iovec* iov, std::size_t count) override;
  void on_drained() override;

  PipeKind kind_;
};

}  // namespace loopspec::reference
