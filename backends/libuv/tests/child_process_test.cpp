// The libuv subprocess transport (uv_spawn): pipes under the child's fds,
// process_exited with the return code, connection_lost last, close() and
// signals, and no zombie or descriptor left behind.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "uv_test_support.hpp"

namespace loopspec::libuv {
namespace {

using testing::LoopRunner;

class RecordingSubprocessProtocol : public SubprocessProtocol {
 public:
  std::shared_ptr<SubprocessTransport> transport;
  std::vector<std::string> order;
  std::string output[3];
  std::optional<int> returncode_at_exit;

  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<SubprocessTransport>(t);
    order.push_back("made");
  }
  void pipe_data_received(int fd, std::string_view data) override { output[fd].append(data); }
  void pipe_connection_lost(int fd, const MaybeError&) override { order.push_back("pipe_lost " + std::to_string(fd)); }
  void process_exited() override {
    returncode_at_exit = transport->get_returncode();
    order.push_back("exited");
  }
  void connection_lost(const MaybeError&) override {
    order.push_back("lost");
    transport.reset();
  }
  bool lost() const { return !order.empty() && order.back() == "lost"; }
};

class UvChild : public ::testing::Test {
 protected:
  void start(const std::string& script) {
    std::optional<Outcome<SubprocessTransport>> outcome;
    loop.subprocess_shell([p = protocol] { return p; }, script, {}, [&](Outcome<SubprocessTransport> o) { outcome = o; });
    ASSERT_TRUE(runner.run_until([&] { return outcome.has_value(); }));
    ASSERT_TRUE(outcome->ok()) << outcome->error->to_string();
    child = outcome->value;
  }

  UvLoop loop;
  LoopRunner runner{loop};
  std::shared_ptr<RecordingSubprocessProtocol> protocol = std::make_shared<RecordingSubprocessProtocol>();
  std::shared_ptr<SubprocessTransport> child;
};

TEST_F(UvChild, PipesThenExitThenConnectionLostLast) {
  // Rule: subprocess.connection-lost.last
  start("echo out; echo err >&2; read line; echo \"got:$line\"; exit 7");
  std::dynamic_pointer_cast<WriteTransport>(child->get_pipe_transport(0))->write("hi\n");
  ASSERT_TRUE(runner.run_until([&] { return protocol->lost(); }));
  EXPECT_EQ(protocol->output[1], "out\ngot:hi\n");
  EXPECT_EQ(protocol->output[2], "err\n");
  EXPECT_EQ(protocol->returncode_at_exit, 7);
  EXPECT_EQ(protocol->order.front(), "made");
  for (const char* event : {"pipe_lost 0", "pipe_lost 1", "pipe_lost 2", "exited"}) {
    EXPECT_EQ(std::count(protocol->order.begin(), protocol->order.end(), event), 1) << event;
  }
  EXPECT_TRUE(child->is_closing());
  EXPECT_THROW(child->send_signal(SIGTERM), ContractError);  // ProcessLookupError once it is all over
}

TEST_F(UvChild, CloseKillsARunningChild) {
  // Rule: subprocess.close.kills
  start("exec sleep 60");
  child->close();
  EXPECT_TRUE(child->is_closing());
  ASSERT_TRUE(runner.run_until([&] { return protocol->lost(); }));
  EXPECT_EQ(protocol->returncode_at_exit, -SIGKILL);
}

TEST_F(UvChild, TerminateIsSigterm) {
  // Rule: subprocess.terminate.sigterm
  start("exec sleep 60");
  child->terminate();
  ASSERT_TRUE(runner.run_until([&] { return protocol->lost(); }));
  EXPECT_EQ(child->get_returncode(), -SIGTERM);
}

TEST_F(UvChild, AProgramThatDoesNotExistIsFileNotFoundError) {
  // Rule: loop.setup.returns-transport-and-protocol
  std::optional<Outcome<SubprocessTransport>> outcome;
  loop.subprocess_exec([p = protocol] { return p; }, {"/no/such/program"}, {},
                       [&](Outcome<SubprocessTransport> o) { outcome = o; });
  ASSERT_TRUE(runner.run_until([&] { return outcome.has_value(); }));
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(outcome->error->type, "FileNotFoundError");
  EXPECT_TRUE(protocol->order.empty());
}

TEST(UvChildCleanUp, TheLoopGoingFirstLeavesNoZombieNorDescriptor) {
  // Machinery: a running child is killed and reaped when its loop is destroyed.
  int before = testing::open_fd_count();
  int pid = 0;
  {
    UvLoop loop;
    LoopRunner runner(loop);
    std::optional<Outcome<SubprocessTransport>> outcome;
    loop.subprocess_shell([] { return std::make_shared<RecordingSubprocessProtocol>(); }, "exec sleep 60", {},
                          [&](Outcome<SubprocessTransport> o) { outcome = o; });
    ASSERT_TRUE(runner.run_until([&] { return outcome.has_value(); }));
    ASSERT_TRUE(outcome->ok());
    pid = outcome->value->get_pid();
  }
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1) << "the child was not reaped";
  EXPECT_EQ(errno, ECHILD);
  EXPECT_EQ(testing::open_fd_count(), before);
}

}  // namespace
}  // namespace loopspec::libuv
