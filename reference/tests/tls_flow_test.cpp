// Back-pressure through the TLS layer: a blocked socket pauses the
// application's writer; pause_reading stops delivery at once, even with
// decrypted data in hand; BufferedProtocols over TLS.
#include <gtest/gtest.h>

#include "loopspec/reference/reference_backend.hpp"
#include "loopspec/kit/tls_transport.hpp"
#include "tls_test_support.hpp"

namespace loopspec::reference {
namespace {

using testing::RecordingBufferedProtocol;
using testing::tls_client_options;
using testing::tls_server_options;
using testing::TlsPair;

TEST(TlsFlow, BlockedSocketPausesTheWriterStrictlyOverHighAndResumesAtLow) {
  // Rule: flow.pause.strictly-over-high
  // Rule: flow.resume.at-or-below-low
  // Rule: write.buffer-size.reports-buffered
  // Rule: write.data.in-order
  TlsPair pair;
  ASSERT_TRUE(pair.establish());
  auto& writer = *pair.client->transport;
  writer.set_write_buffer_limits(64 * 1024, 16 * 1024);
  pair.server->transport->pause_reading();  // the server stops reading its socket: the kernel buffers fill
  const std::string chunk = testing::pattern(16 * 1024, 5);
  std::string written;
  for (int i = 0; i < 4096 && pair.client->count("pause") == 0; ++i) {
    std::size_t before = writer.get_write_buffer_size();
    writer.write(chunk);
    written += chunk;
    // Once the socket is blocked, every byte written stays in the buffer until pause_writing.
    if (before > 0 && pair.client->count("pause") == 0) {
      EXPECT_EQ(writer.get_write_buffer_size(), before + chunk.size());
    }
  }
  ASSERT_EQ(pair.client->count("pause"), 1);
  EXPECT_GT(pair.client->sizes_at_pause[0], 64u * 1024);
  EXPECT_LE(pair.client->sizes_at_pause[0], 64u * 1024 + chunk.size());
  EXPECT_LT(pair.server->received.size() + writer.get_write_buffer_size(), written.size() + 1);

  pair.server->transport->resume_reading();
  ASSERT_TRUE(pair.rig.run_until([&] { return pair.server->received.size() == written.size(); }));
  EXPECT_EQ(pair.server->received, written);
  ASSERT_EQ(pair.client->count("resume"), 1);
  EXPECT_LE(pair.client->sizes_at_resume[0], 16u * 1024);
  EXPECT_EQ(writer.get_write_buffer_size(), 0u);
}

TEST(TlsFlow, DefaultWatermarksAreAsyncios) {
  // Rule: write.limits.defaults
  // Rule: write.limits.get-returns-set
  // Rule: write.limits.validation
  TlsPair pair;
  ASSERT_TRUE(pair.establish());
  auto& t = *pair.client->transport;
  EXPECT_EQ(t.get_write_buffer_limits(), (WriteBufferLimits{128 * 1024, 512 * 1024}));
  EXPECT_THROW(t.set_write_buffer_limits(10, 20), ContractError);
  t.set_write_buffer_limits(1000, 10);
  EXPECT_EQ(t.get_write_buffer_limits(), (WriteBufferLimits{10, 1000}));
}

// A server whose protocol is a BufferedProtocol with `size`-byte buffers.
struct BufferedServer {
  explicit BufferedServer(std::size_t size, kit::Faults faults = {}) : pair(faults) {
    buffered = std::make_shared<RecordingBufferedProtocol>(&pair.rig.runner, size);
  }
  bool establish() {
    std::optional<Outcome<Server>> served;
    pair.rig.loop.create_server([this] { return buffered; }, InetAddress{"127.0.0.1", 0}, tls_server_options(),
                                [&](Outcome<Server> o) {
                                  served = std::move(o);
                                  pair.rig.runner.notify();
                                });
    if (!pair.rig.run_until([&] { return served.has_value(); }) || !served->ok()) return false;
    pair.listener = served->value;
    pair.rig.loop.create_connection([this] { return pair.client; }, pair.listener->addresses().front(),
                                    tls_client_options(), [](Outcome<Transport>) {});
    return pair.rig.run_until([&] { return pair.client->made_count == 1 && buffered->transport != nullptr; });
  }
  int updates() const { return static_cast<int>(buffered->updated_sizes.size()); }

