// Drivers that break the protocol, die or hang: each gives a DriverFailure
// that says what happened (with the driver's stderr), never a crash or a
// hang, and the failure sticks. Tests harness machinery (spec/driver-protocol.md).
#include <signal.h>

#include <optional>
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
def receive_return(event):
    send(event)
    answer = receive()
    if "return" not in answer:
        sys.exit("fake driver: expected a return, got %r" % (answer,))
    return answer["return"]
OPERATIONS = ("create_connection", "create_datagram_endpoint", "subprocess_exec")
MADE = {
    "datagram-bad-addr": lambda p, op: {"event": "datagram_received", "proto": p, "data": "aGk=", "addr": [7, 8]},
    "error-received-null": lambda p, op: {"event": "error_received", "proto": p, "exc": None},
    "pipe-fd-out-of-range": lambda p, op: {"event": "pipe_data_received", "proto": p, "fd": 7, "data": "aGk="},
    "pipe-fd-not-integer": lambda p, op: {"event": "pipe_connection_lost", "proto": p, "fd": "one", "exc": None},
    "exited-on-datagram": lambda p, op: {"event": "process_exited", "proto": p},
    "exc-without-type": lambda p, op: {"event": "pipe_connection_lost", "proto": p, "fd": 1,
                                       "exc": {"errno": 0, "message": "gone"}},
    "done-wrong-kind": lambda p, op: {"event": "done", "op": op, "conn": 1},
}
made = []
mode = sys.argv[1]
hello = {"hello": 2, "implementation": "fake driver", "version": "0", "capabilities": ["tcp", "tls", "warp-drive"]}
sys.stderr.write("fake driver: mode %s\n" % mode)
sys.stderr.flush()
if mode == "garbage":
    channel.sendall(b"this is not json\n")
elif mode == "fatal":
    send({"fatal": "no loop to be had"})
elif mode == "version":
    hello["hello"] = 1
    send(hello)
elif mode == "silent":
    pass
