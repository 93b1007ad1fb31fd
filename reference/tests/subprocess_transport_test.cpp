// The reference loop's child processes (subprocess_transport.hpp,
// kit/process_spawn.hpp, child_exit_watch.hpp): no zombie and no descriptor is
// left behind, the child gets a clean start, and both ways of learning of its
// exit work.
#include <signal.h>
#include <sys/wait.h>

#include <sstream>

#include "loop_test_support.hpp"
#include "loopspec/kit/process_spawn.hpp"
#include "loopspec/reference/child_exit_watch.hpp"

namespace loopspec::reference::testing {
namespace {

class ChildProtocol : public SubprocessProtocol, public EventLog {
 public:
  using EventLog::EventLog;
  std::shared_ptr<SubprocessTransport> transport;
  std::string output[3];
  int lost = 0;

  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<SubprocessTransport>(t);
    note("made");
  }
  void pipe_data_received(int fd, std::string_view data) override {
    output[fd].append(data);
    wake();
  }
  void pipe_connection_lost(int fd, const MaybeError&) override { note("pipe_lost:" + std::to_string(fd)); }
  void process_exited() override { note("exited"); }
  void connection_lost(const MaybeError&) override {
    ++lost;
    note("lost");
  }
};

struct ChildRig : LoopRig {
  std::shared_ptr<ChildProtocol> protocol = std::make_shared<ChildProtocol>(runner);

  Outcome<SubprocessTransport> run(std::vector<std::string> argv, SubprocessOptions options = {}) {
    return await_outcome<SubprocessTransport>(
        runner,
        [&](Completion<SubprocessTransport> done) {
          loop.subprocess_exec([p = protocol] { return p; }, std::move(argv), options, std::move(done));
        },
        "subprocess_exec");
  }
};

// The child was reaped: its pid is no child of this process any more.
bool reaped(pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) < 0 && errno == ECHILD; }

// Rule: subprocess.connection-lost.last
TEST(Subprocess, NoZombieAndNoDescriptorLeftAfterConnectionLost) {
  ChildRig rig;
  auto with_loop = open_fds();
  auto outcome = rig.run({"/bin/sh", "-c", "echo out; echo err >&2"});
  ASSERT_TRUE(outcome.ok()) << outcome.error->to_string();
  pid_t pid = outcome.value->get_pid();
  EXPECT_EQ(fds_not_cloexec_nonblocking(with_loop, false), "");
  ASSERT_TRUE(rig.run_until([&] { return rig.protocol->lost == 1; }));
  EXPECT_EQ(rig.protocol->output[1], "out\n");
  EXPECT_EQ(rig.protocol->output[2], "err\n");
  EXPECT_EQ(rig.protocol->events.back(), "lost");
  EXPECT_EQ(outcome.value->get_returncode(), 0);
  EXPECT_TRUE(reaped(pid)) << "a zombie is left";
  EXPECT_EQ(open_fds(), with_loop) << "descriptors left open after connection_lost";
}

// Rule: subprocess.close.kills
// Rule: subprocess.close.terminates
TEST(Subprocess, CloseSendsTheSignalOfTheProfile) {
  for (int signal : {SIGKILL, SIGTERM}) {
    ChildRig rig;
    rig.loop.set_subprocess_close_signal(signal);
    auto outcome = rig.run({"sleep", "30"});
    ASSERT_TRUE(outcome.ok()) << outcome.error->to_string();
    outcome.value->close();
    ASSERT_TRUE(rig.run_until([&] { return rig.protocol->lost == 1; }));
    EXPECT_EQ(outcome.value->get_returncode(), -signal);
  }
}

// Machinery test: a loop destroyed while its child runs kills and reaps it,
// and closes every descriptor.
TEST(Subprocess, LoopDestroyedWithARunningChild) {
  auto before = open_fds();
  pid_t pid = -1;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  {
    ChildRig rig;
    SubprocessOptions options;
    options.stdin_spec = StdioSpec{Stdio::Fd, fds[0]};
    auto outcome = rig.run({"cat"}, options);
    ASSERT_TRUE(outcome.ok());
    pid = outcome.value->get_pid();
    EXPECT_EQ(outcome.value->get_returncode(), std::nullopt);
  }
  EXPECT_TRUE(reaped(pid)) << "the child outlived its loop";
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(open_fds(), before);
}

// Machinery test: a program that does not exist fails the setup with
// FileNotFoundError and leaves nothing open.
TEST(Subprocess, MissingProgram) {
  ChildRig rig;
  auto with_loop = open_fds();
  auto outcome = rig.run({"/nonexistent/loopspec-program"});
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error->type, "FileNotFoundError");
  EXPECT_TRUE(rig.protocol->events.empty());
  EXPECT_EQ(open_fds(), with_loop);
}

