// The real Python driver (backends/python/loopspec_driver.py) behind
// RemoteLoop, for CPython asyncio and, where installed, uvloop: the lock-step
// protocol carries every loop and transport call, callbacks re-enter as in
// process, and the driver validates what the harness sends.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "loopspec/peer.hpp"
#include "loopspec/tls_material.hpp"
#include "test_support.hpp"

namespace loopspec::remote {
namespace {

using ::testing::HasSubstr;
using testing::run_until;
using testing::TempDir;

// Records what it is told and stops the loop after every callback, so
// run_until re-checks its condition at once.
struct Seen {
  std::shared_ptr<Transport> transport;
  std::string received;
  int made = 0, eof = 0, lost = 0, pauses = 0, resumes = 0;
  MaybeError lost_error;
  std::function<void(std::string_view)> on_data;
  bool keep_open_on_eof = false;
  bool throw_on_data = false;
};

class TestProtocol : public Protocol {
 public:
  TestProtocol(EventLoop& loop, Seen& seen) : loop_(loop), seen_(seen) {}
  void connection_made(std::shared_ptr<BaseTransport> t) override {
    ++seen_.made;
    seen_.transport = std::dynamic_pointer_cast<Transport>(t);
    loop_.stop();
  }
  void data_received(std::string_view data) override {
    seen_.received.append(data);
    if (seen_.on_data) seen_.on_data(data);
    loop_.stop();
    if (seen_.throw_on_data) throw std::runtime_error("protocol bug on purpose");
  }
  bool eof_received() override {
    ++seen_.eof;
    loop_.stop();
    return seen_.keep_open_on_eof;
  }
  void connection_lost(const MaybeError& exc) override {
    ++seen_.lost;
    seen_.lost_error = exc;
    loop_.stop();
  }
  void pause_writing() override { ++seen_.pauses; }
  void resume_writing() override { ++seen_.resumes; }

 private:
  EventLoop& loop_;
  Seen& seen_;
};

class SmallBufferProtocol : public BufferedProtocol {
 public:
  SmallBufferProtocol(EventLoop& loop, std::string& received) : loop_(loop), received_(received) {}
  std::span<char> get_buffer(std::int64_t) override { return {buffer_, sizeof buffer_}; }
  void buffer_updated(std::size_t nbytes) override {
    received_.append(buffer_, nbytes);
    loop_.stop();
  }

 private:
  EventLoop& loop_;
  std::string& received_;
  char buffer_[5];
};

class PythonDriver : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "uvloop" && !testing::python_module_available("uvloop")) {
      GTEST_SKIP() << "uvloop is not installed for " << testing::python() << " (Debian: python3-uvloop)";
    }
    loop_ = testing::start_loop(testing::python_command(GetParam()));
  }

  // A connection to a PeerListener, its protocol recording into seen.
  std::unique_ptr<Peer> connect(Seen& seen, std::shared_ptr<Transport>* returned = nullptr) {
    PeerListener listener(InetAddress{"127.0.0.1", 0});
    bool done = false;
    MaybeError error;
    loop_->create_connection([&] { return std::make_shared<TestProtocol>(*loop_, seen); }, listener.address(), {},
                             [&](Outcome<Transport> outcome) {
                               done = true;
                               error = outcome.error;
                               if (returned) *returned = outcome.value;
                               loop_->stop();
                             });
    EXPECT_TRUE(run_until(*loop_, [&] { return done; }));
    EXPECT_FALSE(error) << error->to_string();
    auto peer = listener.accept(Duration(5.0));
    EXPECT_NE(peer, nullptr);
    if (peer) peer->set_notify([this] { loop_->call_soon_threadsafe([this] { loop_->stop(); }); });
    return peer;
  }

  std::unique_ptr<RemoteLoop> loop_;
};

INSTANTIATE_TEST_SUITE_P(Loops, PythonDriver, ::testing::Values("asyncio", "uvloop"));

