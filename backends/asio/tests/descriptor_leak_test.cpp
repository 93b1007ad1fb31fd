// Nothing outlives the loop: the descriptors of open transports, servers,
// pending connections and children are closed when the loop is destroyed,
// and nothing is left behind after a clean close. Each test names the rule
// or the loop promise it checks.
#include <fcntl.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "asio_test_support.hpp"

namespace loopspec::asio {
namespace {

using testing::descriptors_open;
using testing::LogProtocol;
using testing::wait_for;

TEST(AsioDescriptors, DestroyingTheLoopClosesEverythingItHeld) {
  // Loop promise: no descriptor, handler or transport outlives the loop (asio_loop.hpp).
  int before = descriptors_open();
  std::weak_ptr<LogProtocol> kept_protocol;
  {
    AsioLoop loop;
    auto protocol = std::make_shared<LogProtocol>();
    kept_protocol = protocol;
    std::shared_ptr<Server> server;
    loop.create_server([protocol] { return protocol; }, InetAddress{"127.0.0.1", 0}, {},
                       [&](Outcome<Server> o) { server = o.value; });
    ASSERT_TRUE(wait_for(loop, [&] { return server != nullptr; }));
    auto client = std::make_shared<LogProtocol>();
    loop.create_connection([client] { return client; }, server->addresses().front(), {}, [](Outcome<Transport>) {});
    ASSERT_TRUE(wait_for(loop, [&] { return client->transport && protocol->transport; }));
    client->transport->pause_reading();
    loop.subprocess_exec([] { return std::make_shared<SubprocessProtocol>(); }, {"/bin/sh", "-c", "exec sleep 60"}, {},
                         [](Outcome<SubprocessTransport>) {});
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    loop.connect_read_pipe([] { return std::make_shared<LogProtocol>(); }, fds[0], [](Outcome<ReadTransport>) {});
    loop.connect_write_pipe([] { return std::make_shared<LogProtocol>(); }, fds[1], [](Outcome<WriteTransport>) {});
    loop.create_datagram_endpoint([] { return std::make_shared<DatagramProtocol>(); }, {InetAddress{"127.0.0.1", 0}, std::nullopt},
                                  [](Outcome<DatagramTransport>) {});
    loop.call_soon([] {});
    loop.stop();
    loop.run_forever();
    EXPECT_GT(descriptors_open(), before + 5);
  }
  EXPECT_EQ(descriptors_open(), before);
  EXPECT_TRUE(kept_protocol.expired());  // the transport <-> protocol cycle was broken
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // no child left, not even a zombie
}

TEST(AsioDescriptors, ACleanCloseLeavesNothingBehind) {
  // Rule: proto.order.lost-exactly-once
  int before = descriptors_open();
  AsioLoop loop;
  std::shared_ptr<Server> server;
  std::vector<std::shared_ptr<LogProtocol>> accepted;
  loop.create_server([&] { return accepted.emplace_back(std::make_shared<LogProtocol>()); }, InetAddress{"127.0.0.1", 0}, {},
                     [&](Outcome<Server> o) { server = o.value; });
  ASSERT_TRUE(wait_for(loop, [&] { return server != nullptr; }));
  for (int i = 0; i < 5; ++i) {
    auto client = std::make_shared<LogProtocol>();
    loop.create_connection([client] { return client; }, server->addresses().front(), {}, [](Outcome<Transport>) {});
    ASSERT_TRUE(wait_for(loop, [&] { return client->transport != nullptr; }));
    client->transport->write("bye");
    client->transport->close();
    ASSERT_TRUE(wait_for(loop, [&] { return client->lost() && accepted.back()->lost(); }));
    EXPECT_EQ(client->count("lost"), 1);
  }
  server->close();
  EXPECT_LE(descriptors_open(), before + 3);  // the io_context's own (epoll, eventfd, timerfd)
}

}  // namespace
}  // namespace loopspec::asio
