// Harness machinery: the scripted peer (harness/include/loopspec/peer.hpp).
// These tests check the peer itself against plain sockets, not any rule of the
// contract. They synchronise on the notify hook and on socket readiness; every
// timeout only guards against a hang.
#include "loopspec/peer.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "loopspec/digest.hpp"
#include "loopspec/tls_material.hpp"

namespace loopspec {
namespace {

using namespace std::chrono_literals;

constexpr Duration kGuard = 10s;  // only against hangs

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Waits on a peer's notify hook until a condition on its snapshot holds.
class PeerWatch {
 public:
  explicit PeerWatch(Peer& peer) : peer_(peer) {
    peer_.set_notify([this] {
      std::lock_guard lock(mutex_);
      ++notifications_;
      if (std::this_thread::get_id() == caller_) notified_on_caller_ = true;
      changed_.notify_all();
    });
  }
  ~PeerWatch() { peer_.set_notify(nullptr); }

  bool wait(const std::function<bool(const PeerSnapshot&)>& condition, Duration guard = kGuard) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, guard, [&] { return condition(peer_.snapshot()); });
  }
  int notifications() {
    std::lock_guard lock(mutex_);
    return notifications_;
  }
  bool notified_on_caller() {
    std::lock_guard lock(mutex_);
    return notified_on_caller_;
  }

 private:
  Peer& peer_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int notifications_ = 0;
  bool notified_on_caller_ = false;
  std::thread::id caller_ = std::this_thread::get_id();
};

std::string pattern(std::size_t size, unsigned seed = 1) {
  std::string out(size, '\0');
  std::uint32_t x = seed * 2654435761u + 12345u;
  for (char& c : out) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

bool readable(int fd, Duration guard = kGuard) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, static_cast<int>(std::chrono::duration<double, std::milli>(guard).count())) > 0;
}

// What a plain socket read until EOF, an error or the guard.
struct Drained {
  std::string data;
  int error = 0;  // errno of the failing recv, 0 on EOF
  bool timed_out = false;
};

Drained drain(int fd, std::size_t stop_after = SIZE_MAX) {
  Drained out;
  std::vector<char> buffer(1 << 16);
  while (out.data.size() < stop_after) {
    if (!readable(fd)) {
      out.timed_out = true;
      return out;
    }
    ssize_t got = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (got > 0) {
      out.data.append(buffer.data(), static_cast<std::size_t>(got));
    } else if (got == 0) {
      return out;
    } else if (errno != EAGAIN && errno != EINTR) {
      out.error = errno;
      return out;
    }
  }
  return out;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    ASSERT_GT(sent, 0) << std::strerror(errno);
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
}

struct Pair {
  std::unique_ptr<Peer> peer;
  Fd other;
};

Pair socket_pair(int type = SOCK_STREAM) {
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair failed");
  return {Peer::adopt(fds[0]), Fd(fds[1])};
}

Fd connect_raw(const Address& address) {
  Fd fd;
  if (const auto* inet = std::get_if<InetAddress>(&address)) {
    bool v6 = inet->host.find(':') != std::string::npos;
    fd.reset(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage storage{};
    socklen_t length;
    if (v6) {
      auto& a = reinterpret_cast<sockaddr_in6&>(storage);
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(inet->port);
      ::inet_pton(AF_INET6, inet->host.c_str(), &a.sin6_addr);
      length = sizeof a;
    } else {
      auto& a = reinterpret_cast<sockaddr_in&>(storage);
      a.sin_family = AF_INET;
      a.sin_port = htons(inet->port);
      ::inet_pton(AF_INET, inet->host.c_str(), &a.sin_addr);
      length = sizeof a;
    }
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) fd.reset();
  } else {
    const auto& path = std::get<UnixAddress>(address).path;
    fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fd.reset();
  }
  return fd;
}