elif mode == "slow-start":
    import time
    time.sleep(0.8)  # an interpreter starting on a loaded machine
    send(hello)
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
    elif mode == "drip":
        import time
        for byte in b'{"ok": 12.5}\n':  # one byte every 0.1 s: the whole reply takes 1.3 s
            channel.sendall(bytes([byte]))
            time.sleep(0.1)
    elif mode == "deep":
        channel.sendall(b'{"ok": ' + b"[" * 100 + b"]" * 100 + b"}\n")
    elif mode in MADE:
        # A well-formed setup (factory, connection_made as conn 1, done) for the first operation; the
        # mode's malformed event inside the second one.
        if command in OPERATIONS and not made:
            proto = receive_return({"event": "factory", "factory": message["factory"]})["proto"]
            receive_return({"event": "connection_made", "proto": proto, "conn": 1})
            made.append(proto)
            if "op" in message:
                receive_return({"event": "done", "op": message["op"], "conn": 1})
            send({"ok": None})
        elif command in OPERATIONS:
            send(MADE[mode](made[0], message.get("op")))
        else:
            send({"ok": None})
    elif mode in ("well-behaved", "slow-start"):
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
  std::string failure(const std::string& mode, const std::function<void(RemoteLoop&)>& call, double timeout = 10.0,
                      double start_timeout = 30.0) {
    try {
      auto loop = testing::start_loop(command(mode), timeout, start_timeout);
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
  EXPECT_THAT(failure("version", time_call), HasSubstr("speaks protocol version 1, the harness 2"));
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

// Malformed events of datagram endpoints and subprocesses, each inside the setup of a second endpoint
// after a well-formed first one (see MADE in the fake driver).
class Quiet : public DatagramProtocol {};
class QuietChild : public SubprocessProtocol {};
class QuietStream : public Protocol {};

void open_two_endpoints(RemoteLoop& loop) {
  DatagramOptions options;
  options.local_addr = InetAddress{"127.0.0.1", 0};
  for (int i = 0; i < 2; ++i) {
    loop.create_datagram_endpoint([] { return std::make_shared<Quiet>(); }, options, [](Outcome<DatagramTransport>) {});
  }
}

void start_two_children(RemoteLoop& loop) {
  for (int i = 0; i < 2; ++i) {
    loop.subprocess_exec([] { return std::make_shared<QuietChild>(); }, {"/bin/true"}, {},
                         [](Outcome<SubprocessTransport>) {});
  }
}

TEST_F(FakeDriver, DatagramEventWithABadAddressNamesTheField) {
  EXPECT_THAT(failure("datagram-bad-addr", open_two_endpoints),
              HasSubstr("event 'datagram_received': field 'addr': expected an address"));
}

TEST_F(FakeDriver, ErrorReceivedWithoutAnError) {
  EXPECT_THAT(failure("error-received-null", open_two_endpoints),
              HasSubstr("event 'error_received': field 'exc': must not be null"));
}

TEST_F(FakeDriver, PipeEventForAnFdThatIsNoStdio) {
  EXPECT_THAT(failure("pipe-fd-out-of-range", start_two_children),
              HasSubstr("event 'pipe_data_received': field 'fd': expected 0, 1 or 2 (a child's stdio), got 7"));
}

TEST_F(FakeDriver, PipeEventWithAnFdOfTheWrongType) {
  EXPECT_THAT(failure("pipe-fd-not-integer", start_two_children),
              HasSubstr("event 'pipe_connection_lost': field 'fd': expected an integer"));
}

TEST_F(FakeDriver, PipeEventWithAMalformedError) {
  EXPECT_THAT(failure("exc-without-type", start_two_children),
              HasSubstr("event 'pipe_connection_lost': field 'exc': field 'type'"));
}

TEST_F(FakeDriver, SubprocessCallbackOnADatagramProtocol) {
  EXPECT_THAT(failure("exited-on-datagram", open_two_endpoints),
              HasSubstr("event 'process_exited': field 'proto': protocol 1 is a DatagramProtocol, which has no such "
                        "callback"));
}

TEST_F(FakeDriver, CompletionNamingAConnectionOfAnotherKind) {
  std::string what = failure("done-wrong-kind", [](RemoteLoop& loop) {
    loop.create_connection([] { return std::make_shared<QuietStream>(); }, InetAddress{"127.0.0.1", 9}, {},
                           [](Outcome<Transport>) {});
    DatagramOptions options;
    options.local_addr = InetAddress{"127.0.0.1", 0};
    loop.create_datagram_endpoint([] { return std::make_shared<Quiet>(); }, options, [](Outcome<DatagramTransport>) {});
  });
  EXPECT_THAT(what, HasSubstr("event 'done': field 'conn': names a connection of another kind"));
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

// The start (interpreter launch, hello) has its own allowance, so a slow start on a loaded machine does not
// pass for the hang under test; the hang is timed from the request on.
TEST_F(FakeDriver, HangIsATimeoutThatKillsTheDriver) {
  std::optional<Clock::time_point> asked;
  std::string what = failure("hang", [&](RemoteLoop& loop) {
    asked = Clock::now();
    loop.time();
  }, 0.3);
  EXPECT_THAT(what, HasSubstr("sent no reply to 'time' within 0.3"));
  EXPECT_THAT(what, HasSubstr("killed by signal 9"));
  ASSERT_TRUE(asked.has_value());
  EXPECT_LT(Clock::now() - *asked, std::chrono::seconds(5));
}

// A reply trickling in a byte at a time is timed as one reply: the deadline does not restart with each byte.
TEST_F(FakeDriver, DrippedReplyTimesOutAsAWhole) {
  std::optional<Clock::time_point> asked;
  std::string what = failure("drip", [&](RemoteLoop& loop) {
    asked = Clock::now();
    loop.time();
  }, 0.4);
  EXPECT_THAT(what, HasSubstr("sent no reply to 'time' within 0.4"));
  ASSERT_TRUE(asked.has_value());
  EXPECT_LT(Clock::now() - *asked, std::chrono::seconds(5));
}

// The nesting is bounded before the parser (which recurses) sees the message.
TEST_F(FakeDriver, DeeplyNestedReplyIsRejected) {
  EXPECT_THAT(failure("deep", time_call), HasSubstr("nests deeper than 64 levels"));
}

TEST_F(FakeDriver, SilentDriverTimesOutBeforeHello) {
  EXPECT_THAT(failure("silent", time_call, 0.3, 0.5), HasSubstr("sent no hello within 0.5 s"));
}

TEST_F(FakeDriver, SlowStartIsNoHang) {
  auto loop = testing::start_loop(command("slow-start"), 0.3);
  EXPECT_EQ(loop->time().count(), 12.5);
}

TEST_F(FakeDriver, StartAllowanceIsNeverShorterThanTheReplyTimeout) {
  EXPECT_THAT(failure("silent", time_call, 0.6, 0.2), HasSubstr("sent no hello within 0.6 s"));
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
  EXPECT_EQ(backend.info().capabilities, (std::set<std::string>{"tcp", "tls"}));  // "warp-drive" dropped
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
