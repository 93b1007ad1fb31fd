// The fault switch: each test-only deviation really deviates, exactly where its
// catalogue entry says (one test per fault, named after it), and the backend
// registers itself with the complete fault list.
#include "loopspec/kit/faults.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "loop_test_support.hpp"
#include "loopspec/reference/reference_backend.hpp"

namespace loopspec::reference {
namespace {

using testing::pattern;
using testing::RecordingProtocol;
using testing::Rig;

// A connection over a socketpair on a loop with one fault switched on.
class FaultRig {
 public:
  explicit FaultRig(const std::string& fault) : rig(kit::faults_from_name(fault, reference_backend_info())) {
    rig.loop.set_exception_handler([](std::string_view, const Error&) {});
    transport = rig.connect_pair(protocol);
  }

  // Builds back-pressure: the peer stops reading, the transport queues.
  std::size_t fill() {
    rig.raw->stop_reading();
    return rig.fill_until_queued(*transport);
  }
  std::int64_t queued() const { return static_cast<std::int64_t>(transport->get_write_buffer_size()); }

  Rig rig;
  std::shared_ptr<RecordingProtocol> protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  std::shared_ptr<Transport> transport;
};

TEST(Fault, PauseAtHigh) {
  // Rule: flow.pause.strictly-over-high (broken on purpose)
  FaultRig f("pause-at-high");
  f.fill();
  std::int64_t high = f.queued() + 100;
  f.transport->set_write_buffer_limits(high, 0);
  f.transport->write(std::string(100, 'x'));
  ASSERT_EQ(f.protocol->count("pause"), 1);
  EXPECT_EQ(static_cast<std::int64_t>(f.protocol->sizes_at_pause[0]), high);
}

TEST(Fault, NeverPause) {
  // Rule: flow.pause.when-over-high (broken on purpose)
  FaultRig f("never-pause");
  f.fill();
  f.transport->set_write_buffer_limits(f.queued() - 1);
  f.transport->write("more");
  EXPECT_GT(f.queued(), f.transport->get_write_buffer_limits().high);
  EXPECT_EQ(f.protocol->count("pause"), 0);
}

TEST(Fault, PauseRepeated) {
  // Rule: flow.pairing.alternate (broken on purpose)
  FaultRig f("pause-repeated");
  f.fill();
  f.transport->set_write_buffer_limits(f.queued() - 1);
  f.transport->write("a");
  f.transport->write("b");
  EXPECT_EQ(f.protocol->count("pause"), 3);
  EXPECT_EQ(f.protocol->count("resume"), 0);
}

TEST(Fault, ResumeBelowLow) {
  // Rule: flow.resume.when-at-or-below-low (broken on purpose)
  FaultRig f("resume-below-low");
  f.fill();
  std::int64_t size = f.queued();
  f.transport->set_write_buffer_limits(size - 1);
  ASSERT_EQ(f.protocol->count("pause"), 1);
  f.transport->set_write_buffer_limits(size, size);  // size <= low: the contract resumes here
  EXPECT_EQ(f.protocol->count("resume"), 0);
}

TEST(Fault, ResumeEarly) {
  // Rule: flow.resume.at-or-below-low (broken on purpose)
  FaultRig f("resume-early");
  f.fill();
  std::int64_t size = f.queued();
  f.transport->set_write_buffer_limits(size - 1);
  ASSERT_EQ(f.protocol->count("pause"), 1);
  f.transport->set_write_buffer_limits(size, 0);
  ASSERT_EQ(f.protocol->count("resume"), 1);
  EXPECT_GT(f.protocol->sizes_at_resume[0], 0u);  // over low (0)
}

TEST(Fault, EofTwice) {
  // Rule: proto.eof.at-most-once (broken on purpose)
  FaultRig f("eof-twice");
  f.rig.raw->shutdown_write();
  ASSERT_TRUE(f.rig.run_until([&] { return f.protocol->lost_count == 1; }));
  EXPECT_EQ(f.protocol->eof_count, 2);
}

TEST(Fault, DataAfterEof) {
  // Rule: proto.data.not-after-eof (broken on purpose)
  FaultRig f("data-after-eof");
  f.rig.raw->send("abc");
  ASSERT_TRUE(f.rig.run_until([&] { return f.protocol->received == "ab"; }));
  f.rig.raw->shutdown_write();
  ASSERT_TRUE(f.rig.run_until([&] { return f.protocol->lost_count == 1; }));
  EXPECT_EQ(f.protocol->received, "abc");
  EXPECT_EQ(f.protocol->events, (std::vector<std::string>{"made", "data", "eof", "data", "lost"}));
}

TEST(Fault, CloseDropsBuffer) {
  // Rule: transport.close.flushes-buffer (broken on purpose)
  FaultRig f("close-drops-buffer");
  std::size_t total = f.fill();
  f.transport->close();
  f.rig.raw->resume_reading();
  ASSERT_TRUE(f.rig.run_until([&] { return f.protocol->lost_count == 1 && f.rig.raw->eof; }));
  EXPECT_LT(f.rig.raw->received.size(), total);
}

TEST(Fault, AbortWithoutLost) {
  // Rule: write.abort.connection-lost (broken on purpose)
  FaultRig f("abort-without-lost");
  f.transport->abort();
  ASSERT_TRUE(f.rig.run_until([&] { return f.rig.raw->eof; }));
  f.rig.runner.run_iterations(3);
  EXPECT_EQ(f.protocol->lost_count, 0);
}

TEST(Fault, PauseReadingIgnored) {
  // Rule: read.pause.no-data-while-paused (broken on purpose)
  FaultRig f("pause-reading-ignored");
  f.transport->pause_reading();
  EXPECT_FALSE(f.transport->is_reading());
  f.rig.raw->send("still flowing");
  ASSERT_TRUE(f.rig.run_until([&] { return f.protocol->received == "still flowing"; }));
}

TEST(Fault, ResumeReadingNoop) {
  // Rule: read.resume.delivers-pending (broken on purpose)
  FaultRig f("resume-reading-noop");
  f.transport->pause_reading();
  f.rig.raw->send("stuck");
  f.transport->resume_reading();
  EXPECT_TRUE(f.transport->is_reading());
  f.rig.runner.run_iterations(5);
  EXPECT_EQ(f.protocol->count("data"), 0);
}

TEST(Fault, EofFalseStaysOpen) {
  // Rule: proto.eof.false-closes (broken on purpose)
  FaultRig f("eof-false-stays-open");
  f.rig.raw->shutdown_write();
  ASSERT_TRUE(f.rig.run_until([&] { return f.protocol->eof_count == 1; }));
  f.rig.runner.run_iterations(3);
  EXPECT_EQ(f.protocol->lost_count, 0);
  EXPECT_FALSE(f.transport->is_closing());
}

TEST(Fault, EofTrueCloses) {
  // Rule: proto.eof.true-half-open (broken on purpose)
  FaultRig f("eof-true-closes");
  f.protocol->keep_open_on_eof = true;
  f.rig.raw->shutdown_write();
  ASSERT_TRUE(f.rig.run_until([&] { return f.protocol->lost_count == 1; }));
}

TEST(Fault, LimitsUnchecked) {
  // Rule: write.limits.validation (broken on purpose)
  FaultRig f("limits-unchecked");
  EXPECT_NO_THROW(f.transport->set_write_buffer_limits(10, 20));
  EXPECT_EQ(f.transport->get_write_buffer_limits(), (WriteBufferLimits{20, 10}));
}

TEST(Fault, HighZeroKeepsLow) {
  // Rule: write.limits.high-zero-forces-low-zero (broken on purpose)
  FaultRig f("high-zero-keeps-low");
  f.transport->set_write_buffer_limits(0);
  EXPECT_EQ(f.transport->get_write_buffer_limits(), (WriteBufferLimits{16 * 1024, 0}));
}

TEST(Fault, NotClosingAfterClose) {
  // Rule: transport.closing.after-close (broken on purpose)
  FaultRig f("not-closing-after-close");
  f.transport->close();
  EXPECT_FALSE(f.transport->is_closing());
}

TEST(Fault, LostTwice) {
  // Rule: proto.order.lost-once (broken on purpose)
  FaultRig f("lost-twice");
  f.transport->abort();
  f.transport->close();
  ASSERT_TRUE(f.rig.run_until([&] { return f.protocol->lost_count == 2; }));
}

TEST(Fault, WriteEofBeforeFlush) {
  // Rule: write.eof.flushes-then-shuts-down (broken on purpose)
  FaultRig f("write-eof-before-flush");
  std::size_t total = f.fill();
  f.transport->write_eof();
  f.rig.raw->resume_reading();
  ASSERT_TRUE(f.rig.run_until([&] { return f.rig.raw->eof; }));
  EXPECT_LT(f.rig.raw->received.size(), total);
}

TEST(Fault, WritevReorder) {
  // Rule: write.data.in-order (broken on purpose)
  FaultRig f("writev-reorder");
  std::size_t total = f.fill();
  f.transport->write(std::string(20000, 'A'));
  f.transport->write(std::string(20000, 'B'));
  total += 40000;
  f.rig.raw->resume_reading();
  ASSERT_TRUE(f.rig.run_until([&] { return f.rig.raw->received.size() == total; }));
  EXPECT_LT(f.rig.raw->received.find('B'), f.rig.raw->received.find('A'));
}

TEST(Fault, WritelinesDropsLast) {
  // Rule: write.writelines.equivalent (broken on purpose)
  FaultRig f("writelines-drops-last");
  std::string_view pieces[] = {"a", "b", "c"};
  f.transport->writelines(pieces);
  f.transport->write("!");
  ASSERT_TRUE(f.rig.run_until([&] { return f.rig.raw->received.size() >= 3; }));
  EXPECT_EQ(f.rig.raw->received, "ab!");
}

TEST(Fault, EmptyDataReceived) {
  // Rule: proto.data.non-empty (broken on purpose)
  FaultRig f("empty-data-received");
  f.rig.raw->shutdown_write();
  ASSERT_TRUE(f.rig.run_until([&] { return f.protocol->lost_count == 1; }));
  EXPECT_EQ(f.protocol->chunk_sizes, (std::vector<std::size_t>{0}));
  EXPECT_EQ(f.protocol->events, (std::vector<std::string>{"made", "data", "eof", "lost"}));
}

TEST(Fault, PauseReadingRaisesTwice) {
  // Rule: read.pause.idempotent (broken on purpose)
  FaultRig f("pause-reading-raises-twice");
  f.transport->pause_reading();
  try {
    f.transport->pause_reading();
    FAIL() << "second pause_reading did not raise";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error().type, "RuntimeError");
  }
}

TEST(Fault, BufferSizeZero) {
  // Rule: write.buffer-size.reports-buffered (broken on purpose)
  FaultRig f("buffer-size-zero");
  f.rig.raw->stop_reading();
  std::string data = pattern(4 * 1024 * 1024);
  f.transport->write(data);
  EXPECT_LT(f.rig.raw->available(), data.size());       // some of it is queued...
  EXPECT_EQ(f.transport->get_write_buffer_size(), 0u);  // ...yet none is reported
  f.rig.raw->resume_reading();
  ASSERT_TRUE(f.rig.run_until([&] { return f.rig.raw->received.size() == data.size(); }));
}

TEST(Fault, LostErrorOnClose) {
  // Rule: proto.connection-lost.none-on-close (broken on purpose)
  FaultRig f("lost-error-on-close");
  f.transport->close();
  ASSERT_TRUE(f.rig.run_until([&] { return f.protocol->lost_count == 1; }));
  ASSERT_TRUE(f.protocol->lost_error.has_value());
  EXPECT_EQ(f.protocol->lost_error->type, "OSError");
}

// ---- the switch itself ----

TEST(FaultSwitch, NoFaultByDefault) {
  // Machinery: with no fault named the reference is the contract.
  EXPECT_EQ(kit::faults_from_name("", reference_backend_info()), kit::Faults{});
}

TEST(FaultSwitch, EveryCatalogueEntrySwitchesOnExactlyItsOwnFlag) {
  // Machinery: names are unique and each selects a different single deviation.
  std::set<std::string> names;
  std::vector<kit::Faults> seen;
  for (const auto& fault : kit::fault_catalogue()) {
    EXPECT_TRUE(names.insert(fault.name).second) << fault.name;
    kit::Faults faults = kit::faults_from_name(fault.name, reference_backend_info());
    EXPECT_NE(faults, kit::Faults{}) << fault.name;
    for (const auto& other : seen) EXPECT_NE(faults, other) << fault.name;
    seen.push_back(faults);
    EXPECT_FALSE(fault.description.empty()) << fault.name;
  }
  EXPECT_EQ(kit::fault_catalogue().size(), 50u);
}

TEST(FaultSwitch, EveryFaultBreaksAFixedRule) {
  // Machinery: the rule each fault targets is one of the ids fixed for the catalogue, or a rule of the
  // datagram, pipe, subprocess and TLS transports; each such rule is targeted by exactly the faults listed.
  const std::set<std::string> targets = {
      "flow.pause.strictly-over-high",
      "flow.pause.when-over-high",
      "flow.pairing.alternate",
      "flow.resume.when-at-or-below-low",
      "flow.resume.at-or-below-low",
      "proto.eof.at-most-once",
      "proto.data.not-after-eof",
      "transport.close.flushes-buffer",
      "write.abort.connection-lost",
      "read.pause.no-data-while-paused",
      "read.resume.delivers-pending",
      "proto.eof.false-closes",
      "proto.eof.true-half-open",
      "write.limits.validation",
      "write.limits.high-zero-forces-low-zero",
      "transport.closing.after-close",
      "proto.order.lost-once",
      "write.eof.flushes-then-shuts-down",
      "write.data.in-order",
      "write.writelines.equivalent",
      "proto.data.non-empty",
      "read.pause.idempotent",
      "write.buffer-size.reports-buffered",
      "proto.connection-lost.none-on-close",
      // Datagram endpoints.
      "datagram.received.whole-datagram",
      "datagram.error.reported",
      "datagram.abort.discards-buffer",
      "datagram.received.sender-address",
      "datagram.enobufs.reported-and-ignored",
      // Pipes.
      "proto.eof.on-peer-shutdown",
      "proto.connection-lost.error-on-failure",
      "write.abort.discards-buffer",
      // Subprocesses.
      "subprocess.exited.called",
      "subprocess.connection-lost.last",
      "subprocess.pipe-data.fd",
      "subprocess.terminate.sigterm",
      "subprocess.close.kills",
      // TLS.
      "proto.eof.true-closes-without-half-close",
      "proto.setup.no-lost-without-made",
      "transport.extra-info.ssl-cipher-triple",
      "write.eof.can-write-eof-consistent",
      "loop.tls.verifies-certificate",
      "loop.tls.encrypted-stream",
      "loop.tls.handshake-timeout",
      "loop.tls.alpn",
      "loop.tls.close-notify",
      "loop.tls.shutdown-timeout",
      "transport.extra-info.ssl-compression-name-or-none",
  };
  std::set<std::string> broken;
  for (const auto& fault : kit::fault_catalogue()) {
    EXPECT_EQ(targets.count(fault.breaks), 1u) << fault.name << " -> " << fault.breaks;
    broken.insert(fault.breaks);
  }
  EXPECT_EQ(broken, targets);
}

TEST(FaultSwitch, UnknownFaultNameIsRejectedWithTheKnownOnes) {
  // Machinery: bad input gets a clear error.
  try {
    kit::faults_from_name("pause-sometimes", reference_backend_info());
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("pause-sometimes"), std::string::npos);
    EXPECT_NE(message.find("pause-at-high"), std::string::npos);
    EXPECT_NE(message.find("lost-error-on-close"), std::string::npos);
  }
}