// A peer accepted from a TCP listener, with the raw client socket as the other end.
Pair tcp_pair() {
  PeerListener listener(InetAddress{"127.0.0.1", 0});
  Fd other = connect_raw(listener.address());
  if (other.get() < 0) throw std::runtime_error("connect to the listener failed");
  auto peer = listener.accept(kGuard);
  if (!peer) throw std::runtime_error("accept timed out");
  return {std::move(peer), std::move(other)};
}

std::string unique_unix_path() {
  static std::atomic<int> counter{0};
  return "/tmp/loopspec-peer-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".sock";
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

int open_fd_count() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// --- sending ---------------------------------------------------------------

TEST(PeerSend, WholeSendArrivesWithDigestAndCounts) {
  auto [peer, other] = socket_pair();
  PeerWatch watch(*peer);
  const std::string data = pattern(300000);
  peer->send(data);
  Drained got = drain(other.get(), data.size());
  ASSERT_FALSE(got.timed_out);
  EXPECT_EQ(got.data, data);
  ASSERT_TRUE(watch.wait([&](const PeerSnapshot& s) { return s.bytes_sent == data.size() && s.send_queue == 0; }));
  PeerSnapshot s = peer->snapshot();
  EXPECT_EQ(s.sent_digest, Digest::of(data));
  EXPECT_EQ(s.bytes_received, 0u);
  EXPECT_FALSE(s.error.has_value());
}

TEST(PeerSend, ChunkedSendUsesOneSendCallPerChunk) {
  // SOCK_SEQPACKET keeps each send() a record, so the chunking is visible.
  auto [peer, other] = socket_pair(SOCK_SEQPACKET);
  PeerWatch watch(*peer);
  const std::string data = pattern(1000, 7);
  peer->send(data, 300);
  std::vector<std::size_t> records;
  std::string joined;
  char buffer[4096];
  while (joined.size() < data.size()) {
    ASSERT_TRUE(readable(other.get()));
    ssize_t got = ::recv(other.get(), buffer, sizeof buffer, 0);
    ASSERT_GT(got, 0);
    records.push_back(static_cast<std::size_t>(got));
    joined.append(buffer, static_cast<std::size_t>(got));
  }
  EXPECT_EQ(records, (std::vector<std::size_t>{300, 300, 300, 100}));
  EXPECT_EQ(joined, data);
  ASSERT_TRUE(watch.wait([&](const PeerSnapshot& s) { return s.bytes_sent == data.size(); }));
  EXPECT_EQ(peer->snapshot().sent_digest, Digest::of(data));
}

TEST(PeerSend, ManySmallChunksArriveInOrder) {
  auto [peer, other] = tcp_pair();
  PeerWatch watch(*peer);
  const std::string first = pattern(50000, 2);
  const std::string second = pattern(70001, 3);
  peer->send(first, 1000);
  peer->send(second, 4096);
  Drained got = drain(other.get(), first.size() + second.size());
  ASSERT_FALSE(got.timed_out);
  EXPECT_EQ(got.data, first + second);
  ASSERT_TRUE(watch.wait([&](const PeerSnapshot& s) { return s.send_queue == 0; }));
  EXPECT_EQ(peer->snapshot().sent_digest, Digest::of(first + second));
}

TEST(PeerSend, NotifiesOnThePeerThread) {
  auto [peer, other] = socket_pair();
  PeerWatch watch(*peer);
  peer->send("ping");
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.bytes_sent == 4; }));
  EXPECT_GE(watch.notifications(), 1);
  EXPECT_FALSE(watch.notified_on_caller());
}

// --- reading and back-pressure --------------------------------------------

TEST(PeerReading, ReceivesBytesDigestAndKeepsThem) {
  auto [peer, other] = socket_pair();
  PeerWatch watch(*peer);
  const std::string data = pattern(200000, 4);
  send_all(other.get(), data);
  ASSERT_TRUE(watch.wait([&](const PeerSnapshot& s) { return s.bytes_received == data.size(); }));
  EXPECT_EQ(peer->snapshot().received_digest, Digest::of(data));
  EXPECT_EQ(peer->received(), data);
}

