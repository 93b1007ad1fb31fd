#include "pipes_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "support.hpp"

namespace loopspec::scenarios {

namespace {

bool has(const std::string& variant, std::string_view part) { return variant.find(part) != std::string::npos; }

[[noreturn]] void abort_with_errno(const std::string& what) { throw ScenarioAbort(what + ": " + std::strerror(errno)); }

struct Ends {
  int transport = -1;
  int peer = -1;
};

// The two ends of this variant's kind of pipe; `transport_reads` says which
// side the transport is on.
Ends make_ends(ScenarioContext& ctx, bool transport_reads) {
  const std::string& variant = ctx.variant();
  if (has(variant, "+pty")) {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) abort_with_errno("posix_openpt");
    char name[128];
    if (::grantpt(master) < 0 || ::unlockpt(master) < 0 || ::ptsname_r(master, name, sizeof name) != 0) {
      ::close(master);
      abort_with_errno("pty setup");
    }
    int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    termios raw{};
    if (slave < 0 || ::tcgetattr(slave, &raw) < 0) abort_with_errno("pty slave");
    ::cfmakeraw(&raw);  // bytes pass unchanged both ways
    if (::tcsetattr(slave, TCSANOW, &raw) < 0) abort_with_errno("tcsetattr");
    return Ends{master, slave};
  }
  int read_end = -1;
  int write_end = -1;
  if (has(variant, "+fifo")) {
    std::string path = (ctx.temp_dir() / "fifo").string();
    if (::mkfifo(path.c_str(), 0600) < 0) abort_with_errno("mkfifo");
    // The read end first: opening a FIFO's write end without a reader fails with ENXIO.
    read_end = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    write_end = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (read_end < 0 || write_end < 0) abort_with_errno("open fifo");
  } else {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) abort_with_errno("pipe2");
    read_end = fds[0];
    write_end = fds[1];
  }
  return transport_reads ? Ends{read_end, write_end} : Ends{write_end, read_end};
}

// Captures the transport connection_made got, whatever its class.
template <class Observing>
class CapturingProtocol : public Observing {
 public:
  template <class... Args>
  explicit CapturingProtocol(std::shared_ptr<BaseTransport>& slot, Args&&... args)
      : Observing(std::forward<Args>(args)...), slot_(slot) {}
  void connection_made(std::shared_ptr<BaseTransport> transport) override {
    slot_ = transport;
    Observing::connection_made(transport);
  }

 private:
  std::shared_ptr<BaseTransport>& slot_;
};

constexpr std::size_t kBufferedProtocolBufferSize = 1024;

template <class T, class Connect>
std::unique_ptr<PipeConnection> open_pipe(ScenarioContext& ctx, StreamHooks hooks, bool transport_reads,
                                          std::optional<std::size_t> buffer_size, Connect&& connect) {
  auto conn = std::make_unique<PipeConnection>();
  conn->hooks = std::move(hooks);
  Ends ends = make_ends(ctx, transport_reads);
  // On a pty the peer both reads and writes; on a pipe it has the other end only.
  bool peer_reads = !transport_reads || has(ctx.variant(), "+pty");
  conn->peer = std::make_unique<PipePeer>(ctx, ends.peer, peer_reads);
  if (transport_reads && has(ctx.variant(), "+buffered")) {
    conn->protocol = std::make_shared<CapturingProtocol<ObservingBufferedProtocol>>(
        conn->made_with, conn->seen, conn->hooks, buffer_size.value_or(kBufferedProtocolBufferSize));
  } else {
    conn->protocol = std::make_shared<CapturingProtocol<ObservingProtocol>>(conn->made_with, conn->seen, conn->hooks);
  }
  conn->recorded = ctx.recorder().record_stream(conn->protocol);
  bool completed = false;
  MaybeError failure;
  PipeConnection* raw = conn.get();
  connect([recorded = conn->recorded] { return recorded; }, ends.transport, [&, raw](Outcome<T> outcome) {
    completed = true;
    failure = outcome.error;
    raw->completed = outcome.value;
    raw->made_before_done = raw->seen.made > 0;
  });
  ctx.wait([&] { return completed; }, "the pipe setup to complete");
  if (failure || !conn->completed) {
    throw ScenarioAbort("the pipe setup failed: " + (failure ? failure->to_string() : std::string("no transport")));
  }
  ctx.wait([&] { return conn->seen.made > 0; }, "connection_made");
  return conn;
}

}  // namespace

// ---- the peer ----

PipePeer::PipePeer(ScenarioContext& ctx, int fd, bool reads) : PeerThread(fd), reads_(reads) {
  state_.reading = reads;
  watch_with(ctx);
  start();
}

PipePeer::~PipePeer() { stop(); }

PipePeer::Snapshot PipePeer::snapshot() const {
  std::lock_guard lock(mutex_);
  Snapshot copy = state_;
  copy.received_digest = digest_.hex();
  std::size_t queued = 0;
  for (const auto& chunk : queue_) queued += chunk.size();
  copy.send_queue = queued;
  return copy;
}