TEST_P(PythonDriver, HelloDescribesTheLoop) {
  const Hello& hello = loop_->hello();
  EXPECT_EQ(hello.protocol, kProtocolVersion);
  EXPECT_THAT(hello.implementation, HasSubstr(GetParam() == "uvloop" ? "uvloop" : "asyncio"));
  EXPECT_FALSE(hello.version.empty());
  for (const char* cap : {"tcp", "unix", "buffered", "udp", "pipes", "subprocess", "tls"}) {
    EXPECT_EQ(hello.capabilities.count(cap), 1u) << cap;
  }
  EXPECT_EQ(hello.pid, loop_->driver_pid());
}

TEST_P(PythonDriver, CallbacksRunInOrderAndCancelledOnesNever) {
  // call_soon callbacks run in order, nested ones after them; a due timer may run before or
  // after them (uvloop runs due timers first), so it is checked on its own.
  std::vector<int> order;
  bool late = false;
  loop_->call_soon([&] { order.push_back(1); });
  auto cancelled = loop_->call_later(Duration(0.0), [&] { order.push_back(99); });
  loop_->call_soon([&] {
    order.push_back(2);
    loop_->call_soon([&] {  // re-entrant: a command sent from inside a callback
      order.push_back(4);
      loop_->stop();
    });
  });
  loop_->call_later(Duration(0.01), [&] {
    late = true;
    loop_->stop();
  });
  loop_->call_soon([&] { order.push_back(3); });
  cancelled->cancel();
  cancelled->cancel();  // a second cancel is a no-op
  ASSERT_TRUE(run_until(*loop_, [&] { return order.size() >= 4 && late; }));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  Duration t = loop_->time();
  EXPECT_GT(t.count(), 0);
}

TEST_P(PythonDriver, CallSoonThreadsafeFromAnotherThreadWakesTheLoop) {
  std::atomic<bool> woken{false};
  std::thread other([&] {
    loop_->call_soon_threadsafe([&] {
      woken = true;
      loop_->stop();
    });
  });
  // Whether the post lands before or while the loop runs, it must wake it.
  ASSERT_TRUE(run_until(*loop_, [&] { return woken.load(); }));
  other.join();
}

TEST_P(PythonDriver, StreamRoundTripWithReentrantWrites) {
  // Rule: proto.data.in-order — bytes arrive in order through the driver, and a write inside data_received is executed inside the callback.
  Seen seen;
  std::shared_ptr<Transport> returned;
  auto peer = connect(seen, &returned);
  ASSERT_TRUE(peer);
  ASSERT_EQ(seen.made, 1);
  EXPECT_EQ(returned, seen.transport);  // one C++ object per driver transport
  seen.on_data = [&](std::string_view data) { seen.transport->write(std::string("echo:") + std::string(data)); };
  peer->send("ping");
  ASSERT_TRUE(run_until(*loop_, [&] { return peer->snapshot().bytes_received >= 9; }));
  EXPECT_EQ(peer->received(), "echo:ping");
  EXPECT_FALSE(seen.transport->is_closing());
  EXPECT_TRUE(seen.transport->is_reading());
  auto peername = seen.transport->get_extra_info("peername");
  ASSERT_TRUE(peername && peername->is_array());
  EXPECT_EQ((*peername)[0], "127.0.0.1");
  EXPECT_FALSE(seen.transport->get_extra_info("no-such-key").has_value());
  auto socket_info = seen.transport->get_extra_info("socket");
  ASSERT_TRUE(socket_info && socket_info->is_object());
  EXPECT_EQ((*socket_info)["family"], "AF_INET");
  peer->shutdown_write();
  ASSERT_TRUE(run_until(*loop_, [&] { return seen.lost > 0; }));
  EXPECT_EQ(seen.eof, 1);
  EXPECT_FALSE(seen.lost_error);
  EXPECT_TRUE(seen.transport->is_closing());
}