TEST(PeerReading, KeepLimitBoundsKeptBytesButNotCounts) {
  auto [peer, other] = socket_pair();
  PeerWatch watch(*peer);
  peer->set_keep_limit(10);
  const std::string data = pattern(100, 5);
  send_all(other.get(), data);
  ASSERT_TRUE(watch.wait([&](const PeerSnapshot& s) { return s.bytes_received == data.size(); }));
  EXPECT_EQ(peer->received(), data.substr(0, 10));
  EXPECT_EQ(peer->snapshot().received_digest, Digest::of(data));
}

void expect_back_pressure_then_drain(Pair pair) {
  auto& [peer, other] = pair;
  PeerWatch watch(*peer);
  // Not smaller over TCP: see set_receive_buffer.
  int small = 32768;
  peer->set_receive_buffer(small);
  ::setsockopt(other.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  peer->stop_reading();
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return !s.reading; }));

  set_nonblocking(other.get());
  std::string sent;
  const std::string block = pattern(4096, 6);
  bool blocked = false;
  for (int i = 0; i < (64 << 20) / 4096 && !blocked; ++i) {
    ssize_t n = ::send(other.get(), block.data(), block.size(), MSG_NOSIGNAL);
    if (n < 0) {
      ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
      blocked = true;
    } else {
      sent.append(block, 0, static_cast<std::size_t>(n));
    }
  }
  ASSERT_TRUE(blocked) << "the other end never saw EAGAIN after " << sent.size() << " bytes";
  ASSERT_GT(sent.size(), 0u);
  EXPECT_EQ(peer->snapshot().bytes_received, 0u) << "the peer read while told to stop";

  peer->resume_reading();
  ASSERT_TRUE(watch.wait([&](const PeerSnapshot& s) { return s.bytes_received == sent.size(); }));
  PeerSnapshot s = peer->snapshot();
  EXPECT_TRUE(s.reading);
  EXPECT_EQ(s.received_digest, Digest::of(sent));
  EXPECT_EQ(peer->received(), sent);
}

TEST(PeerReading, StopReadingBuildsBackPressureOverUnixResumeDrainsIt) {
  expect_back_pressure_then_drain(socket_pair());
}

TEST(PeerReading, StopReadingBuildsBackPressureOverTcpResumeDrainsIt) {
  expect_back_pressure_then_drain(tcp_pair());
}

// --- ending the connection -------------------------------------------------

TEST(PeerShutdown, ShutdownWriteAfterLargeSendDeliversAllThenEof) {
  auto [peer, other] = tcp_pair();
  PeerWatch watch(*peer);
  const std::string data = pattern(4 << 20, 8);
  peer->send(data);
  peer->shutdown_write();  // must wait for the send queue, not cut it short
  Drained got = drain(other.get());
  ASSERT_FALSE(got.timed_out);
  EXPECT_EQ(got.error, 0);
  EXPECT_EQ(got.data.size(), data.size());
  EXPECT_TRUE(got.data == data);
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.write_shutdown; }));
  EXPECT_FALSE(peer->snapshot().closed);

  // Half-closed: the peer still reads what the other end sends.
  send_all(other.get(), "after");
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.bytes_received == 5; }));
  EXPECT_EQ(peer->received(), "after");
}

TEST(PeerShutdown, SendAfterShutdownWriteIsDiscarded) {
  auto [peer, other] = socket_pair();
  PeerWatch watch(*peer);
  peer->send("kept");
  peer->shutdown_write();
  peer->send("dropped");
  Drained got = drain(other.get());
  EXPECT_EQ(got.data, "kept");
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.write_shutdown && s.send_queue == 0; }));
  EXPECT_EQ(peer->snapshot().bytes_sent, 4u);
  EXPECT_FALSE(peer->snapshot().error.has_value());
}

