// A protocol callback that throws: asyncio's _fatal_error. The loop's
// exception handler hears of it, that transport is closed and its protocol
// gets connection_lost with the exception (in canonical form, kit's
// error_from_current_exception: RuntimeError, errno 0, what()), exactly once;
// the loop, the server and the other connections carry on. Checked for
// data_received and eof_received, where asyncio's selector transports call
// _fatal_error too (a throwing pause_writing is only reported by asyncio,
// while kit's transports end the connection: not checked here).
#include <functional>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "reliability_support.hpp"

namespace loopspec::reliability {
namespace {

class ThrowingCallback : public ::testing::TestWithParam<std::string> {
 protected:
  // `callback` of one connection's protocol throws once the peer did `provoke`;
  // another connection on the same loop must carry on.
  void throwing_closes_only_that_transport(const std::string& callback,
                                           const std::function<void(Recorder&)>& make_throw,
                                           const std::function<void(Peer&)>& provoke,
                                           const std::vector<std::string>& expected_events) {
    Rig rig(GetParam());
    auto thrower = std::make_shared<Recorder>(rig);
    auto echo = std::make_shared<Recorder>(rig);
    make_throw(*thrower);
    echo->on_data = [&](std::string_view data) { echo->transport->write(data); };
    auto server = serve(rig, InetAddress{"127.0.0.1", 0}, {thrower, echo});
    auto peer_thrower = connect_peer(rig, *server, *thrower);
    auto peer_echo = connect_peer(rig, *server, *echo);

    provoke(*peer_thrower);
    ASSERT_TRUE(rig.run_until([&] {
      auto seen = peer_thrower->snapshot();
      return thrower->lost_count > 0 && (seen.eof_received || seen.reset_received);
    })) << "the throwing connection was not closed";

    const Error expected{"RuntimeError", 0, "protocol bug in " + callback};
    ASSERT_TRUE(thrower->lost_error.has_value()) << "connection_lost(None) after a callback threw";
    EXPECT_EQ(*thrower->lost_error, expected) << thrower->lost_error->to_string();
    EXPECT_EQ(thrower->events, expected_events);
    EXPECT_TRUE(thrower->transport->is_closing());
    if (rig.has_exception_handler()) {
      ASSERT_EQ(rig.reported.size(), 1u);
      EXPECT_EQ(rig.reported[0].first, callback);
      EXPECT_EQ(rig.reported[0].second, expected);
    }

    // The loop goes on: the other connection echoes, then closes normally.
    peer_echo->send("still here");
    ASSERT_TRUE(rig.run_until([&] { return peer_echo->snapshot().bytes_received == 10; }));
    EXPECT_EQ(peer_echo->received(), "still here");
    EXPECT_TRUE(server->is_serving());
    echo->transport->close();
    ASSERT_TRUE(rig.run_until([&] { return echo->lost_count == 1 && peer_echo->snapshot().eof_received; }));
    EXPECT_FALSE(echo->lost_error.has_value()) << echo->lost_error->to_string();
    EXPECT_EQ(echo->events, (std::vector<std::string>{"made", "data", "lost"}));
    // Nothing more came for the throwing connection meanwhile.
    EXPECT_EQ(thrower->lost_count, 1);
    EXPECT_TRUE(thrower->after_lost().empty());
    ::testing::Test::RecordProperty("lost_error", thrower->lost_error->to_string());
  }
};

TEST_P(ThrowingCallback, DataReceivedThrowingClosesThatTransportWithTheErrorAndOthersCarryOn) {
  // Rule: proto.order.lost-exactly-once, proto.order.lost-last, proto.connection-lost.error-on-failure,
  // transport.closing.after-lost, proto.data.in-order (the other connection)
  throwing_closes_only_that_transport(
      "data_received",
      [](Recorder& r) { r.on_data = [](std::string_view) { throw std::runtime_error("protocol bug in data_received"); }; },
      [](Peer& peer) { peer.send("boom"); }, {"made", "data", "lost"});
}

TEST_P(ThrowingCallback, EofReceivedThrowingClosesThatTransportWithTheErrorAndOthersCarryOn) {
  // Rule: proto.order.lost-exactly-once, proto.order.lost-last, proto.eof.at-most-once,
  // transport.closing.after-lost, proto.data.in-order (the other connection)
  throwing_closes_only_that_transport(
      "eof_received", [](Recorder& r) { r.on_eof = [] { throw std::runtime_error("protocol bug in eof_received"); }; },
      [](Peer& peer) { peer.shutdown_write(); }, {"made", "eof", "lost"});
}

INSTANTIATE_TEST_SUITE_P(Backends, ThrowingCallback, ::testing::ValuesIn(in_process_backends()), backend_test_name);

}  // namespace
}  // namespace loopspec::reliability