TEST_P(PythonDriver, LargeWritesTravelInChunks) {
  // Rule: write.data.in-order — a write larger than one message arrives whole and in order.
  Seen seen;
  auto peer = connect(seen);
  ASSERT_TRUE(peer);
  std::string big(3 * 1024 * 1024 + 7, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 1000);
  seen.transport->write(big);
  std::string_view parts[] = {"a", "bc", std::string_view(big).substr(0, 1000000)};
  seen.transport->writelines(parts);
  const std::size_t total = big.size() + 3 + 1000000;
  ASSERT_TRUE(run_until(*loop_, [&] { return peer->snapshot().bytes_received >= total; }));
  EXPECT_EQ(peer->received(), big + "abc" + big.substr(0, 1000000));
}

TEST_P(PythonDriver, LargeReadsTravelBackWhateverTheChannelsBlockingMode) {
  // Rule: proto.data.in-order — data_received events larger than the socket buffer of the channel
  // (uvloop's add_reader makes the channel non-blocking under the driver) arrive whole and in order.
  Seen seen;
  auto peer = connect(seen);
  ASSERT_TRUE(peer);
  std::string big(4 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 13 + i / 4096);
  peer->send(big);
  ASSERT_TRUE(run_until(*loop_, [&] { return seen.received.size() >= big.size(); }));
  EXPECT_TRUE(seen.received == big);
}

TEST_P(PythonDriver, LimitsErrorsAndStateComeFromTheLoop) {
  // Rule: write.limits.validation — ValueError from the Python loop arrives as the canonical error.
  Seen seen;
  auto peer = connect(seen);
  ASSERT_TRUE(peer);
  auto& t = *seen.transport;
  try {
    t.set_write_buffer_limits(10, 20);
    FAIL() << "low > high accepted";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error().type, "ValueError");
  }
  t.set_write_buffer_limits(100000, 2000);
  EXPECT_EQ(t.get_write_buffer_limits(), (WriteBufferLimits{2000, 100000}));
  t.pause_reading();
  EXPECT_FALSE(t.is_reading());
  t.resume_reading();
  EXPECT_TRUE(t.is_reading());
  EXPECT_TRUE(t.can_write_eof());
  t.abort();
  EXPECT_TRUE(t.is_closing());
  ASSERT_TRUE(run_until(*loop_, [&] { return seen.lost > 0; }));
  EXPECT_FALSE(seen.lost_error);
}

TEST_P(PythonDriver, AnExceptionInAProtocolCallbackIsRaisedInTheDriver) {
  // The loop sees a protocol that raised: asyncio and uvloop close the transport with that error.
  Seen seen;
  auto peer = connect(seen);
  ASSERT_TRUE(peer);
  seen.throw_on_data = true;
  peer->send("boom");
  ASSERT_TRUE(run_until(*loop_, [&] { return seen.lost > 0; }));
  ASSERT_TRUE(seen.lost_error.has_value());
  EXPECT_EQ(seen.lost_error->type, "RuntimeError");
  EXPECT_THAT(seen.lost_error->message, HasSubstr("protocol bug on purpose"));
}

TEST_P(PythonDriver, SetProtocolAndGetProtocolKeepIdentity) {
  // Rule: transport.protocol.get-set
  Seen seen;
  Seen other_seen;
  auto peer = connect(seen);
  ASSERT_TRUE(peer);
  auto& t = *seen.transport;
  auto first = t.get_protocol();
  ASSERT_NE(first, nullptr);
  auto next = std::make_shared<TestProtocol>(*loop_, other_seen);
  t.set_protocol(next);
  EXPECT_EQ(t.get_protocol(), next);
  peer->send("to the new one");
  ASSERT_TRUE(run_until(*loop_, [&] { return other_seen.received.size() >= 14; }));
  EXPECT_EQ(other_seen.received, "to the new one");
  EXPECT_TRUE(seen.received.empty());
}