TEST(PeerShutdown, CloseAfterLargeSendDeliversAllThenEof) {
  auto [peer, other] = tcp_pair();
  PeerWatch watch(*peer);
  const std::string data = pattern(2 << 20, 9);
  peer->send(data, 65536);
  peer->close();
  Drained got = drain(other.get());
  ASSERT_FALSE(got.timed_out);
  EXPECT_EQ(got.error, 0);
  EXPECT_TRUE(got.data == data);
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.closed; }));
  EXPECT_EQ(peer->snapshot().bytes_sent, data.size());
}

TEST(PeerShutdown, ResetGivesTheOtherEndConnectionReset) {
  auto [peer, other] = tcp_pair();
  PeerWatch watch(*peer);
  peer->reset();
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.closed; }));
  Drained got = drain(other.get());
  ASSERT_FALSE(got.timed_out);
  EXPECT_EQ(got.error, ECONNRESET);
  EXPECT_TRUE(got.data.empty());
}

TEST(PeerShutdown, ResetDiscardsTheSendQueue) {
  auto [peer, other] = tcp_pair();
  PeerWatch watch(*peer);
  // The other end does not read, so most of this stays queued.
  const std::string data = pattern(32 << 20, 10);
  peer->send(data);
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.bytes_sent > 0; }));
  peer->reset();
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.closed; }));
  PeerSnapshot s = peer->snapshot();
  EXPECT_EQ(s.send_queue, 0u);
  EXPECT_LT(s.bytes_sent, data.size());
  Drained got = drain(other.get());
  ASSERT_FALSE(got.timed_out);
  EXPECT_EQ(got.error, ECONNRESET);
  EXPECT_LT(got.data.size(), data.size());
}

TEST(PeerShutdown, CommandsAfterCloseAreIgnored) {
  auto [peer, other] = socket_pair();
  PeerWatch watch(*peer);
  peer->close();
  peer->send("late");
  peer->shutdown_write();
  peer->reset();
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.closed && s.send_queue == 0; }));
  Drained got = drain(other.get());
  EXPECT_EQ(got.error, 0);
  EXPECT_TRUE(got.data.empty());
  PeerSnapshot s = peer->snapshot();
  EXPECT_EQ(s.bytes_sent, 0u);
  EXPECT_FALSE(s.write_shutdown);
  EXPECT_FALSE(s.error.has_value());
}

// --- what the other side does ---------------------------------------------

TEST(PeerObserve, EofFromTheOtherSide) {
  auto [peer, other] = socket_pair();
  PeerWatch watch(*peer);
  send_all(other.get(), "hello");
  ASSERT_EQ(::shutdown(other.get(), SHUT_WR), 0);
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.eof_received; }));
  PeerSnapshot s = peer->snapshot();
  EXPECT_EQ(peer->received(), "hello");
  EXPECT_FALSE(s.reset_received);
  EXPECT_FALSE(s.error.has_value());
  EXPECT_FALSE(s.closed);

  // EOF ends only the input: the peer still sends.
  peer->send("reply");
  Drained got = drain(other.get(), 5);
  EXPECT_EQ(got.data, "reply");
}

TEST(PeerObserve, EofSeenOnlyAfterResumeReading) {
  auto [peer, other] = socket_pair();
  PeerWatch watch(*peer);
  peer->stop_reading();
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return !s.reading; }));
  send_all(other.get(), "queued");
  ASSERT_EQ(::shutdown(other.get(), SHUT_WR), 0);
  peer->resume_reading();
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.eof_received; }));
  EXPECT_EQ(peer->received(), "queued");
}

TEST(PeerObserve, ResetFromTheOtherSide) {
  auto [peer, other] = tcp_pair();
  PeerWatch watch(*peer);
  linger abortive{1, 0};
  ASSERT_EQ(::setsockopt(other.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive), 0);
  other.reset();
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.reset_received; }));
  PeerSnapshot s = peer->snapshot();
  ASSERT_TRUE(s.error.has_value());
  EXPECT_EQ(*s.error, ECONNRESET);
  EXPECT_FALSE(s.eof_received);
}

