// Split invariance: a protocol's output must not depend on how its input
// bytes were chunked. Reusable for any Protocol or BufferedProtocol
// (fuzz/README.md shows how to point it at yours).
//
// check_split_invariance(input, make) parses input as a SplitPlan (header,
// then payload) and delivers the payload through a MockStreamTransport to
// three fresh protocols from `make`: once whole, once byte by byte (the
// first kByteByByteLimit bytes one at a time, the rest in one read), once in
// the plan's fuzzer-chosen chunks, each with the plan's get_buffer hints,
// pause/resume point and end of file (or, without it, the application's
// close() after the payload).
// Promises: it returns the first difference between the deliveries (the
// protocol's event log, the bytes it wrote, what it did to the transport),
// a contract breach by the protocol, or a checker violation in the recorded
// trace of the whole and the fuzzer-chosen deliveries; nullopt when none. The
// byte-by-byte delivery is not recorded, to keep a fuzz run fast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "loopspec/protocols.hpp"

namespace loopspec::fuzz {

// What a protocol made of its input, one entry per observable step ("line:
// GET /", "frame 12 bytes", "error: ..."), appended as it goes.
using EventLog = std::vector<std::string>;

struct Subject {
  std::shared_ptr<StreamProtocol> protocol;  // a Protocol or a BufferedProtocol
  std::shared_ptr<const EventLog> log;
};
using SubjectFactory = std::function<Subject()>;

// How much of the payload the byte-by-byte delivery cuts into single bytes:
// as long as the example protocols' longest line (kMaxLine, kMaxChunkLine),
// so it cuts every one of a line's bytes up to where it is refused. Beyond
// it each byte would cost a read, a step and a log compare for little news;
// a largest chunk of 1 in the plan makes the fuzzer-chosen delivery byte by
// byte over the whole payload.
inline constexpr std::size_t kByteByByteLimit = 256;

std::optional<std::string> check_split_invariance(std::span<const std::uint8_t> input, const SubjectFactory& make);

// For LLVMFuzzerTestOneInput: a finding is printed to stderr and aborts the process.
void fuzz_split_invariance(const std::uint8_t* data, std::size_t size, const SubjectFactory& make);

}  // namespace loopspec::fuzz
