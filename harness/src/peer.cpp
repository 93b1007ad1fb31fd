// The peer: a poll loop on its own thread playing the other end of a stream.
//
// Threading: the peer thread is the only one that touches the socket (except
// set_receive_buffer, which runs under the lock that also guards closing it)
// and the only writer of the observed state, always under the lock; callers
// only append commands and read snapshots. The notify hook runs on the peer
// thread with the state lock released, once per loop turn that changed
// something. In TLS mode the socket carries ciphertext: plaintext is
// encrypted one record at a time into `wire` (PeerTlsEngine, peer_tls.hpp)
// and received ciphertext is decrypted before it is counted.
#include "loopspec/peer.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>

#include "loopspec/digest.hpp"
#include "peer_tls.hpp"

namespace loopspec {

namespace {

constexpr std::size_t kDefaultKeepLimit = 16u << 20;
constexpr std::size_t kReadBufferSize = 64u << 10;
// Reads per loop turn, so a fast sender cannot starve the command queue.
constexpr int kReadsPerTurn = 16;
// Plaintext per TLS record the peer sends.
constexpr std::size_t kTlsRecordSize = 16u << 10;

std::string errno_text(int err) { return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")"; }

[[noreturn]] void fail(const std::string& what, int err) { throw std::runtime_error(what + ": " + errno_text(err)); }

// Owns one descriptor until released.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) noexcept : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// A kernel socket address built from an Address.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

SocketAddress to_socket_address(const InetAddress& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(address.host.c_str(), std::to_string(address.port).c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    throw std::runtime_error("address " + to_string(Address{address}) +
                             ": host is not a numeric IPv4 or IPv6 literal (" + ::gai_strerror(rc) + ")");
  }
  SocketAddress out;
  std::memcpy(&out.storage, found->ai_addr, found->ai_addrlen);
  out.length = found->ai_addrlen;
  ::freeaddrinfo(found);
  return out;
}

SocketAddress to_socket_address(const UnixAddress& address) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  bool abstract = !address.path.empty() && address.path[0] == '\0';
  // A filesystem path needs room for its terminating NUL; an abstract name does not.
  std::size_t capacity = sizeof(un.sun_path) - (abstract ? 0 : 1);
  if (address.path.empty()) throw std::runtime_error("Unix socket address: empty path");
  if (address.path.size() > capacity) {
    throw std::runtime_error("Unix socket path too long (" + std::to_string(address.path.size()) +
                             " bytes, at most " + std::to_string(capacity) + "): " + address.path);
  }
  std::memcpy(un.sun_path, address.path.data(), address.path.size());
  SocketAddress out;
  std::memcpy(&out.storage, &un, sizeof(un));
  out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.path.size() + (abstract ? 0 : 1));
  return out;
}

SocketAddress to_socket_address(const Address& address) {
  return std::visit([](const auto& a) { return to_socket_address(a); }, address);
}

bool is_filesystem_path(const Address& address) {
  const auto* unix_address = std::get_if<UnixAddress>(&address);
  return unix_address != nullptr && !unix_address->path.empty() && unix_address->path[0] != '\0';
}

using Clock = std::chrono::steady_clock;

Clock::time_point deadline_after(Duration timeout) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::max(timeout, Duration::zero()));
}

// Milliseconds left until deadline, rounded up so poll never returns early.
int poll_timeout_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration<double, std::milli>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return static_cast<int>(std::min<double>(std::ceil(left), INT_MAX));
}

// Waits until fd reports one of events or deadline passes; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline, const std::string& what) {
  for (;;) {
    pollfd entry{fd, events, 0};
    int n = ::poll(&entry, 1, poll_timeout_ms(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) fail(what + ": poll", errno);
  }
}

// A socket file is stale when nothing listens on it any more.
bool is_stale_socket_file(const SocketAddress& address) {
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (probe.get() < 0) return false;
  return ::connect(probe.get(), address.get(), address.length) < 0 && errno == ECONNREFUSED;
}

}  // namespace

// ---------------------------------------------------------------------------
// Peer

struct Peer::Impl {
  enum class CommandKind { kSend, kStopReading, kResumeReading, kShutdownWrite, kClose, kReset };
  struct Command {
    CommandKind kind;
    std::string data;
    std::size_t chunk_size = 0;
  };
  struct Outgoing {
    std::string data;
    std::size_t offset = 0;
    std::size_t chunk_size = 0;
  };

