// Drivers that break the protocol, die or hang: each gives a DriverFailure
// that says what happened (with the driver's stderr), never a crash or a
// hang, and the failure sticks. Tests harness machinery (spec/driver-protocol.md).
#include <signal.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace loopspec::remote {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

// One fake driver, its misbehaviour chosen by argv[1].
constexpr const char* kFakeDriver = R"PY(
import json, os, socket, sys
channel = socket.socket(fileno=3)
reader = channel.makefile("rb")
def send(message):
    channel.sendall((json.dumps(message) + "\n").encode())
def receive():
    line = reader.readline()
    if not line:
        sys.exit(0)
    return json.loads(line)
mode = sys.argv[1]
hello = {"hello": 1, "implementation": "fake driver", "version": "0", "capabilities": ["tcp", "warp-drive"]}
sys.stderr.write("fake driver: mode %s\n" % mode)
sys.stderr.flush()
if mode == "garbage":
    channel.sendall(b"this is not json\n")
elif mode == "fatal":
    send({"fatal": "no loop to be had"})
elif mode == "version":
    hello["hello"] = 2
    send(hello)
elif mode == "silent":
    pass
else:
    send(hello)
while True:
    message = receive()
    command = message.get("cmd")
    if command == "exit":
        send({"ok": None})
        sys.exit(0)
    if mode == "oversize":
        channel.sendall(b'{"ok": "' + b"x" * (2 << 20) + b'"}\n')
    elif mode == "wrong-type":
        send({"event": "callback", "handle": "one"})
    elif mode == "unknown-kind":
        send({"surprise": 1})
    elif mode == "protocol-error":
        send({"protocol_error": "field 'conn' is not what I expected"})
    elif mode == "unknown-event":
        send({"event": "teleport", "proto": 1})
    elif mode == "staged-missing":
        send({"event": "data_received", "proto": 1, "data": {"staged": 10}})
    elif mode == "bad-state":
        send({"ok": None, "states": {"1": {"wbuf": "lots"}}})
    elif mode == "exit-mid-callback":
        if command == "call_soon":
            send({"ok": None})
        elif command == "run":
            send({"event": "callback", "handle": message.get("handle", 1)})
            sys.stderr.write("fake driver: leaving in the middle of a callback\n")
            sys.stderr.flush()
            os._exit(3)
    elif mode == "hang":
        pass  # never answers
    elif mode == "well-behaved":
        send({"ok": 12.5 if command == "time" else None})
)PY";

class FakeDriver : public ::testing::Test {
 protected:
  DriverCommand command(const std::string& mode) {
    script_ = dir_.write("fake_driver.py", kFakeDriver);
    DriverCommand c;
    c.argv = {testing::python(), script_.string(), mode};
    c.capture_stderr = true;
    return c;
  }
  // The failure of starting a loop on the fake driver, or of its first call.
  std::string failure(const std::string& mode, const std::function<void(RemoteLoop&)>& call, double timeout = 10.0) {
    try {
      auto loop = testing::start_loop(command(mode), timeout);
      call(*loop);
    } catch (const DriverFailure& e) {
      return e.what();
    }
    return "no DriverFailure";
  }
  static void time_call(RemoteLoop& loop) { loop.time(); }

  TempDir dir_;
  std::filesystem::path script_;
};

TEST_F(FakeDriver, GarbageInsteadOfHello) {
  std::string what = failure("garbage", time_call);
  EXPECT_THAT(what, HasSubstr("not JSON"));
  EXPECT_THAT(what, HasSubstr("this is not json"));
  EXPECT_THAT(what, HasSubstr("fake driver: mode garbage"));  // its stderr is attached
}

TEST_F(FakeDriver, FatalBeforeHelloIsQuoted) {
  EXPECT_THAT(failure("fatal", time_call), HasSubstr("cannot start: no loop to be had"));
}

TEST_F(FakeDriver, WrongProtocolVersion) {
  EXPECT_THAT(failure("version", time_call), HasSubstr("speaks protocol version 2"));
}

TEST_F(FakeDriver, OversizeLine) {
  EXPECT_THAT(failure("oversize", time_call), HasSubstr("exceeds 1048576 bytes"));
}

TEST_F(FakeDriver, WrongFieldTypeNamesTheField) {
  EXPECT_THAT(failure("wrong-type", time_call), HasSubstr("event 'callback': field 'handle': expected a positive integer"));
}

