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
// - Reading (read()), BufferedProtocols and pause_reading()/resume_reading()
//   as stream_reading_transport.hpp promises. CPython's read pipe knows no
//   BufferedProtocol; the 3.8 page says buffered protocols work with every
//   streaming setup method.
// - EOF (read() gives 0; a pty whose other side closed gives EIO, which Linux
//   uses for that, and is taken as EOF too): reading stops, is_closing()
//   turns true, eof_received is called once and its return value ignored —
//   there is nothing to keep half-open — then connection_lost(None).
// - A read error ends the transport with connection_lost(exc) (the errno's
//   canonical error); a protocol callback that throws ends it with the
//   exception's canonical error, except eof_received, whose exception is only
//   reported: the transport is closing anyway (as in CPython).
// - close(): reading stops at once, connection_lost(None) follows; data still
//   in the pipe is never delivered.
// - get_extra_info('pipe') is {"fd": N} (the fd is -1 once closed).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>

#include "loopspec/event_loop.hpp"
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/reference/pipe_descriptor.hpp"
#include "loopspec/reference/stream_reading_transport.hpp"

namespace loopspec::reference {

class ReadPipeTransport final : public StreamReadingTransport<ReadTransport> {
  struct Passkey {};

 public:
  // Adopts fd (already checked by adopt_pipe_descriptor; closed if this
  // throws) and schedules connection_made. protocol must be a Protocol or a
  // BufferedProtocol.
  static std::shared_ptr<ReadPipeTransport> start(EpollLoop& loop, int fd, PipeKind kind,
                                                  std::shared_ptr<StreamProtocol> protocol,
                                                  Completion<ReadTransport> done);

  ReadPipeTransport(Passkey, EpollLoop& loop, int fd, PipeKind kind);

  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override;
  void close() override { lose(std::nullopt); }
  // FdWatcher
  void on_writable() override {}

 private:
  ssize_t read_some(std::span<char> into) override;
  bool is_end_of_file(int err) override;
  void on_eof() override;

  PipeKind kind_;
};

}  // namespace loopspec::reference
