// Building blocks of the pipe scenarios: the far end of a pipe, and pipe
// transports of the backend under test with recorded observing protocols.
//
// Variants: "pipe" (pipe2), "pipe+fifo" (a named FIFO in the run's temporary
// directory), "pipe+pty" (a pseudo-terminal in raw mode: the transport gets
// the master, the peer the slave); "+buffered" gives the read side a
// BufferedProtocol. A pty's other side closing reads as EIO on Linux, which
// the scenarios count as its end of file, like the reference does.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/conformance/context.hpp"
#include "loopspec/digest.hpp"
#include "peer_thread.hpp"

namespace loopspec::scenarios {

namespace pipe_variants {
inline const std::vector<std::string> kRead{"pipe",          "pipe+fifo",          "pipe+pty",
                                           "pipe+buffered", "pipe+fifo+buffered", "pipe+pty+buffered"};
inline const std::vector<std::string> kReadPlain{"pipe", "pipe+fifo", "pipe+pty"};
inline const std::vector<std::string> kWrite{"pipe", "pipe+fifo", "pipe+pty"};
// Where the writer's closing must leave its data readable and where the writer is told when the
// reader goes: pipes and FIFOs. Closing a pty's master hangs the terminal up and drops what the
// slave has not read yet; a pty's writer is not told when the reader goes (as in CPython).
inline const std::vector<std::string> kWriteClosable{"pipe", "pipe+fifo"};
}  // namespace pipe_variants

// The harness's end of a pipe, on a thread of its own: it writes what it is
// sent, as the kernel accepts it, and (if it reads) reads while reading is on.
class PipePeer : public PeerThread {
 public:
  struct Snapshot {
    std::uint64_t bytes_received = 0;
    std::string received_digest;
    bool eof = false;  // the other side closed (read gave 0, or EIO on a pty)
    int error = 0;     // errno of the first failed read or write
    bool reading = false;
    std::uint64_t bytes_sent = 0;
    std::size_t send_queue = 0;
    bool closed = false;  // this end was closed
  };

  // reads: whether this end is read (the read end of a pipe, or a pty).
  PipePeer(ScenarioContext& ctx, int fd, bool reads);
  ~PipePeer() override;

  Snapshot snapshot() const;
  std::string received() const;

  // Commands, executed in order on the peer thread.
  void send(std::string data);
  void stop_reading();
  void resume_reading();
  void close();  // once everything sent before it is written
  // Waits until every command before it is done and the pipe was read dry.
  void wait_synced(ScenarioContext& ctx, std::string_view what);

 protected:
  short wanted() override;
  void on_ready(short revents) override;

 private:
  void read_all();
  void write_some();
  void close_when_sent();

  const bool reads_;
  Snapshot state_;
  Digest digest_;
  std::string received_;
  std::deque<std::string> queue_;
  bool close_pending_ = false;
};

// A pipe transport of the backend with a recorded observing protocol, and
// the peer at the pipe's other end.
struct PipeConnection {
  StreamObservations seen;
  StreamHooks hooks;
  std::shared_ptr<StreamProtocol> protocol;   // the observing protocol, before recording
  std::shared_ptr<StreamProtocol> recorded;   // what the protocol factory handed the loop
  std::shared_ptr<BaseTransport> made_with;   // what connection_made got (recorded)
  std::shared_ptr<BaseTransport> completed;   // what the setup completed with
  bool made_before_done = false;              // connection_made had run when it completed
  std::unique_ptr<PipePeer> peer;

  ReadTransport& reader();   // made_with as a ReadTransport (ScenarioAbort otherwise)
  WriteTransport& writer();  // made_with as a WriteTransport (ScenarioAbort otherwise)
};

// connect_read_pipe / connect_write_pipe on this variant's kind of pipe,
// waiting for connection_made; a failed setup stops the scenario. In the
// "+buffered" variants get_buffer returns buffer_size bytes (default 1 KiB).
std::unique_ptr<PipeConnection> open_read_pipe(ScenarioContext& ctx, StreamHooks hooks = {},
                                               std::optional<std::size_t> buffer_size = std::nullopt);
std::unique_ptr<PipeConnection> open_write_pipe(ScenarioContext& ctx, StreamHooks hooks = {});

// Writes chunks through a write pipe whose peer stopped reading until the
// transport queues something; returns the bytes written (added to `written`).
std::uint64_t fill_pipe_until_queued(ScenarioContext& ctx, PipeConnection& conn, Digest& written);

}  // namespace loopspec::scenarios