TEST(PeerObserve, ResetFromTheOtherSideWhileNotReading) {
  auto [peer, other] = tcp_pair();
  PeerWatch watch(*peer);
  peer->stop_reading();
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return !s.reading; }));
  linger abortive{1, 0};
  ASSERT_EQ(::setsockopt(other.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive), 0);
  other.reset();
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.reset_received; }));
  EXPECT_EQ(peer->snapshot().error, ECONNRESET);
}

TEST(PeerObserve, SendToAClosedOtherSideReportsTheFailure) {
  auto [peer, other] = socket_pair();
  PeerWatch watch(*peer);
  other.reset();
  peer->send(pattern(1 << 20, 11));
  ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.reset_received && s.send_queue == 0; }));
  PeerSnapshot s = peer->snapshot();
  ASSERT_TRUE(s.error.has_value());
  EXPECT_TRUE(*s.error == EPIPE || *s.error == ECONNRESET) << *s.error;
}

// --- connect, listen, accept ----------------------------------------------

void expect_two_way_exchange(Peer& a, Peer& b) {
  PeerWatch watch_a(a);
  PeerWatch watch_b(b);
  a.send("from a", 2);
  b.send("from b");
  ASSERT_TRUE(watch_b.wait([](const PeerSnapshot& s) { return s.bytes_received == 6; }));
  ASSERT_TRUE(watch_a.wait([](const PeerSnapshot& s) { return s.bytes_received == 6; }));
  EXPECT_EQ(b.received(), "from a");
  EXPECT_EQ(a.received(), "from b");
  a.shutdown_write();
  ASSERT_TRUE(watch_b.wait([](const PeerSnapshot& s) { return s.eof_received; }));
}

TEST(PeerConnect, TcpIpv4ConnectAndAccept) {
  PeerListener listener(InetAddress{"127.0.0.1", 0});
  const auto bound = std::get<InetAddress>(listener.address());
  EXPECT_EQ(bound.host, "127.0.0.1");
  EXPECT_NE(bound.port, 0);
  auto client = Peer::connect(listener.address(), kGuard);
  auto server = listener.accept(kGuard);
  ASSERT_NE(server, nullptr);
  expect_two_way_exchange(*client, *server);
}

TEST(PeerConnect, TcpIpv6ConnectAndAccept) {
  std::unique_ptr<PeerListener> listener;
  try {
    listener = std::make_unique<PeerListener>(InetAddress{"::1", 0});
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback: " << e.what();
  }
  const auto bound = std::get<InetAddress>(listener->address());
  EXPECT_EQ(bound.host, "::1");
  EXPECT_NE(bound.port, 0);
  auto client = Peer::connect(listener->address(), kGuard);
  auto server = listener->accept(kGuard);
  ASSERT_NE(server, nullptr);
  expect_two_way_exchange(*server, *client);
}

TEST(PeerConnect, UnixConnectAndAcceptThenPathRemoved) {
  const std::string path = unique_unix_path();
  {
    PeerListener listener(UnixAddress{path});
    EXPECT_EQ(listener.address(), Address(UnixAddress{path}));
    EXPECT_TRUE(path_exists(path));
    auto client = Peer::connect(listener.address(), kGuard);
    auto server = listener.accept(kGuard);
    ASSERT_NE(server, nullptr);
    expect_two_way_exchange(*client, *server);
  }
  EXPECT_FALSE(path_exists(path));
}