  Impl(int socket_fd, int event_fd, std::unique_ptr<PeerTlsEngine> engine)
      : fd(socket_fd), wake_fd(event_fd), read_buffer(kReadBufferSize), tls(std::move(engine)) {}
  ~Impl();

  void post(Command command);
  void wake() const;
  PeerSnapshot snapshot() const;

  // Peer thread.
  void run();
  void run_commands();
  void execute(Command& command);
  void write_some();
  void write_some_tls();
  // Sends what is left of the ciphertext; false while the kernel takes no more (or on an error).
  bool flush_wire();
  void read_available();
  void take_plaintext(std::string_view bytes);
  void receive_tls(std::string_view ciphertext);
  void take_tls_output();
  void record_tls_failure();
  // A shutdown_write/close that waited for its close_notify to leave.
  void finish_after_wire();
  bool send_queue_drained() const { return outgoing.empty() && wire.empty(); }
  bool has_output() const;
  void take_socket_error();
  void record_error(int err);
  void discard_outgoing();
  void close_socket();
  void publish();
  bool reading_active() const;
  short interest() const;

  // Written only by the peer thread, under the mutex (so other threads read it
  // under the mutex; the peer thread reads it freely).
  int fd;
  PeerSnapshot state;  // except send_queue, which send() also raises
  Digest received_digest;
  Digest sent_digest;
  std::string kept;

  // Peer thread only.
  const int wake_fd;
  std::deque<Outgoing> outgoing;
  std::vector<char> read_buffer;
  bool input_done = false;  // EOF or a read error: nothing more will arrive
  bool hung_up = false;     // POLLHUP seen: the socket is done both ways
  bool changed = false;     // something observable changed this loop turn

  // TLS only (peer thread).
  std::unique_ptr<PeerTlsEngine> tls;
  std::string wire;  // ciphertext not yet taken by the kernel
  std::size_t wire_offset = 0;
  bool close_notify_due = false;     // the other side's close_notify awaits our answer
  bool shutdown_after_wire = false;  // shutdown(SHUT_WR) once the close_notify is sent
  bool close_after_wire = false;     // close() once the close_notify is sent

  // Shared, under the mutex.
  mutable std::mutex mutex;
  std::deque<Command> commands;
  bool stopping = false;
  std::size_t keep_limit = kDefaultKeepLimit;

  // Held while the hook runs, so set_notify returns only once the previous
  // hook has finished; recursive so the hook may replace itself.
  std::recursive_mutex notify_mutex;
  std::function<void()> notify;

  std::thread thread;
};

Peer::Impl::~Impl() {
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  wake();
  if (thread.joinable()) thread.join();
  if (fd >= 0) ::close(fd);
  ::close(wake_fd);
}

void Peer::Impl::post(Command command) {
  {
    std::lock_guard lock(mutex);
    if (command.kind == CommandKind::kSend) state.send_queue += command.data.size();
    commands.push_back(std::move(command));
  }
  wake();
}