  TlsPair pair;
  std::shared_ptr<RecordingBufferedProtocol> buffered;
};

TEST(TlsFlow, PauseInsideGetBufferHoldsDecryptedDataUntilResume) {
  // Rule: read.pause.stops-delivery
  // Rule: read.pause.no-data-while-paused
  // Rule: read.resume.delivers-pending
  // Rule: buffered.buffer.nbytes-within-buffer
  BufferedServer server(1000);
  ASSERT_TRUE(server.establish());
  int calls = 0;
  server.buffered->on_get_buffer = [&] {
    if (++calls == 2) server.buffered->transport->pause_reading();
  };
  const std::string data = testing::pattern(64 * 1024, 6);
  server.pair.client->transport->write(data);
  ASSERT_TRUE(server.pair.rig.run_until([&] { return calls >= 2; }));
  server.pair.rig.runner.run_iterations(10);
  // get_buffer paused reading: that buffer and everything after it waits.
  EXPECT_EQ(server.updates(), 1);
  EXPECT_EQ(server.buffered->received.size(), 1000u);
  server.buffered->transport->resume_reading();
  ASSERT_TRUE(server.pair.rig.run_until([&] { return server.buffered->received.size() == data.size(); }));
  EXPECT_EQ(server.buffered->received, data);
  for (auto n : server.buffered->updated_sizes) EXPECT_LE(n, 1000u);
}

TEST(TlsFlow, FaultDeliversWhilePaused) {
  // Machinery: the tls-delivers-while-paused fault deviates where it says.
  BufferedServer server(1000, kit::faults_from_name("tls-delivers-while-paused", reference_backend_info()));
  ASSERT_TRUE(server.establish());
  int calls = 0;
  server.buffered->on_get_buffer = [&] {
    if (++calls == 2) server.buffered->transport->pause_reading();
  };
  server.pair.client->transport->write(testing::pattern(64 * 1024, 7));
  ASSERT_TRUE(server.pair.rig.run_until([&] { return server.updates() > 2; }));
  EXPECT_FALSE(server.buffered->transport->is_reading());
}

TEST(TlsFlow, ZeroSizeBufferIsAFatalError) {
  // Rule: buffered.get-buffer.zero-size-error
  BufferedServer server(0);
  ASSERT_TRUE(server.establish());
  server.pair.client->transport->write("data");
  ASSERT_TRUE(server.pair.rig.run_until([&] { return server.buffered->lost_count == 1; }));
  EXPECT_EQ(server.updates(), 0);
  ASSERT_TRUE(server.buffered->lost_error.has_value());
  EXPECT_EQ(server.buffered->lost_error->type, "RuntimeError");
}

TEST(TlsFlow, BufferedProtocolGetsEveryByteThenEof) {
  // Rule: buffered.data.in-order
  // Rule: proto.eof.on-peer-shutdown
  BufferedServer server(4096);
  ASSERT_TRUE(server.establish());
  const std::string data = testing::pattern(300000, 8);
  server.pair.client->transport->write(data);
  server.pair.client->transport->close();
  ASSERT_TRUE(server.pair.rig.run_until([&] { return server.buffered->lost_count == 1; }));
  EXPECT_EQ(server.buffered->received, data);
  EXPECT_EQ(server.buffered->events.back(), "lost");
  EXPECT_EQ(server.buffered->events[server.buffered->events.size() - 2], "eof");
  EXPECT_FALSE(server.buffered->lost_error.has_value());
}

}  // namespace
}  // namespace loopspec::reference
