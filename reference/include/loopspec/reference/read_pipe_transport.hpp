// The read end of a pipe, a FIFO, a pty or a socket as an asyncio
// ReadTransport; the behaviour is CPython's _UnixReadPipeTransport unless
// stated otherwise.
//
// Lifecycle (states and the only transitions):
//   Open --close(), EOF, read error, protocol exception--> LostPending
//   LostPending --connection_lost delivered, fd closed--> Lost
// Promises:
// - connection_made, then the start of reading, then `done`, all from one
//   callback scheduled at creation; connection_lost always from a scheduled
//   callback, exactly once.
// - One read per readiness into the loop's 256 KiB buffer, then
//   data_received; a BufferedProtocol gets get_buffer(-1) and the read goes
//   straight into its buffer, then buffer_updated(n) (CPython's read pipe
//   knows no BufferedProtocol; the 3.8 page says buffered protocols work with
//   every streaming setup method). A zero-size buffer is a fatal error.
// - EOF (read() gives 0; a pty whose other side closed gives EIO, which Linux
//   uses for that, and is taken as EOF too): reading stops, is_closing()
//   turns true, eof_received is called once and its return value ignored —
//   there is nothing to keep half-open — then connection_lost(None).
// - A read error ends the transport with connection_lost(exc) (the errno's
//   canonical error); a protocol callback that throws ends it with the
//   exception's canonical error, except eof_received, whose exception is only
//   reported: the transport is closing anyway (as in CPython).
// - pause_reading()/resume_reading() are idempotent and no-ops once closing;
//   after pause_reading() returns nothing is delivered until resume_reading().
// - close(): reading stops at once, connection_lost(None) follows; data still
//   in the pipe is never delivered.
// - get_extra_info('pipe') is {"fd": N} (the fd is -1 once closed).
#pragma once

#include <memory>
#include <optional>

#include "loopspec/event_loop.hpp"
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/reference/faults.hpp"
#include "loopspec/reference/pipe_descriptor.hpp"

namespace loopspec::reference {

class ReadPipeTransport final : public ReadTransport,
                                public FdWatcher,
                                public std::enable_shared_from_this<ReadPipeTransport> {
  struct Passkey {};

 public:
  // Adopts fd (already checked by adopt_pipe_descriptor; closed if this
  // throws) and schedules connection_made. protocol must be a Protocol or a
  // BufferedProtocol.
  static std::shared_ptr<ReadPipeTransport> start(EpollLoop& loop, int fd, PipeKind kind,
                                                  std::shared_ptr<StreamProtocol> protocol,
                                                  Completion<ReadTransport> done);

  ReadPipeTransport(Passkey, EpollLoop& loop, int fd, PipeKind kind);
  ~ReadPipeTransport() override;

  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override;
  bool is_closing() override { return phase_ != Phase::Open; }
  void close() override;
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() override { return protocol_; }
  // ReadTransport
  bool is_reading() override { return phase_ == Phase::Open && !paused_; }
  void pause_reading() override;
  void resume_reading() override;
  // FdWatcher
  void on_readable() override;
  void on_writable() override {}
  void on_loop_destroyed() override;

 private:
  enum class Phase { Open, LostPending, Lost };

  void deliver_connection_made();
  void deliver_connection_lost(const MaybeError& exc);
  void lose(const MaybeError& exc);
  void release();
  void update_reading();
  template <class F>
  bool call(const char* name, F&& callback);

  // One read; nullopt when there is nothing to deliver (would block, or an
  // error that already ended the transport). 0 is EOF.
  std::optional<std::size_t> read_into(std::span<char> into);
  void read_into_loop_buffer();
  void read_into_protocol_buffer();
  void on_eof();

  EpollLoop* loop_;  // null once the loop is destroyed
  const Faults faults_;
  int fd_;
  PipeKind kind_;
  std::shared_ptr<StreamProtocol> protocol_;
  Protocol* data_protocol_ = nullptr;
  BufferedProtocol* buffered_protocol_ = nullptr;
  Phase phase_ = Phase::Open;
  bool made_ = false;
  bool paused_ = false;
};

}  // namespace loopspec::reference