// Machinery test: the child keeps only fds 0-2 and starts with every signal at
// its default action and none blocked, whatever the parent does.
TEST(Subprocess, ChildStartsClean) {
  ChildRig rig;
  int inheritable = ::dup(2);  // not close-on-exec
  ASSERT_GE(inheritable, 0);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous {};
  ::sigaction(SIGUSR2, &ignore, &previous);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  auto outcome = rig.run({"/bin/sh", "-c", "ls /proc/self/fd; grep -E '^Sig(Ign|Blk)' /proc/self/status"});
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGUSR2, &previous, nullptr);
  ::close(inheritable);
  ASSERT_TRUE(outcome.ok());
  ASSERT_TRUE(rig.run_until([&] { return rig.protocol->lost == 1; }));
  std::istringstream lines(rig.protocol->output[1]);
  std::vector<std::string> fds;
  std::string line;
  std::string status;
  while (std::getline(lines, line)) {
    if (line.rfind("Sig", 0) == 0) {
      status += line + "\n";
    } else {
      fds.push_back(line);
    }
  }
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2", "3"})) << "ls reads /proc/self/fd through fd 3";
  // The standard signals (1-31); glibc's posix_spawn leaves its own internal real-time signals ignored.
  auto standard = [&](const std::string& field) {
    auto at = status.find(field + ":\t");
    if (at == std::string::npos) return ~0ull;
    return std::stoull(status.substr(at + field.size() + 2, 16), nullptr, 16) & 0x7fffffffull;
  };
  EXPECT_EQ(standard("SigBlk"), 0u) << status;
  EXPECT_EQ(standard("SigIgn"), 0u) << status;
}

// Rule: subprocess.send-signal.delivers
TEST(Subprocess, SignalsAfterTheExit) {
  ChildRig rig;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  SubprocessOptions options;
  options.stdin_spec = StdioSpec{Stdio::Fd, fds[0]};
  auto outcome = rig.run({"cat"}, options);
  ::close(fds[0]);
  ASSERT_TRUE(outcome.ok());
  auto& t = *outcome.value;
  t.send_signal(SIGHUP);
  ASSERT_TRUE(rig.run_until([&] { return rig.protocol->lost == 1; }));
  EXPECT_EQ(t.get_returncode(), -SIGHUP);
  try {
    t.kill();
    ADD_FAILURE() << "kill() after connection_lost did not raise";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error().type, "ProcessLookupError");
  }
  ::close(fds[1]);
}

class ChildExitWatchMechanisms : public ::testing::TestWithParam<ChildExitWatch::Mechanism> {};

// Machinery test: both ways of learning of an exit report the return code
// once and reap the child, also for a child that exited before the watch.
TEST_P(ChildExitWatchMechanisms, ReportsAndReaps) {
  EpollLoop loop;
  LoopRunner runner(loop);
  SubprocessOptions quiet;
  quiet.stdin_spec = quiet.stdout_spec = quiet.stderr_spec = StdioSpec{Stdio::DevNull};
  auto early = kit::spawn_process({"/bin/sh", "-c", "exit 5"}, quiet);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(early.pid), &info, WEXITED | WNOWAIT), 0);  // exited, not reaped
  auto late = kit::spawn_process({"/bin/sh", "-c", "read x"}, SubprocessOptions{});
  std::vector<int> codes;
  auto record = [&](int code) {
    codes.push_back(code);
    runner.notify();
  };
  auto early_watch = ChildExitWatch::start(loop, early.pid, record, GetParam());
  auto late_watch = ChildExitWatch::start(loop, late.pid, record, GetParam());
  EXPECT_EQ(early_watch->mechanism(), GetParam());
  ASSERT_TRUE(runner.run_until([&] { return codes.size() == 1; }));
  EXPECT_EQ(codes, std::vector<int>{5});
  ::close(late.stdin_fd);  // the shell's read sees end of file: it exits 1
  ASSERT_TRUE(runner.run_until([&] { return codes.size() == 2; }));
  EXPECT_EQ(codes, (std::vector<int>{5, 1}));
  EXPECT_TRUE(reaped(early.pid));
  EXPECT_TRUE(reaped(late.pid));
  ::close(late.stdout_fd);
  ::close(late.stderr_fd);
}

INSTANTIATE_TEST_SUITE_P(Both, ChildExitWatchMechanisms,
                         ::testing::Values(ChildExitWatch::Mechanism::Pidfd, ChildExitWatch::Mechanism::SigchldHandler),
                         [](const auto& info) {
                           return info.param == ChildExitWatch::Mechanism::Pidfd ? std::string("Pidfd")
                                                                                : std::string("SigchldHandler");
                         });

}  // namespace
}  // namespace loopspec::reference::testing
