// A huge write through a slow peer: the protocol writes 1 GiB in chunks,
// honouring pause_writing/resume_writing, to a peer thread that reads in
// small pieces. Every byte arrives, in order (running digests on both
// sides); pause and resume alternate, pause strictly over the high
// watermark, resume at or below the low one; and the process's peak RSS
// grows by less than 64 MiB: memory is bounded by the data in flight.
//
// LOOPSPEC_HUGE_WRITE_BYTES sets the size; the default is 1 GiB, and 128 MiB
// under AddressSanitizer (1 GiB takes minutes there on a 2-core machine),
// where the RSS bound is not asserted (its quarantine keeps freed memory).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "reliability_support.hpp"

namespace loopspec::reliability {
namespace {

constexpr std::int64_t kHigh = 1 << 20;
constexpr std::int64_t kLow = 256 << 10;
constexpr std::size_t kChunk = 256 << 10;
constexpr std::size_t kPeerRead = 4096;  // the slow peer's piece
constexpr int kPeerWindow = 64 << 10;      // and its receive buffer
constexpr long kMaxRssGrowthKib = 64 << 10;

std::uint64_t huge_write_bytes() {
  if (const char* given = std::getenv("LOOPSPEC_HUGE_WRITE_BYTES"); given != nullptr && *given != '\0') {
    return std::strtoull(given, nullptr, 0);
  }
  return testing::kUnderAddressSanitizer ? (128ull << 20) : (1ull << 30);
}

class HugeWrite : public ::testing::TestWithParam<std::string> {};

TEST_P(HugeWrite, OneGibThroughSlowPeerArrivesInOrderWithFlowControlAndBoundedMemory) {
  // Rule: write.data.in-order, proto.data.in-order, flow.pause.strictly-over-high,
  // flow.resume.at-or-below-low, flow.pairing.alternate, transport.close.flushes-buffer
  const std::uint64_t total = huge_write_bytes();
  Rig rig(GetParam());
  auto recorder = std::make_shared<Recorder>(rig);
  Streamer streamer(*recorder, total, kChunk);
  auto on_made = recorder->on_made;
  recorder->on_made = [&, on_made] {
    recorder->transport->set_write_buffer_limits(kHigh, kLow);
    on_made();
  };
  streamer.on_done = [&] { recorder->transport->close(); };
  auto server = serve(rig, InetAddress{"127.0.0.1", 0}, {recorder});

  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);
  // A small receive window (set before connecting, so the handshake
  // announces it) keeps the kernel from absorbing the slowness for the loop.
  int window = kPeerWindow;
  ASSERT_EQ(::setsockopt(client, SOL_SOCKET, SO_RCVBUF, &window, sizeof window), 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(std::get<InetAddress>(server->addresses().front()).port);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);

  ASSERT_TRUE(reset_peak_rss()) << "cannot reset VmHWM";
  long rss_start = status_kib("VmHWM");
  auto start = std::chrono::steady_clock::now();

  // The slow peer: blocking reads of 4 KiB until EOF, digesting as it goes.
  Digest peer_digest;
  std::uint64_t peer_bytes = 0;
  std::atomic<bool> peer_done{false};
  std::thread reader([&] {
    char piece[kPeerRead];
    for (;;) {
      ssize_t n = ::recv(client, piece, sizeof piece, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      peer_digest.update({piece, static_cast<std::size_t>(n)});
      peer_bytes += static_cast<std::uint64_t>(n);
    }
    peer_done = true;
    rig.wake_threadsafe();
  });

  bool finished = rig.run_until([&] { return recorder->lost_count > 0 && peer_done.load(); }, 280.0);
  if (!finished) ::shutdown(client, SHUT_RDWR);  // unblock the reader
  reader.join();
  ::close(client);
  double wall = seconds_since(start);
  long growth = status_kib("VmHWM") - rss_start;

  RecordProperty("bytes", std::to_string(total));
  RecordProperty("wall_ms", std::to_string(static_cast<int>(wall * 1000)));
  RecordProperty("peak_rss_growth_kib", std::to_string(growth));
  RecordProperty("pauses", std::to_string(recorder->sizes_at_pause.size()));
  ASSERT_TRUE(finished) << streamer.sent << " bytes written, " << peer_bytes << " read when the guard expired";
  EXPECT_EQ(streamer.sent, total);
  EXPECT_EQ(peer_bytes, total);
  EXPECT_EQ(peer_digest.hex(), streamer.digest.hex());
  EXPECT_FALSE(recorder->lost_error.has_value()) << recorder->lost_error->to_string();
  EXPECT_TRUE(recorder->flow_alternates());
  EXPECT_GT(recorder->sizes_at_pause.size(), 0u) << "a slow peer and no pause_writing";
  auto pauses = recorder->sizes_at_pause.size(), resumes = recorder->sizes_at_resume.size();
  EXPECT_TRUE(pauses == resumes || pauses == resumes + 1) << pauses << " pauses, " << resumes << " resumes";
  for (auto size : recorder->sizes_at_pause) EXPECT_GT(size, static_cast<std::size_t>(kHigh));
  for (auto size : recorder->sizes_at_resume) EXPECT_LE(size, static_cast<std::size_t>(kLow));
  // ASan's quarantine keeps freed chunks resident: the bound holds for a plain build only.
  if (!testing::kUnderAddressSanitizer) {
    EXPECT_LT(growth, kMaxRssGrowthKib) << "peak RSS grew by " << growth << " KiB for " << total << " bytes";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, HugeWrite, ::testing::ValuesIn(in_process_backends()), backend_test_name);

}  // namespace
}  // namespace loopspec::reliability