void Peer::Impl::wake() const {
  std::uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the thread will wake anyway.
  while (::write(wake_fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

PeerSnapshot Peer::Impl::snapshot() const {
  std::lock_guard lock(mutex);
  PeerSnapshot out = state;
  out.received_digest = received_digest.hex();
  out.sent_digest = sent_digest.hex();
  return out;
}

bool Peer::Impl::reading_active() const { return fd >= 0 && state.reading && !input_done; }

bool Peer::Impl::has_output() const {
  if (!tls) return !outgoing.empty();
  if (!wire.empty()) return true;
  if (!tls->handshake_done() || tls->failed()) return false;
  return !outgoing.empty() || (close_notify_due && !tls->close_notify_sent());
}

short Peer::Impl::interest() const {
  short events = 0;
  if (reading_active()) events |= POLLIN;
  if (fd >= 0 && has_output()) events |= POLLOUT;
  return events;
}

void Peer::Impl::run() {
  if (tls) {
    // A client's hello goes out at once.
    if (!tls->handshake()) record_tls_failure();
    take_tls_output();
  }
  for (;;) {
    run_commands();
    if (fd >= 0 && has_output()) {
      write_some();
      // A drained queue releases a waiting shutdown_write/close.
      if (send_queue_drained()) run_commands();
      finish_after_wire();
    }
    publish();

    short events = interest();
    // After POLLHUP a socket with nothing asked of it would report it forever.
    int polled_fd = (fd < 0 || (hung_up && events == 0)) ? -1 : fd;
    pollfd entries[2] = {{wake_fd, POLLIN, 0}, {polled_fd, events, 0}};
    if (::poll(entries, 2, -1) < 0) {
      if (errno == EINTR) continue;
      record_error(errno);  // only ENOMEM is possible here; retry after reporting it
      publish();
      continue;
    }
    if (entries[0].revents != 0) {
      std::uint64_t count;
      while (::read(wake_fd, &count, sizeof count) < 0 && errno == EINTR) {
      }
    }
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
    }
    short revents = entries[1].revents;
    if (polled_fd < 0 || revents == 0) continue;
    if (reading_active() && (revents & (POLLIN | POLLHUP | POLLERR))) {
      read_available();  // recv reports a pending error itself
    } else if (revents & POLLERR) {
      take_socket_error();
    }
    if ((revents & POLLHUP) != 0) hung_up = true;
  }
}

void Peer::Impl::run_commands() {
  for (;;) {
    Command command;
    {
      std::lock_guard lock(mutex);
      if (commands.empty()) return;
      CommandKind kind = commands.front().kind;
      bool waits_for_queue = kind == CommandKind::kShutdownWrite || kind == CommandKind::kClose;
      if (waits_for_queue && !send_queue_drained()) return;
      command = std::move(commands.front());
      commands.pop_front();
    }
    execute(command);
  }
}

void Peer::Impl::execute(Command& command) {
  switch (command.kind) {
    case CommandKind::kSend:
      if (fd < 0 || state.write_shutdown) {
        std::lock_guard lock(mutex);
        state.send_queue -= command.data.size();
        changed = true;
      } else if (!command.data.empty()) {
        outgoing.push_back({std::move(command.data), 0, command.chunk_size});
      }
      return;
    case CommandKind::kStopReading:
    case CommandKind::kResumeReading: {
      std::lock_guard lock(mutex);
      state.reading = command.kind == CommandKind::kResumeReading;
      changed = true;
      return;
    }
    case CommandKind::kShutdownWrite:
      if (fd < 0 || state.write_shutdown) return;
      {
        std::lock_guard lock(mutex);
        state.write_shutdown = true;
        changed = true;
      }
      if (tls) {
        tls->close_notify();
        take_tls_output();
        shutdown_after_wire = true;
        finish_after_wire();
        return;
      }
      // ENOTCONN means the connection is already gone, which the reads report.
      if (::shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN) record_error(errno);
      return;
    case CommandKind::kClose:
      if (fd < 0) return;
      if (tls) {
        tls->close_notify();
        take_tls_output();
        close_after_wire = true;
        finish_after_wire();
        return;
      }
      close_socket();
      return;
    case CommandKind::kReset:
      if (fd < 0) return;
      discard_outgoing();
      shutdown_after_wire = close_after_wire = false;
      {
        linger abortive{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
      }
      close_socket();
      return;
  }
}

void Peer::Impl::write_some() {
  if (tls) return write_some_tls();
  while (!outgoing.empty()) {
    Outgoing& item = outgoing.front();
    std::size_t remaining = item.data.size() - item.offset;
    std::size_t length = item.chunk_size == 0 ? remaining : std::min(item.chunk_size, remaining);
    ssize_t sent = ::send(fd, item.data.data() + item.offset, length, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      record_error(errno);
      discard_outgoing();  // the other side is gone: nothing queued can arrive
      return;
    }
    {
      std::lock_guard lock(mutex);
      state.bytes_sent += static_cast<std::uint64_t>(sent);
      state.send_queue -= static_cast<std::uint64_t>(sent);
      sent_digest.update(std::string_view(item.data).substr(item.offset, static_cast<std::size_t>(sent)));
      changed = true;
    }
    item.offset += static_cast<std::size_t>(sent);
    bool chunked = item.chunk_size != 0;
    if (item.offset == item.data.size()) outgoing.pop_front();
    // One chunk per loop turn: each chunk is its own send() and its own notify.
    if (chunked) return;
  }
}

void Peer::Impl::read_available() {
  for (int turn = 0; turn < kReadsPerTurn; ++turn) {
    ssize_t got = ::recv(fd, read_buffer.data(), read_buffer.size(), 0);
    if (got > 0) {
      std::string_view bytes(read_buffer.data(), static_cast<std::size_t>(got));
      if (tls) {
        receive_tls(bytes);
      } else {
        take_plaintext(bytes);
      }
      continue;
    }
    if (got == 0) {
      input_done = true;
      std::lock_guard lock(mutex);
      state.eof_received = true;
      changed = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    input_done = true;
    record_error(errno);
    return;
  }
}

void Peer::Impl::take_plaintext(std::string_view bytes) {
  std::lock_guard lock(mutex);
  state.bytes_received += bytes.size();
  received_digest.update(bytes);
  if (kept.size() < keep_limit) kept.append(bytes.substr(0, keep_limit - kept.size()));
  changed = true;
}

// ---- TLS ----

void Peer::Impl::receive_tls(std::string_view ciphertext) {
  if (tls->failed()) return;
  tls->feed(ciphertext.data(), ciphertext.size());
  if (!tls->handshake_done()) {
    if (!tls->handshake()) {
      record_tls_failure();
      take_tls_output();  // the alert tells the other side why
      return;
    }
    if (tls->handshake_done()) {
      std::lock_guard lock(mutex);
      state.tls_handshake_done = true;
      state.tls_alpn = tls->alpn();
      changed = true;
    }
  }
  // The ciphertext is in the engine now, so the read buffer takes the plaintext.
  while (tls->handshake_done()) {
    PeerTlsEngine::Read got = tls->read(read_buffer.data(), read_buffer.size());
    if (got.bytes > 0) {
      take_plaintext({read_buffer.data(), got.bytes});
      continue;
    }
    if (got.close_notify) {
      close_notify_due = true;
      std::lock_guard lock(mutex);
      state.eof_received = true;
      state.tls_close_notify_received = true;
      changed = true;
    }
    if (got.failed) record_tls_failure();
    break;
  }
  take_tls_output();
}

void Peer::Impl::take_tls_output() {
  std::string more = tls->take_output();
  if (more.empty()) return;
  if (wire_offset > 0) {
    wire.erase(0, wire_offset);
    wire_offset = 0;
  }
  wire += more;
}

void Peer::Impl::record_tls_failure() {
  std::lock_guard lock(mutex);
  if (!state.tls_error) state.tls_error = tls->error();
  changed = true;
}

bool Peer::Impl::flush_wire() {
  while (wire_offset < wire.size()) {
    ssize_t sent = ::send(fd, wire.data() + wire_offset, wire.size() - wire_offset, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        record_error(errno);
        discard_outgoing();
      }
      return false;
    }
    wire_offset += static_cast<std::size_t>(sent);
  }
  wire.clear();
  wire_offset = 0;
  return true;
}

void Peer::Impl::write_some_tls() {
  for (;;) {
    if (!flush_wire()) return;
    if (!tls->handshake_done() || tls->failed()) return;
    if (outgoing.empty()) {
      // Answer the other side's close_notify once everything queued before it is out.
      if (close_notify_due && !tls->close_notify_sent()) {
        tls->close_notify();
        take_tls_output();
        continue;
      }
      return;
    }
    Outgoing& item = outgoing.front();
    std::size_t remaining = item.data.size() - item.offset;
    std::size_t length = std::min(item.chunk_size == 0 ? kTlsRecordSize : item.chunk_size, remaining);
    if (!tls->write(item.data.data() + item.offset, length)) {
      record_tls_failure();
      discard_outgoing();
      return;
    }
    {
      std::lock_guard lock(mutex);
      state.bytes_sent += length;
      state.send_queue -= length;
      sent_digest.update(std::string_view(item.data).substr(item.offset, length));
      changed = true;
    }
    item.offset += length;
    bool chunked = item.chunk_size != 0;
    if (item.offset == item.data.size()) outgoing.pop_front();
    take_tls_output();
    // One chunk per loop turn: each chunk is its own record, sent on its own.
    if (chunked) {
      flush_wire();
      return;
    }
  }
}

void Peer::Impl::finish_after_wire() {
  if (!wire.empty() || fd < 0) return;
  if (shutdown_after_wire) {
    shutdown_after_wire = false;
    if (::shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN) record_error(errno);
  }
  if (close_after_wire) {
    close_after_wire = false;
    close_socket();
  }
}

void Peer::Impl::take_socket_error() {
  int err = 0;
  socklen_t length = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &length) == 0 && err != 0) {
    record_error(err);
    if (err == ECONNRESET) input_done = true;
  }
}

void Peer::Impl::record_error(int err) {
  std::lock_guard lock(mutex);
  if (!state.error) state.error = err;
  if (err == ECONNRESET || err == EPIPE) state.reset_received = true;
  changed = true;
}

void Peer::Impl::discard_outgoing() {
  wire.clear();
  wire_offset = 0;
  if (outgoing.empty()) return;
  std::uint64_t dropped = 0;
  for (const Outgoing& item : outgoing) dropped += item.data.size() - item.offset;
  outgoing.clear();
  std::lock_guard lock(mutex);
  state.send_queue -= dropped;
  changed = true;
}

void Peer::Impl::close_socket() {
  // Under the lock, so set_receive_buffer never sees a descriptor number
  // that has been closed and perhaps reused.
  std::lock_guard lock(mutex);
  ::close(fd);
  fd = -1;
  state.closed = true;
  changed = true;
}

void Peer::Impl::publish() {
  if (!changed) return;
  changed = false;
  std::lock_guard lock(notify_mutex);
  // A copy, so a hook that replaces itself does not destroy what is running.
  std::function<void()> hook = notify;
  if (hook) hook();
}

Peer::Peer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Peer::~Peer() = default;

std::unique_ptr<Peer> Peer::adopt(int fd) { return start(fd, nullptr); }

std::unique_ptr<Peer> Peer::adopt(int fd, const PeerTls& tls) {
  UniqueFd owned(fd);
  auto engine = std::make_unique<PeerTlsEngine>(tls);
  return start(owned.release(), std::move(engine));
}

std::unique_ptr<Peer> Peer::start(int fd, std::unique_ptr<PeerTlsEngine> tls) {
  UniqueFd owned(fd);
  int type = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) < 0) {
    fail("Peer::adopt(" + std::to_string(fd) + "): not an open socket", errno);
  }
  if (type != SOCK_STREAM && type != SOCK_SEQPACKET) {
    throw std::runtime_error("Peer::adopt(" + std::to_string(fd) + "): not a stream socket (SO_TYPE " +
                             std::to_string(type) + ")");
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) fail("Peer::adopt: O_NONBLOCK", errno);
  int fd_flags = ::fcntl(fd, F_GETFD);
  if (fd_flags < 0 || ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) < 0) fail("Peer::adopt: FD_CLOEXEC", errno);

  int event_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd < 0) fail("Peer::adopt: eventfd", errno);
  auto impl = std::make_unique<Impl>(owned.release(), event_fd, std::move(tls));
  impl->thread = std::thread([raw = impl.get()] { raw->run(); });
  return std::unique_ptr<Peer>(new Peer(std::move(impl)));
}