TEST(ReferenceBackend, RegistersWithItsCapabilitiesAndFaults) {
  // Machinery: the registry entry the loopspec command uses.
  BackendRegistry registry;
  register_reference_backend(registry);
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"reference"}));
  auto backend = registry.create("reference", {});
  const BackendInfo& info = backend->info();
  EXPECT_EQ(info.name, "reference");
  EXPECT_EQ(info.implementation, "loopspec reference epoll loop");
  EXPECT_FALSE(info.version.empty());
  EXPECT_EQ(info.capabilities,
            (std::set<std::string>{"tcp", "unix", "buffered", "udp", "pipes", "subprocess", "tls"}));
  EXPECT_EQ(info.faults.size(), kit::fault_catalogue().size());
  EXPECT_THROW(registry.create("reference", BackendOptions{"no-such-fault"}), std::invalid_argument);
}

TEST(ReferenceBackend, MakeLoopHonoursTheFault) {
  // Machinery: make_loop() gives a fresh loop with the chosen fault on.
  BackendRegistry registry;
  register_reference_backend(registry);
  auto backend = registry.create("reference", BackendOptions{"not-closing-after-close"});
  auto loop = backend->make_loop();
  auto* epoll = dynamic_cast<EpollLoop*>(loop.get());
  ASSERT_NE(epoll, nullptr);
  EXPECT_TRUE(epoll->faults().not_closing_after_close);
  auto other = backend->make_loop();
  EXPECT_NE(other.get(), loop.get());
  auto plain = registry.create("reference", {})->make_loop();
  EXPECT_EQ(dynamic_cast<EpollLoop&>(*plain).faults(), kit::Faults{});
}

}  // namespace
}  // namespace loopspec::reference