TEST_F(FakeDriver, UnknownMessageKind) {
  EXPECT_THAT(failure("unknown-kind", time_call), HasSubstr("unknown kind (fields: surprise)"));
}

TEST_F(FakeDriver, UnknownEvent) { EXPECT_THAT(failure("unknown-event", time_call), HasSubstr("unknown event 'teleport'")); }

TEST_F(FakeDriver, StagedBytesThatNeverCame) {
  EXPECT_THAT(failure("staged-missing", time_call), HasSubstr("field 'data': names 10 staged bytes, 0 were staged"));
}

TEST_F(FakeDriver, MalformedStateBlock) {
  EXPECT_THAT(failure("bad-state", time_call), HasSubstr("field 'wbuf': expected an integer"));
}

TEST_F(FakeDriver, ProtocolErrorReportedByTheDriver) {
  EXPECT_THAT(failure("protocol-error", time_call),
              HasSubstr("reports a protocol violation by the harness: field 'conn' is not what I expected"));
}

TEST_F(FakeDriver, ExitInTheMiddleOfACallback) {
  bool callback_ran = false;
  std::string what = failure("exit-mid-callback", [&](RemoteLoop& loop) {
    loop.call_soon([&] { callback_ran = true; });
    loop.run_forever();
  });
  EXPECT_TRUE(callback_ran);
  EXPECT_THAT(what, HasSubstr("exited with status 3"));
  EXPECT_THAT(what, HasSubstr("leaving in the middle of a callback"));
}

TEST_F(FakeDriver, HangIsATimeoutThatKillsTheDriver) {
  auto started = Clock::now();
  std::string what = failure("hang", time_call, 0.3);
  EXPECT_THAT(what, HasSubstr("sent no reply to 'time' within 0.3"));
  EXPECT_THAT(what, HasSubstr("killed by signal 9"));
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5));
}

TEST_F(FakeDriver, SilentDriverTimesOutBeforeHello) {
  EXPECT_THAT(failure("silent", time_call, 0.3), HasSubstr("sent no hello within"));
}

TEST_F(FakeDriver, FailureSticksAndPostsStayQuiet) {
  auto loop = testing::start_loop(command("wrong-type"));
  std::string first;
  try {
    loop->time();
  } catch (const DriverFailure& e) {
    first = e.what();
  }
  ASSERT_FALSE(first.empty());
  loop->call_soon_threadsafe([] {});  // must not throw, must not raise SIGPIPE
  try {
    loop->stop();
    FAIL() << "a failed driver answered";
  } catch (const DriverFailure& e) {
    EXPECT_EQ(first, e.what());
  }
}

TEST_F(FakeDriver, WellBehavedFakeAnswers) {
  auto loop = testing::start_loop(command("well-behaved"));
  EXPECT_EQ(loop->time().count(), 12.5);
  EXPECT_EQ(loop->hello().implementation, "fake driver");
}

TEST_F(FakeDriver, BackendKeepsOnlyCapabilitiesTheRemoteSideCarries) {
  RemoteOptions options;
  options.name = "fake";
  options.command = command("well-behaved");
  RemoteBackend backend(options);
  EXPECT_EQ(backend.info().capabilities, std::set<std::string>{"tcp"});  // "warp-drive" dropped
  EXPECT_EQ(backend.info().implementation, "fake driver");
  EXPECT_GT(backend.info().timeout_scale, 1.0);
}

TEST_F(FakeDriver, BackendThatCannotStartSaysWhy) {
  RemoteOptions options;
  options.name = "fake";
  options.command = command("fatal");
  try {
    RemoteBackend backend(options);
    FAIL() << "created a backend whose driver cannot start";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("no loop to be had"));
  }
}

using FakeDriverDeathTest = FakeDriver;

TEST_F(FakeDriverDeathTest, IgnoredFailureEndsTheProcessWhenTheLoopGoes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  DriverCommand c = command("wrong-type");
  EXPECT_EXIT(
      {
        RemoteLoop loop(c, ConnectionOptions{"fake", std::chrono::duration<double>(5.0)}, true);
        try {
          loop.time();
        } catch (const DriverFailure&) {
          // swallowed, as scenario code capturing errors would
        }
      },
      ::testing::ExitedWithCode(kIgnoredDriverFailureExit), "caught this failure and went on");
}

}  // namespace
}  // namespace loopspec::remote