std::unique_ptr<Peer> Peer::connect(const Address& address, Duration timeout) {
  return adopt(connect_socket(address, timeout));
}

std::unique_ptr<Peer> Peer::connect(const Address& address, Duration timeout, const PeerTls& tls) {
  return adopt(connect_socket(address, timeout), tls);
}

int Peer::connect_socket(const Address& address, Duration timeout) {
  const std::string what = "Peer::connect to " + to_string(address);
  SocketAddress target = to_socket_address(address);
  auto deadline = deadline_after(timeout);
  UniqueFd fd(::socket(target.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) fail(what + ": socket", errno);
  if (::connect(fd.get(), target.get(), target.length) < 0) {
    if (errno == EAGAIN && target.family() == AF_UNIX) {
      throw std::runtime_error(what + ": the listener's backlog is full");
    }
    if (errno != EINPROGRESS && errno != EINTR) fail(what, errno);
    if (!wait_for(fd.get(), POLLOUT, deadline, what)) {
      throw std::runtime_error(what + ": timed out after " + std::to_string(timeout.count()) + " s");
    }
    int err = 0;
    socklen_t length = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &length) < 0) fail(what + ": SO_ERROR", errno);
    if (err != 0) fail(what, err);
  }
  return fd.release();
}

void Peer::send(std::string data, std::size_t chunk_size) {
  impl_->post({Impl::CommandKind::kSend, std::move(data), chunk_size});
}
void Peer::stop_reading() { impl_->post({Impl::CommandKind::kStopReading, {}, 0}); }
void Peer::resume_reading() { impl_->post({Impl::CommandKind::kResumeReading, {}, 0}); }
void Peer::shutdown_write() { impl_->post({Impl::CommandKind::kShutdownWrite, {}, 0}); }
void Peer::close() { impl_->post({Impl::CommandKind::kClose, {}, 0}); }
void Peer::reset() { impl_->post({Impl::CommandKind::kReset, {}, 0}); }

