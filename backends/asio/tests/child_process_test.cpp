// Child processes: spawned with their pipes on stream descriptors, their
// exit watched through a pidfd. Each test names the rule it checks.
#include <signal.h>

#include <gtest/gtest.h>

#include "asio_test_support.hpp"

namespace loopspec::asio {
namespace {

using testing::wait_for;

class LogChild : public SubprocessProtocol {
 public:
  std::vector<std::string> log;
  std::string out, err;
  std::shared_ptr<SubprocessTransport> transport;
  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<SubprocessTransport>(t);
    log.emplace_back("made");
  }
  void pipe_data_received(int fd, std::string_view data) override { (fd == 1 ? out : err).append(data); }
  void pipe_connection_lost(int fd, const MaybeError&) override { log.push_back("pipe lost " + std::to_string(fd)); }
  void process_exited() override { log.emplace_back("exited"); }
  void connection_lost(const MaybeError&) override { log.emplace_back("lost"); }
  bool lost() const { return !log.empty() && log.back() == "lost"; }
};

std::shared_ptr<LogChild> start(AsioLoop& loop, std::vector<std::string> argv, MaybeError* failure = nullptr) {
  auto child = std::make_shared<LogChild>();
  bool done = false;
  MaybeError error;
  loop.subprocess_exec([child] { return child; }, std::move(argv), {}, [&](Outcome<SubprocessTransport> o) {
    error = o.error;
    done = true;
  });
  EXPECT_TRUE(wait_for(loop, [&] { return done; }));
  if (failure != nullptr) *failure = error;
  return child;
}

TEST(AsioChildProcess, PipesCarryItsOutputAndExitComesBeforeConnectionLost) {
  // Rule: subprocess.connection-lost.last
  AsioLoop loop;
  auto child = start(loop, {"/bin/sh", "-c", "read line; echo \"out:$line\"; echo err >&2; exit 3"});
  ASSERT_TRUE(child->transport);
  EXPECT_EQ(child->transport->get_returncode(), std::nullopt);  // subprocess.returncode.none-while-running
  auto stdin_pipe = std::dynamic_pointer_cast<WriteTransport>(child->transport->get_pipe_transport(0));
  ASSERT_TRUE(stdin_pipe);
  EXPECT_EQ(child->transport->get_pipe_transport(3), nullptr);  // subprocess.pipe-transport.other-fd-none
  stdin_pipe->write("hi\n");
  ASSERT_TRUE(wait_for(loop, [&] { return child->lost(); }));
  EXPECT_EQ(child->out, "out:hi\n");
  EXPECT_EQ(child->err, "err\n");
  EXPECT_EQ(child->transport->get_returncode(), 3);  // subprocess.returncode.after-exit
  EXPECT_EQ(child->log.front(), "made");
  EXPECT_EQ(std::count(child->log.begin(), child->log.end(), "exited"), 1);
}

TEST(AsioChildProcess, KillIsSigkillAndTheReturncodeIsMinusTheSignal) {
  // Rule: subprocess.kill.sigkill
  AsioLoop loop;
  auto child = start(loop, {"/bin/sh", "-c", "exec sleep 60"});
  ASSERT_TRUE(child->transport);
  EXPECT_GT(child->transport->get_pid(), 0);  // subprocess.get-pid.returns-pid
  child->transport->kill();
  ASSERT_TRUE(wait_for(loop, [&] { return child->lost(); }));
  EXPECT_EQ(child->transport->get_returncode(), -SIGKILL);
  EXPECT_THROW(child->transport->send_signal(SIGTERM), ContractError);  // gone: ProcessLookupError
}

TEST(AsioChildProcess, CloseClosesThePipesAndKillsAChildStillRunning) {
  // Rule: subprocess.close.kills
  AsioLoop loop;
  auto child = start(loop, {"/bin/sh", "-c", "exec sleep 60"});
  ASSERT_TRUE(child->transport);
  child->transport->close();
  EXPECT_TRUE(child->transport->is_closing());
  ASSERT_TRUE(wait_for(loop, [&] { return child->lost(); }));
  EXPECT_EQ(child->transport->get_returncode(), -SIGKILL);
}

TEST(AsioChildProcess, AProgramThatDoesNotExistIsFileNotFoundError) {
  // Rule: loop.setup.loop-creates-transport
  AsioLoop loop;
  MaybeError failure;
  auto child = start(loop, {"/no/such/program"}, &failure);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->type, "FileNotFoundError");
  EXPECT_TRUE(child->log.empty());
}

}  // namespace
}  // namespace loopspec::asio
