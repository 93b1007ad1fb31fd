// EMFILE on accept: with RLIMIT_NOFILE lowered so that the process has no
// free descriptor, clients connect (the kernel completes their handshakes in
// the backlog) and every accept fails with EMFILE. The server must keep
// serving without a busy loop (the process's CPU time over a stall of fixed
// length is a small fraction of it), and once descriptors are free again it
// must accept the pending connections: connection_made for each, and each
// one's bytes, sent during the stall, arrive.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reliability_support.hpp"

namespace loopspec::reliability {
namespace {

constexpr int kClients = 3;
constexpr double kStallSeconds = 2.5;
// A busy loop spends about the whole stall on the CPU; an idle one almost nothing.
constexpr double kMaxCpuFraction = 0.10;

// Lowers RLIMIT_NOFILE to the highest open descriptor + 1 and fills the holes
// below it: no descriptor can be opened until release(). Puts back the limit.
class DescriptorExhaustion {
 public:
  explicit DescriptorExhaustion(int any_fd) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int highest = 0;
    for (int fd = 0; fd < 65536 && fd < static_cast<int>(saved_.rlim_cur); ++fd) {
      if (::fcntl(fd, F_GETFD) >= 0) highest = fd;
    }
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(highest + 1);
    ::setrlimit(RLIMIT_NOFILE, &lowered);
    for (;;) {
      int fd = ::fcntl(any_fd, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) {
        exhausted_ = errno == EMFILE;
        break;
      }
      fillers_.push_back(fd);
    }
  }
  ~DescriptorExhaustion() { release(); }
  bool exhausted() const { return exhausted_; }
  void release() {
    for (int fd : fillers_) ::close(fd);
    fillers_.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> fillers_;
  bool exhausted_ = false;
};

// None now. Found by this test and fixed: asio's busy loop (async_accept
// re-armed at once after EMFILE; it now pauses 1 s) and libuv's lost backlog
// (uv__emfile_trick accepted and closed every waiting connection; the
// adapter now accepts by itself, backends/libuv/src/stream_server.cpp).
const std::map<std::string, std::string> kKnownBugs = {};

class AcceptEmfile : public ::testing::TestWithParam<std::string> {};

TEST_P(AcceptEmfile, ServerBacksOffWithoutBusyLoopAndAcceptsPendingConnectionsOnceDescriptorsFree) {
  // Rule: loop.factory.protocol-per-connection, proto.order.made-first, proto.data.in-order
  if (auto bug = known_bug(kKnownBugs, GetParam())) GTEST_SKIP() << *bug;
  if (testing::kUnderUndefinedBehaviorSanitizer) {
    // Its vptr check opens a pipe to see whether a vtable is readable (IsAccessibleMemoryRange): with every
    // descriptor in use that fails, and each virtual call is reported as an invalid vptr. The plain build runs it.
    GTEST_SKIP() << "UndefinedBehaviorSanitizer cannot run without a free descriptor";
  }
  Rig rig(GetParam());
  std::vector<std::shared_ptr<Recorder>> accepted;
  for (int i = 0; i < kClients; ++i) accepted.push_back(std::make_shared<Recorder>(rig));
  auto server = serve(rig, InetAddress{"127.0.0.1", 0}, accepted, 16);
  auto port = std::get<InetAddress>(server->addresses().front()).port;

  // The clients' sockets exist before the descriptors run out.
  std::vector<int> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  for (int fd : clients) ASSERT_GE(fd, 0);

  DescriptorExhaustion exhaustion(clients[0]);
  ASSERT_TRUE(exhaustion.exhausted()) << "could not exhaust the descriptor table";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(::connect(clients[i], reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << errno;
    std::string hello = "client " + std::to_string(i);
    ASSERT_EQ(::send(clients[i], hello.data(), hello.size(), MSG_NOSIGNAL), static_cast<ssize_t>(hello.size()));
  }

  // The stall: a fixed stretch of loop time with every accept failing.
  double cpu_before = process_cpu_seconds();
  auto wall_start = std::chrono::steady_clock::now();
  rig.run_for(kStallSeconds);
  double wall = seconds_since(wall_start);
  double cpu = process_cpu_seconds() - cpu_before;
  exhaustion.release();

  int made_in_stall = 0;
  for (const auto& r : accepted) made_in_stall += r->made_count;
  RecordProperty("stall_wall_ms", std::to_string(static_cast<int>(wall * 1000)));
  RecordProperty("stall_cpu_us", std::to_string(static_cast<long>(cpu * 1e6)));
  RecordProperty("exception_reports", std::to_string(rig.reported_count));
  EXPECT_EQ(made_in_stall, 0) << "a connection was made with no descriptor free";
  EXPECT_LT(cpu, kMaxCpuFraction * wall) << "busy loop: " << cpu << " s of CPU in a " << wall << " s stall ("
                                         << rig.reported_count << " exception reports)";
  EXPECT_TRUE(server->is_serving());

  // Descriptors free: every pending connection is accepted, its bytes intact.
  bool all = rig.run_until(
      [&] {
        for (const auto& r : accepted) {
          if (r->made_count != 1 || r->bytes_received < 8) return false;
        }
        return true;
      },
      15.0);
  int made = 0;
  for (const auto& r : accepted) made += r->made_count;
  RecordProperty("accepted_after", std::to_string(made) + "/" + std::to_string(kClients));
  EXPECT_TRUE(all) << made << " of " << kClients << " pending connections accepted after descriptors were freed";
  for (int i = 0; i < kClients && all; ++i) {
    EXPECT_EQ(accepted[i]->received_digest.hex(), Digest::of("client " + std::to_string(i)));
    EXPECT_EQ(accepted[i]->lost_count, 0);
  }
  for (int fd : clients) ::close(fd);
  server->close();
}

INSTANTIATE_TEST_SUITE_P(Backends, AcceptEmfile, ::testing::ValuesIn(in_process_backends()), backend_test_name);

}  // namespace
}  // namespace loopspec::reliability