PeerSnapshot Peer::snapshot() const { return impl_->snapshot(); }

std::string Peer::received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->kept;
}

void Peer::set_keep_limit(std::size_t bytes) {
  std::lock_guard lock(impl_->mutex);
  impl_->keep_limit = bytes;
  if (impl_->kept.size() > bytes) impl_->kept.resize(bytes);
}

void Peer::set_notify(std::function<void()> notify) {
  std::lock_guard lock(impl_->notify_mutex);
  impl_->notify = std::move(notify);
}

void Peer::set_receive_buffer(int bytes) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->fd < 0) return;
  if (::setsockopt(impl_->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) < 0) {
    fail("Peer::set_receive_buffer(" + std::to_string(bytes) + ")", errno);
  }
}

// ---------------------------------------------------------------------------
// PeerListener

PeerListener::PeerListener(const Address& address) : address_(address) {
  const std::string what = "PeerListener on " + to_string(address);
  SocketAddress local = to_socket_address(address);
  UniqueFd fd(::socket(local.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) fail(what + ": socket", errno);

  const bool filesystem = is_filesystem_path(address);
  const std::string path = filesystem ? std::get<UnixAddress>(address).path : std::string();
  if (local.family() != AF_UNIX) {
    int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  } else if (filesystem) {
    struct stat existing {};
    if (::lstat(path.c_str(), &existing) == 0 && S_ISSOCK(existing.st_mode) && is_stale_socket_file(local)) {
      ::unlink(path.c_str());
    }
  }
  if (::bind(fd.get(), local.get(), local.length) < 0) fail(what + ": bind", errno);
  if (filesystem) {
    struct stat bound {};
    if (::stat(path.c_str(), &bound) == 0) {
      bound_device_ = static_cast<std::uint64_t>(bound.st_dev);
      bound_inode_ = static_cast<std::uint64_t>(bound.st_ino);
    }
  }
  if (::listen(fd.get(), SOMAXCONN) < 0) {
    int err = errno;
    if (filesystem) ::unlink(path.c_str());
    fail(what + ": listen", err);
  }

  if (auto* inet = std::get_if<InetAddress>(&address_)) {
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length) < 0) {
      int err = errno;
      fail(what + ": getsockname", err);
    }
    char host[INET6_ADDRSTRLEN] = {};
    if (bound.ss_family == AF_INET6) {
      const auto& v6 = reinterpret_cast<const sockaddr_in6&>(bound);
      ::inet_ntop(AF_INET6, &v6.sin6_addr, host, sizeof host);
      inet->port = ntohs(v6.sin6_port);
    } else {
      const auto& v4 = reinterpret_cast<const sockaddr_in&>(bound);
      ::inet_ntop(AF_INET, &v4.sin_addr, host, sizeof host);
      inet->port = ntohs(v4.sin_port);
    }
    inet->host = host;
  }
  fd_ = fd.release();
}