TEST_P(PythonDriver, BufferedProtocolGetsTheBytesThroughItsOwnBuffer) {
  // Rule: buffered.data.in-order
  PeerListener listener(UnixAddress{(std::filesystem::temp_directory_path() /
                                     ("loopspec-remote-" + std::to_string(::getpid()) + ".sock")).string()});
  std::string received;
  bool done = false;
  loop_->create_connection([&] { return std::make_shared<SmallBufferProtocol>(*loop_, received); },
                           listener.address(), {}, [&](Outcome<Transport> o) {
                             done = o.ok();
                             loop_->stop();
                           });
  ASSERT_TRUE(run_until(*loop_, [&] { return done; }));
  auto peer = listener.accept(Duration(5.0));
  ASSERT_TRUE(peer);
  std::string data = "0123456789abcdefghijklmnopqrstuvwxyz";
  peer->send(data);
  ASSERT_TRUE(run_until(*loop_, [&] { return received.size() >= data.size(); }));
  EXPECT_EQ(received, data);
}

TEST_P(PythonDriver, ServerAcceptedSocketAndRefusal) {
  // Rule: loop.connect.refused-raises
  Seen served;
  std::shared_ptr<Server> server;
  loop_->create_server([&] { return std::make_shared<TestProtocol>(*loop_, served); }, InetAddress{"127.0.0.1", 0}, {},
                       [&](Outcome<Server> o) {
                         server = o.value;
                         loop_->stop();
                       });
  ASSERT_TRUE(run_until(*loop_, [&] { return server != nullptr; }));
  auto addresses = server->addresses();
  ASSERT_FALSE(addresses.empty());
  EXPECT_TRUE(server->is_serving());
  auto client = Peer::connect(addresses.front(), Duration(5.0));
  ASSERT_TRUE(run_until(*loop_, [&] { return served.made > 0; }));
  server->close();
  EXPECT_FALSE(server->is_serving());

  // A socket handed over with SCM_RIGHTS.
  PeerListener listener(InetAddress{"127.0.0.1", 0});
  auto peer = Peer::connect(listener.address(), Duration(5.0));
  int fd = ::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(fd, 0);
  Seen adopted;
  bool done = false;
  loop_->connect_accepted_socket([&] { return std::make_shared<TestProtocol>(*loop_, adopted); }, fd, {},
                                 [&](Outcome<Transport> o) {
                                   done = o.ok();
                                   loop_->stop();
                                 });
  ASSERT_TRUE(run_until(*loop_, [&] { return done && adopted.made > 0; }));
  peer->send("adopted");
  ASSERT_TRUE(run_until(*loop_, [&] { return adopted.received.size() >= 7; }));

  // Nobody listens: the completion carries the loop's error, no protocol callback runs.
  std::optional<Outcome<Transport>> refused;
  Seen never;
  InetAddress nowhere = std::get<InetAddress>(PeerListener(InetAddress{"127.0.0.1", 0}).address());
  loop_->create_connection([&] { return std::make_shared<TestProtocol>(*loop_, never); }, nowhere, {},
                           [&](Outcome<Transport> o) {
                             refused = o;
                             loop_->stop();
                           });
  ASSERT_TRUE(run_until(*loop_, [&] { return refused.has_value(); }));
  ASSERT_TRUE(refused->error.has_value());
  EXPECT_EQ(refused->error->type, "ConnectionRefusedError");
  EXPECT_EQ(never.made, 0);
}

TEST_P(PythonDriver, KillingTheDriverMidRunIsADriverFailure) {
  bool ran = false;
  loop_->call_soon([&] {
    ran = true;
    ::kill(loop_->driver_pid(), SIGKILL);
  });
  try {
    loop_->run_forever();
    FAIL() << "run_forever returned after the driver was killed";
  } catch (const DriverFailure& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("killed by signal 9"));
  }
  EXPECT_TRUE(ran);
}

TEST_P(PythonDriver, DriverValidatesWhatTheHarnessSends) {
  DriverConnection raw(testing::python_command(GetParam()), ConnectionOptions{"raw", std::chrono::duration<double>(10)});
  try {
    raw.request("no_such_command");
    FAIL() << "an unknown command was accepted";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error().type, "NotImplementedError");
  }
  try {
    raw.request("write", {{"conn", "one"}, {"data", ""}});
    FAIL() << "a malformed command was accepted";
  } catch (const DriverFailure& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("command 'write': field 'conn' must be a positive integer"));
  }
}