TEST(PeerConnect, RawClientsAcceptedOverTcpAndUnix) {
  const std::string path = unique_unix_path();
  for (const Address& address : {Address(InetAddress{"127.0.0.1", 0}), Address(UnixAddress{path})}) {
    PeerListener listener(address);
    Fd client = connect_raw(listener.address());
    ASSERT_GE(client.get(), 0) << to_string(listener.address());
    auto peer = listener.accept(kGuard);
    ASSERT_NE(peer, nullptr);
    PeerWatch watch(*peer);
    send_all(client.get(), "raw");
    ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.bytes_received == 3; }));
    peer->send("back");
    EXPECT_EQ(drain(client.get(), 4).data, "back");
  }
}

TEST(PeerConnect, StaleUnixSocketFileIsReplaced) {
  const std::string path = unique_unix_path();
  {
    // A socket file left behind by a listener that is gone.
    Fd stale(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    ASSERT_EQ(::bind(stale.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ASSERT_TRUE(path_exists(path));
  PeerListener listener(UnixAddress{path});
  auto client = Peer::connect(listener.address(), kGuard);
  EXPECT_NE(listener.accept(kGuard), nullptr);
}

TEST(PeerConnect, LiveUnixListenerIsNotStolen) {
  const std::string path = unique_unix_path();
  PeerListener first(UnixAddress{path});
  EXPECT_THROW(PeerListener second(UnixAddress{path}), std::runtime_error);
  EXPECT_TRUE(path_exists(path));
  auto client = Peer::connect(first.address(), kGuard);
  EXPECT_NE(first.accept(kGuard), nullptr);
}

TEST(PeerConnect, AbstractUnixAddress) {
  const std::string name = std::string(1, '\0') + "loopspec-peer-test-" + std::to_string(::getpid());
  PeerListener listener(UnixAddress{name});
  auto client = Peer::connect(listener.address(), kGuard);
  auto server = listener.accept(kGuard);
  ASSERT_NE(server, nullptr);
  expect_two_way_exchange(*client, *server);
}

TEST(PeerConnect, AcceptTimesOutWithNull) {
  PeerListener listener(InetAddress{"127.0.0.1", 0});
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(listener.accept(Duration(0.05)), nullptr);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 50ms);
}

std::string failure_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(PeerConnect, FailuresThrowClearErrors) {
  std::uint16_t closed_port;
  {
    PeerListener gone(InetAddress{"127.0.0.1", 0});
    closed_port = std::get<InetAddress>(gone.address()).port;
  }
  std::string refused = failure_of([&] { Peer::connect(InetAddress{"127.0.0.1", closed_port}, kGuard); });
  EXPECT_NE(refused.find("127.0.0.1:" + std::to_string(closed_port)), std::string::npos) << refused;
  EXPECT_NE(refused.find(std::strerror(ECONNREFUSED)), std::string::npos) << refused;

  const std::string missing = unique_unix_path();
  std::string no_file = failure_of([&] { Peer::connect(UnixAddress{missing}, kGuard); });
  EXPECT_NE(no_file.find(missing), std::string::npos) << no_file;
  EXPECT_NE(no_file.find(std::strerror(ENOENT)), std::string::npos) << no_file;

  std::string name = failure_of([] { Peer::connect(InetAddress{"localhost", 1}, kGuard); });
  EXPECT_NE(name.find("numeric"), std::string::npos) << name;

  std::string too_long = failure_of([] { PeerListener listener(UnixAddress{"/tmp/" + std::string(200, 'x')}); });
  EXPECT_NE(too_long.find("too long"), std::string::npos) << too_long;

  std::string in_use = failure_of([] {
    PeerListener first(InetAddress{"127.0.0.1", 0});
    PeerListener second(first.address());
  });
  EXPECT_NE(in_use.find("bind"), std::string::npos) << in_use;
}

TEST(PeerConnect, AdoptRejectsWhatIsNotAStreamSocket) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  ::close(pipe_fds[1]);
  int before = open_fd_count();
  EXPECT_THROW(Peer::adopt(pipe_fds[0]), std::runtime_error);
  EXPECT_EQ(open_fd_count(), before - 1) << "adopt takes ownership even when it throws";

  int dgram[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dgram), 0);
  ::close(dgram[1]);
  EXPECT_THROW(Peer::adopt(dgram[0]), std::runtime_error);
}

// --- resources -------------------------------------------------------------

TEST(PeerResources, NoDescriptorLeaksAcrossFiftyPeers) {
  // Warm up anything opened once per process (the loopback stack, locales).
  { auto warm = tcp_pair(); }
  const int before = open_fd_count();
  ASSERT_GT(before, 0);
  {
    std::vector<std::unique_ptr<Peer>> peers;
    std::vector<Fd> others;
    PeerListener tcp(InetAddress{"127.0.0.1", 0});
    PeerListener unix_listener(UnixAddress{unique_unix_path()});
    for (int i = 0; i < 50; ++i) {
      switch (i % 3) {
        case 0: {
          auto pair = socket_pair();
          pair.peer->send("x");  // some with traffic, some closed early
          if (i % 2 == 0) pair.peer->close();
          peers.push_back(std::move(pair.peer));
          others.push_back(std::move(pair.other));
          break;
        }
        case 1:
          peers.push_back(Peer::connect(tcp.address(), kGuard));
          peers.push_back(tcp.accept(kGuard));
          break;
        default:
          peers.push_back(Peer::connect(unix_listener.address(), kGuard));
          peers.push_back(unix_listener.accept(kGuard));
          if (i % 2 == 0) peers.back()->reset();
          break;
      }
      ASSERT_NE(peers.back(), nullptr);
    }
    EXPECT_GT(open_fd_count(), before + 50);
  }
  EXPECT_EQ(open_fd_count(), before);
}

std::vector<int> open_fds() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  int dir_fd = ::dirfd(dir);
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    int fd = std::stoi(entry->d_name);
    if (fd != dir_fd) fds.push_back(fd);
  }
  ::closedir(dir);
  return fds;
}