std::string PipePeer::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void PipePeer::send(std::string data) {
  post([this, data = std::move(data)] {
    if (state_.closed || close_pending_) return;
    queue_.push_back(data);
    write_some();
  });
}

void PipePeer::stop_reading() {
  post([this] { state_.reading = false; });
}

void PipePeer::resume_reading() {
  post([this] {
    state_.reading = reads_;
    if (reads_) read_all();
  });
}

void PipePeer::close() {
  post([this] {
    close_pending_ = true;
    close_when_sent();
  });
}

void PipePeer::wait_synced(ScenarioContext& ctx, std::string_view what) {
  wait_for_commands(ctx, what, [this] {
    if (state_.reading && !state_.closed) read_all();
  });
}

short PipePeer::wanted() {
  short events = 0;
  if (state_.reading && !state_.eof) events |= POLLIN;
  if (!queue_.empty()) events |= POLLOUT;
  return events;
}

void PipePeer::on_ready(short revents) {
  if (state_.reading && (revents & (POLLIN | POLLHUP | POLLERR)) != 0) read_all();
  if (fd_ >= 0 && !queue_.empty() && (revents & (POLLOUT | POLLERR)) != 0) write_some();
}

void PipePeer::read_all() {
  char buffer[64 * 1024];
  while (fd_ >= 0 && !state_.eof) {
    ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n > 0) {
      std::string_view data(buffer, static_cast<std::size_t>(n));
      digest_.update(data);
      received_.append(data);
      state_.bytes_received += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n == 0 || errno == EIO) {
      state_.eof = true;
      return;
    }
    if (state_.error == 0) state_.error = errno;
    state_.eof = true;
    return;
  }
}

void PipePeer::write_some() {
  while (fd_ >= 0 && !queue_.empty()) {
    std::string& chunk = queue_.front();
    ssize_t n = ::write(fd_, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (state_.error == 0) state_.error = errno;
      queue_.clear();  // the other side is gone
      break;
    }
    state_.bytes_sent += static_cast<std::uint64_t>(n);
    chunk.erase(0, static_cast<std::size_t>(n));
    if (chunk.empty()) queue_.pop_front();
  }
  close_when_sent();
}

void PipePeer::close_when_sent() {
  if (!close_pending_ || !queue_.empty() || state_.closed) return;
  close_fd();
  state_.closed = true;
}

// ---- pipe transports of the backend ----

ReadTransport& PipeConnection::reader() {
  auto* reader = dynamic_cast<ReadTransport*>(made_with.get());
  if (reader == nullptr) throw ScenarioAbort("connection_made did not get a ReadTransport");
  return *reader;
}

WriteTransport& PipeConnection::writer() {
  auto* writer = dynamic_cast<WriteTransport*>(made_with.get());
  if (writer == nullptr) throw ScenarioAbort("connection_made did not get a WriteTransport");
  return *writer;
}

std::unique_ptr<PipeConnection> open_read_pipe(ScenarioContext& ctx, StreamHooks hooks,
                                               std::optional<std::size_t> buffer_size) {
  return open_pipe<ReadTransport>(ctx, std::move(hooks), true, buffer_size, [&](auto factory, int fd, auto done) {
    ctx.loop().connect_read_pipe(std::move(factory), fd, std::move(done));
  });
}

std::unique_ptr<PipeConnection> open_write_pipe(ScenarioContext& ctx, StreamHooks hooks) {
  return open_pipe<WriteTransport>(ctx, std::move(hooks), false, std::nullopt, [&](auto factory, int fd, auto done) {
    ctx.loop().connect_write_pipe(std::move(factory), fd, std::move(done));
  });
}

std::uint64_t fill_pipe_until_queued(ScenarioContext& ctx, PipeConnection& conn, Digest& written) {
  conn.peer->stop_reading();
  conn.peer->wait_synced(ctx, "the peer to stop reading");
  auto& t = conn.writer();
  const std::string chunk = pattern(16 * 1024, 901);
  std::uint64_t total = 0;
  constexpr std::uint64_t kLimit = 64ull << 20;
  // As fill_until_buffered: only bytes still buffered once the loop has run mean a full pipe.
  do {
    while (t.get_write_buffer_size() == 0 && !conn.seen.writing_paused()) {
      if (total >= kLimit) {
        throw ScenarioAbort(fmt::format("wrote {} bytes to a pipe nobody reads and get_write_buffer_size() stayed 0", total));
      }
      t.write(chunk);
      written.update(chunk);
      total += chunk.size();
    }
    if (!conn.seen.writing_paused()) ctx.run_pending();
  } while (t.get_write_buffer_size() == 0 && !conn.seen.writing_paused());
  return total;
}

}  // namespace loopspec::scenarios