// Datagram endpoints, pipes and subprocesses through the driver.
class TestDatagramProtocol : public DatagramProtocol {
 public:
  TestDatagramProtocol(EventLoop& loop, std::vector<std::pair<std::string, Address>>& got,
                       std::shared_ptr<DatagramTransport>& transport)
      : loop_(loop), got_(got), transport_(transport) {}
  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport_ = std::dynamic_pointer_cast<DatagramTransport>(t);
    loop_.stop();
  }
  void datagram_received(std::string_view data, const Address& addr) override {
    got_.emplace_back(std::string(data), addr);
    loop_.stop();
  }

 private:
  EventLoop& loop_;
  std::vector<std::pair<std::string, Address>>& got_;
  std::shared_ptr<DatagramTransport>& transport_;
};

TEST_P(PythonDriver, DatagramsBothWays) {
  std::vector<std::pair<std::string, Address>> got;
  std::shared_ptr<DatagramTransport> transport;
  bool done = false;
  DatagramOptions options;
  options.local_addr = InetAddress{"127.0.0.1", 0};
  loop_->create_datagram_endpoint([&] { return std::make_shared<TestDatagramProtocol>(*loop_, got, transport); },
                                  options, [&](Outcome<DatagramTransport> o) {
                                    done = o.ok();
                                    loop_->stop();
                                  });
  ASSERT_TRUE(run_until(*loop_, [&] { return done && transport; }));
  auto sockname = transport->get_extra_info("sockname");
  ASSERT_TRUE(sockname && sockname->is_array());
  auto port = (*sockname)[1].get<std::uint16_t>();

  int plain = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::sendto(plain, "ping", 4, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 4);
  ASSERT_TRUE(run_until(*loop_, [&] { return !got.empty(); }));
  EXPECT_EQ(got[0].first, "ping");
  transport->sendto("pong", got[0].second);
  timeval guard{5, 0};
  ::setsockopt(plain, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
  char buffer[16];
  ASSERT_EQ(::recv(plain, buffer, sizeof buffer, 0), 4);
  EXPECT_EQ(std::string(buffer, 4), "pong");
  ::close(plain);
  transport->abort();
}

TEST_P(PythonDriver, PipesBothWays) {
  int in[2];
  int out[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  Seen reader;
  bool read_done = false;
  bool write_done = false;
  std::shared_ptr<WriteTransport> writer;
  loop_->connect_read_pipe([&] { return std::make_shared<TestProtocol>(*loop_, reader); }, in[0],
                           [&](Outcome<ReadTransport> o) {
                             read_done = o.ok();
                             loop_->stop();
                           });
  Seen unused;
  loop_->connect_write_pipe([&] { return std::make_shared<TestProtocol>(*loop_, unused); }, out[1],
                            [&](Outcome<WriteTransport> o) {
                              write_done = o.ok();
                              writer = o.value;
                              loop_->stop();
                            });
  ASSERT_TRUE(run_until(*loop_, [&] { return read_done && write_done; }));
  ASSERT_EQ(::write(in[1], "through", 7), 7);
  ::close(in[1]);
  ASSERT_TRUE(run_until(*loop_, [&] { return reader.lost > 0; }));
  EXPECT_EQ(reader.received, "through");
  writer->write("back");
  writer->close();
  ASSERT_TRUE(run_until(*loop_, [&] { return unused.lost > 0; }));
  char buffer[16];
  EXPECT_EQ(::read(out[0], buffer, sizeof buffer), 4);
  EXPECT_EQ(std::string(buffer, 4), "back");
  ::close(out[0]);
}

class TestSubprocessProtocol : public SubprocessProtocol {
 public:
  TestSubprocessProtocol(EventLoop& loop, std::string& out, bool& exited, bool& lost)
      : loop_(loop), out_(out), exited_(exited), lost_(lost) {}
  void pipe_data_received(int fd, std::string_view data) override {
    if (fd == 1) out_.append(data);
    loop_.stop();
  }
  void process_exited() override {
    exited_ = true;
    loop_.stop();
  }
  void connection_lost(const MaybeError&) override {
    lost_ = true;
    loop_.stop();
  }

 private:
  EventLoop& loop_;
  std::string& out_;
  bool& exited_;
  bool& lost_;
};

TEST_P(PythonDriver, SubprocessEchoes) {
  std::string out;
  bool exited = false;
  bool lost = false;
  std::shared_ptr<SubprocessTransport> process;
  SubprocessOptions options;
  options.stderr_spec.mode = Stdio::DevNull;
  loop_->subprocess_exec([&] { return std::make_shared<TestSubprocessProtocol>(*loop_, out, exited, lost); },
                         {"/bin/cat"}, options, [&](Outcome<SubprocessTransport> o) {
                           process = o.value;
                           loop_->stop();
                         });
  ASSERT_TRUE(run_until(*loop_, [&] { return process != nullptr; }));
  EXPECT_GT(process->get_pid(), 0);
  auto stdin_pipe = std::dynamic_pointer_cast<WriteTransport>(process->get_pipe_transport(0));
  ASSERT_NE(stdin_pipe, nullptr);
  EXPECT_EQ(process->get_pipe_transport(0), stdin_pipe);  // the same object each time
  stdin_pipe->write("meow");
  stdin_pipe->write_eof();
  ASSERT_TRUE(run_until(*loop_, [&] { return exited && lost; }));
  EXPECT_EQ(out, "meow");
  EXPECT_EQ(process->get_returncode(), std::optional<int>(0));
}

TEST_P(PythonDriver, UnixDatagramEndpointBothWays) {
  // Rule: datagram.received.sender-address — a Unix datagram endpoint (uvloop refuses a path: the driver binds
  // the socket and passes it as sock=, spec/driver-protocol.md).
  TempDir dir;
  std::vector<std::pair<std::string, Address>> got;
  std::shared_ptr<DatagramTransport> transport;
  std::optional<Outcome<DatagramTransport>> outcome;
  DatagramOptions options;
  options.local_addr = UnixAddress{(dir.path() / "endpoint").string()};
  loop_->create_datagram_endpoint([&] { return std::make_shared<TestDatagramProtocol>(*loop_, got, transport); },
                                  options, [&](Outcome<DatagramTransport> o) {
                                    outcome = o;
                                    loop_->stop();
                                  });
  ASSERT_TRUE(run_until(*loop_, [&] { return outcome.has_value() && transport; }));
  ASSERT_FALSE(outcome->error) << outcome->error->to_string();
  auto sockname = transport->get_extra_info("sockname");
  ASSERT_TRUE(sockname.has_value());
  EXPECT_EQ(*sockname, (dir.path() / "endpoint").string());

  int plain = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un from{};
  from.sun_family = AF_UNIX;
  std::string from_path = (dir.path() / "peer").string();
  std::snprintf(from.sun_path, sizeof from.sun_path, "%s", from_path.c_str());
  ASSERT_EQ(::bind(plain, reinterpret_cast<sockaddr*>(&from), sizeof from), 0);
  sockaddr_un to = from;
  std::snprintf(to.sun_path, sizeof to.sun_path, "%s", (dir.path() / "endpoint").c_str());
  ASSERT_EQ(::sendto(plain, "ping", 4, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 4);
  ASSERT_TRUE(run_until(*loop_, [&] { return !got.empty(); }));
  EXPECT_EQ(got[0].first, "ping");
  EXPECT_EQ(got[0].second, Address(UnixAddress{from_path}));
  transport->sendto("pong", got[0].second);
  timeval guard{5, 0};
  ::setsockopt(plain, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
  char buffer[16];
  ASSERT_EQ(::recv(plain, buffer, sizeof buffer, 0), 4);
  EXPECT_EQ(std::string(buffer, 4), "pong");
  ::close(plain);
  transport->abort();
}

TEST_P(PythonDriver, ADescriptorGivenToAChildIsTheChildsAlone) {
  // Rule: subprocess.pipe-data.fd — the child writes to a descriptor the harness passed; once the child and the
  // harness closed their copies the reader sees end of file, so the driver kept no copy of its own.
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  std::string unused;
  bool exited = false;
  bool lost = false;
  std::shared_ptr<SubprocessTransport> process;
  SubprocessOptions options;
  options.stdin_spec.mode = Stdio::DevNull;
  options.stdout_spec = StdioSpec{Stdio::Fd, out[1]};
  options.stderr_spec.mode = Stdio::DevNull;
  loop_->subprocess_exec([&] { return std::make_shared<TestSubprocessProtocol>(*loop_, unused, exited, lost); },
                         {"/bin/sh", "-c", "echo to-fd"}, options, [&](Outcome<SubprocessTransport> o) {
                           process = o.value;
                           loop_->stop();
                         });
  ASSERT_TRUE(run_until(*loop_, [&] { return process != nullptr; }));
  ::close(out[1]);
  EXPECT_EQ(process->get_pipe_transport(1), nullptr);
  ASSERT_TRUE(run_until(*loop_, [&] { return exited && lost; }));
  std::string written;
  for (;;) {
    pollfd p{out[0], POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "no end of file: a copy of the write end is still open somewhere";
    char buffer[64];
    ssize_t n = ::read(out[0], buffer, sizeof buffer);
    ASSERT_GE(n, 0);
    if (n == 0) break;
    written.append(buffer, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(written, "to-fd\n");
  ::close(out[0]);
}

TEST_P(PythonDriver, SendSignalReachesTheChild) {
  // Rule: subprocess.send-signal.delivers — send_signal(SIGTERM) ends a child that waits; its return code says so.
  std::string out;
  bool exited = false;
  bool lost = false;
  std::shared_ptr<SubprocessTransport> process;
  loop_->subprocess_shell([&] { return std::make_shared<TestSubprocessProtocol>(*loop_, out, exited, lost); },
                          "read line", {}, [&](Outcome<SubprocessTransport> o) {
                            process = o.value;
                            loop_->stop();
                          });
  ASSERT_TRUE(run_until(*loop_, [&] { return process != nullptr; }));
  EXPECT_EQ(process->get_returncode(), std::nullopt);
  process->send_signal(SIGTERM);
  ASSERT_TRUE(run_until(*loop_, [&] { return exited && lost; }));
  EXPECT_EQ(process->get_returncode(), std::optional<int>(-SIGTERM));
}

TEST_P(PythonDriver, TlsBothWaysThroughTheDriversSslModule) {
  // Rule: loop.tls.encrypted-stream — a TLS server and a TLS client of the driver's loop, both made from
  // TlsConfig (the build's throwaway certificates), exchange data; a client that trusts another authority fails.
  TlsMaterial material = TlsMaterial::locate();
  auto server_tls = std::make_shared<TlsConfig>();
  server_tls->cert_file = material.server_cert();
  server_tls->key_file = material.server_key();
  server_tls->verify_peer = false;  // no client certificate
  server_tls->alpn = {"loopspec/1"};
  Seen served;
  std::shared_ptr<Server> server;
  ServerOptions server_options;
  server_options.ssl = server_tls;
  loop_->create_server([&] { return std::make_shared<TestProtocol>(*loop_, served); }, InetAddress{"127.0.0.1", 0},
                       server_options, [&](Outcome<Server> o) {
                         server = o.value;
                         loop_->stop();
                       });
  ASSERT_TRUE(run_until(*loop_, [&] { return server != nullptr; }));
  auto client_tls = std::make_shared<TlsConfig>();
  client_tls->ca_file = material.ca();
  client_tls->alpn = {"loopspec/1"};
  ConnectOptions connect;
  connect.ssl = client_tls;
  connect.server_hostname = "localhost";
  Seen client;
  std::optional<Outcome<Transport>> connected;
  loop_->create_connection([&] { return std::make_shared<TestProtocol>(*loop_, client); }, server->addresses().front(),
                           connect, [&](Outcome<Transport> o) {
                             connected = o;
                             loop_->stop();
                           });
  ASSERT_TRUE(run_until(*loop_, [&] { return connected.has_value() && served.made > 0; }));
  ASSERT_FALSE(connected->error) << connected->error->to_string();
  auto cipher = client.transport->get_extra_info("cipher");
  ASSERT_TRUE(cipher && cipher->is_array() && cipher->size() == 3) << (cipher ? cipher->dump() : "None");
  auto peercert = client.transport->get_extra_info("peercert");
  ASSERT_TRUE(peercert && peercert->is_object()) << (peercert ? peercert->dump() : "None");
  client.transport->write("hello over TLS");
  ASSERT_TRUE(run_until(*loop_, [&] { return served.received.size() >= 14; }));
  EXPECT_EQ(served.received, "hello over TLS");
  served.transport->write("and back");
  ASSERT_TRUE(run_until(*loop_, [&] { return client.received.size() >= 8; }));
  EXPECT_EQ(client.received, "and back");

  auto untrusting = std::make_shared<TlsConfig>();
  untrusting->ca_file = material.untrusted_ca();
  connect.ssl = untrusting;
  Seen never;
  std::optional<Outcome<Transport>> refused;
  loop_->create_connection([&] { return std::make_shared<TestProtocol>(*loop_, never); }, server->addresses().front(),
                           connect, [&](Outcome<Transport> o) {
                             refused = o;
                             loop_->stop();
                           });
  ASSERT_TRUE(run_until(*loop_, [&] { return refused.has_value(); }));
  ASSERT_TRUE(refused->error.has_value());
  EXPECT_EQ(refused->error->type, "SSLCertVerificationError");
  EXPECT_EQ(never.made, 0);
  server->close();
}

TEST(PythonFactory, AnyModuleCallableIsALoop) {
  TempDir dir;
  dir.write("mymod.py",
            "import asyncio\n"
            "class MyLoop(asyncio.SelectorEventLoop):\n"
            "    pass\n"
            "def factory():\n"
            "    return MyLoop()\n");
  auto loop = testing::start_loop(testing::python_command("mymod:factory", {"--python-path", dir.path().string()}));
  EXPECT_THAT(loop->hello().implementation, HasSubstr("mymod.MyLoop from mymod:factory"));
  bool ran = false;
  loop->call_soon([&] {
    ran = true;
    loop->stop();
  });
  loop->run_forever();
  EXPECT_TRUE(ran);
}

TEST(PythonFactory, RegistryResolvesPythonNames) {
  TempDir dir;
  dir.write("mymod2.py", "import asyncio\ndef factory():\n    return asyncio.new_event_loop()\n");
  ::setenv("LOOPSPEC_PYTHON_PATH", dir.path().c_str(), 1);
  BackendRegistry registry;
  register_remote_backends(registry);
  auto backend = registry.create("python:mymod2:factory", {});
  ::unsetenv("LOOPSPEC_PYTHON_PATH");
  EXPECT_EQ(backend->info().name, "python:mymod2:factory");
  // What asyncio's loop class implements.
  EXPECT_EQ(backend->info().capabilities,
            (std::set<std::string>{"buffered", "pipes", "subprocess", "tcp", "tls", "udp", "unix"}));
  auto names = registry.names();
  EXPECT_THAT(names, ::testing::Contains("python:asyncio"));
  EXPECT_EQ(std::count(names.begin(), names.end(), "python:uvloop"),
            testing::python_module_available("uvloop") ? 1 : 0);
  EXPECT_THROW(registry.create("python:not a name", {}), std::invalid_argument);
  try {
    registry.create("python:no_such_module_anywhere:factory", {});
    FAIL() << "a module that does not exist made a backend";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("No module named 'no_such_module_anywhere'"));
  }
  EXPECT_THROW(registry.create("python:asyncio", BackendOptions{"pause-at-high"}), std::invalid_argument);
}

}  // namespace
}  // namespace loopspec::remote