TEST(PeerResources, DescriptorsAreCloseOnExec) {
  const std::vector<int> before = open_fds();
  PeerListener tcp(InetAddress{"127.0.0.1", 0});
  PeerListener unix_listener(UnixAddress{unique_unix_path()});
  auto client = Peer::connect(tcp.address(), kGuard);
  auto server = tcp.accept(kGuard);
  auto unix_client = Peer::connect(unix_listener.address(), kGuard);
  auto unix_server = unix_listener.accept(kGuard);
  ASSERT_NE(server, nullptr);
  ASSERT_NE(unix_server, nullptr);
  int checked = 0;
  for (int fd : open_fds()) {
    if (std::find(before.begin(), before.end(), fd) != before.end()) continue;
    EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC) << "fd " << fd;
    ++checked;
  }
  EXPECT_EQ(checked, 2 + 4 * 2);  // two listeners; a socket and an eventfd per peer
}

TEST(PeerResources, DestroyingABusyPeerDoesNotBlock) {
  auto [peer, other] = tcp_pair();
  {
    PeerWatch watch(*peer);
    peer->send(pattern(32 << 20, 12));
    peer->close();  // waits behind a send queue the other end never drains
    ASSERT_TRUE(watch.wait([](const PeerSnapshot& s) { return s.bytes_sent > 0; }));
    EXPECT_FALSE(peer->snapshot().closed);
  }
  peer.reset();  // joins the thread and closes the socket
  Drained got = drain(other.get());
  EXPECT_FALSE(got.timed_out);
}

// ---- TLS (the peer speaking TLS over its socket) ----

PeerTls tls_server_side(std::vector<std::string> alpn = {}) {
  const auto material = TlsMaterial::locate();
  PeerTls tls;
  tls.server = true;
  tls.cert_file = material.server_cert();
  tls.key_file = material.server_key();
  tls.alpn = std::move(alpn);
  return tls;
}

PeerTls tls_client_side(std::string ca_file, std::vector<std::string> alpn = {}) {
  PeerTls tls;
  tls.ca_file = std::move(ca_file);
  tls.server_hostname = "localhost";
  tls.alpn = std::move(alpn);
  return tls;
}