PeerListener::~PeerListener() {
  if (fd_ >= 0) ::close(fd_);
  if (!is_filesystem_path(address_)) return;
  // Only the socket file this listener created: another may have replaced it.
  const std::string& path = std::get<UnixAddress>(address_).path;
  struct stat current {};
  if (::lstat(path.c_str(), &current) == 0 && static_cast<std::uint64_t>(current.st_dev) == bound_device_ &&
      static_cast<std::uint64_t>(current.st_ino) == bound_inode_) {
    ::unlink(path.c_str());
  }
}

Address PeerListener::address() const { return address_; }

std::unique_ptr<Peer> PeerListener::accept(Duration timeout) {
  int fd = accept_socket(timeout);
  return fd >= 0 ? Peer::adopt(fd) : nullptr;
}

std::unique_ptr<Peer> PeerListener::accept(Duration timeout, const PeerTls& tls) {
  int fd = accept_socket(timeout);
  return fd >= 0 ? Peer::adopt(fd, tls) : nullptr;
}

int PeerListener::accept_socket(Duration timeout) {
  const std::string what = "PeerListener::accept on " + to_string(address_);
  auto deadline = deadline_after(timeout);
  for (;;) {
    if (!wait_for(fd_, POLLIN, deadline, what)) return -1;
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    // The connection went away before accept, or another accept took it.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED || errno == EINTR || errno == EPROTO) {
      continue;
    }
    fail(what, errno);
  }
}

}  // namespace loopspec
