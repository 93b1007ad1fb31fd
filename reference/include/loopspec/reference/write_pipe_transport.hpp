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
// - write(): written at once while nothing is queued; the rest is copied once
//   into the queue and written with writev when the pipe is writable.
//   writelines() is one gather. Empty data is a no-op; after write_eof(),
//   close() or abort() data is dropped silently (as CPython). SIGPIPE is
//   never raised: a pipe without a reader fails the write with EPIPE.
// - Flow control per WriteFlow, as on stream transports.
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

#include <memory>
#include <optional>

#include "loopspec/event_loop.hpp"
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/reference/faults.hpp"
#include "loopspec/reference/pipe_descriptor.hpp"
#include "loopspec/reference/write_flow.hpp"
#include "loopspec/reference/write_queue.hpp"

namespace loopspec::reference {

class WritePipeTransport final : public WriteTransport,
                                 public FdWatcher,
                                 public std::enable_shared_from_this<WritePipeTransport> {
  struct Passkey {};

 public:
  // Adopts fd (already checked by adopt_pipe_descriptor; closed if this
  // throws) and schedules connection_made.
  static std::shared_ptr<WritePipeTransport> start(EpollLoop& loop, int fd, PipeKind kind,
                                                   std::shared_ptr<BaseProtocol> protocol,
                                                   Completion<WriteTransport> done);

  WritePipeTransport(Passkey, EpollLoop& loop, int fd, PipeKind kind);
  ~WritePipeTransport() override;

  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override;
  bool is_closing() override { return phase_ != Phase::Open; }
  void close() override { write_eof(); }
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() override { return protocol_; }
  // WriteTransport
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) override;
  WriteBufferLimits get_write_buffer_limits() override { return flow_.limits(); }
  std::size_t get_write_buffer_size() override { return queue_.size(); }
  void write(std::string_view data) override;
  void writelines(std::span<const std::string_view> list_of_data) override;
  void write_eof() override;
  bool can_write_eof() override { return true; }
  void abort() override;
  // FdWatcher
  void on_readable() override;  // only ever the reader going away
  void on_writable() override;
  void on_loop_destroyed() override;

 private:
  enum class Phase { Open, Closing, LostPending, Lost };

  void deliver_connection_made();
  void deliver_connection_lost(const MaybeError& exc);
  void lose(const MaybeError& exc);
  void release();
  template <class F>
  bool call(const char* name, F&& callback);

  void write_pieces(std::span<const std::string_view> pieces);
  void flush();
  void maybe_pause();
  void maybe_resume();

  EpollLoop* loop_;  // null once the loop is destroyed
  const Faults faults_;
  int fd_;
  PipeKind kind_;
  std::shared_ptr<BaseProtocol> protocol_;
  Phase phase_ = Phase::Open;
  bool made_ = false;
  WriteQueue queue_;
  WriteFlow flow_{faults_};
};

}  // namespace loopspec::reference