// Two TLS peers on the two ends of a Unix socketpair.
std::pair<std::unique_ptr<Peer>, std::unique_ptr<Peer>> tls_pair(const PeerTls& server, const PeerTls& client) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) throw std::runtime_error("socketpair");
  auto server_peer = Peer::adopt(fds[0], server);
  return {std::move(server_peer), Peer::adopt(fds[1], client)};
}

TEST(PeerTls, HandshakeAlpnAndPlaintextBothWays) {
  auto [server, client] = tls_pair(tls_server_side({"b", "a"}),
                                   tls_client_side(TlsMaterial::locate().ca(), {"a", "b"}));
  PeerWatch server_watch(*server);
  PeerWatch client_watch(*client);
  // Queued before the handshake finishes: sent once it has.
  const std::string request = pattern(100000, 21);
  client->send(request);
  ASSERT_TRUE(server_watch.wait([&](const PeerSnapshot& s) { return s.bytes_received == request.size(); }));
  auto seen = server->snapshot();
  EXPECT_TRUE(seen.tls_handshake_done);
  EXPECT_EQ(seen.tls_alpn, "b");  // the server's preference among what the client offers
  EXPECT_EQ(seen.received_digest, Digest::of(request));
  EXPECT_EQ(client->snapshot().bytes_sent, request.size());
  const std::string reply = pattern(5000, 22);
  server->send(reply, 1000);
  ASSERT_TRUE(client_watch.wait([&](const PeerSnapshot& s) { return s.bytes_received == reply.size(); }));
  EXPECT_EQ(client->received(), reply);
  EXPECT_FALSE(client->snapshot().tls_error.has_value());
}

TEST(PeerTls, ShutdownWriteSendsCloseNotifyWhichTheOtherSideAnswers) {
  auto [server, client] = tls_pair(tls_server_side(), tls_client_side(TlsMaterial::locate().ca()));
  PeerWatch server_watch(*server);
  PeerWatch client_watch(*client);
  client->send("last words");
  client->shutdown_write();
  ASSERT_TRUE(server_watch.wait([](const PeerSnapshot& s) { return s.tls_close_notify_received && s.eof_received; }));
  EXPECT_EQ(server->received(), "last words");
  ASSERT_TRUE(client_watch.wait([](const PeerSnapshot& s) { return s.tls_close_notify_received; }));
  EXPECT_TRUE(client->snapshot().write_shutdown);
}

TEST(PeerTls, AnUntrustedCertificateFailsTheHandshakeOnBothSides) {
  auto [server, client] = tls_pair(tls_server_side(), tls_client_side(TlsMaterial::locate().untrusted_ca()));
  PeerWatch server_watch(*server);
  PeerWatch client_watch(*client);
  client->send("never sent");
  ASSERT_TRUE(client_watch.wait([](const PeerSnapshot& s) { return s.tls_error.has_value(); }));
  EXPECT_NE(client->snapshot().tls_error->find("certificate verify failed"), std::string::npos)
      << *client->snapshot().tls_error;
  // The client's alert tells the server.
  ASSERT_TRUE(server_watch.wait([](const PeerSnapshot& s) { return s.tls_error.has_value(); }));
  EXPECT_EQ(server->snapshot().bytes_received, 0u);
  EXPECT_FALSE(server->snapshot().tls_handshake_done);
}

TEST(PeerTls, BadSettingsThrowClearErrors) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Fd keep(fds[1]);
  PeerTls missing = tls_server_side();
  missing.cert_file = "/nonexistent/loopspec-peer.pem";
  try {
    Peer::adopt(fds[0], missing);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/loopspec-peer.pem"), std::string::npos) << e.what();
  }
  // adopt owned the descriptor even though it threw.
  EXPECT_EQ(::fcntl(fds[0], F_GETFD), -1);
}

}  // namespace
}  // namespace loopspec
