// Building blocks shared by the stream scenarios.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "loopspec/conformance/context.hpp"
#include "loopspec/digest.hpp"

namespace loopspec::scenarios {

// n deterministic bytes that differ at every offset of a short period, so a
// reordering, loss or duplication changes the digest.
std::string pattern(std::size_t n, std::uint32_t seed = 1);

// Stops the peer reading, then writes until the transport has to buffer
// (get_write_buffer_size() > 0 even after the loop ran, or pause_writing arrived). Returns the bytes
// written; throws ScenarioAbort when 64 MiB did not make the transport buffer
// anything (a peer that does not read cannot absorb that much).
std::uint64_t fill_until_buffered(ScenarioContext& ctx, StreamConnection& conn, Digest& written);

// Writes chunks until get_write_buffer_size() reaches target. A peer that does
// not read cannot absorb 64 MiB more than that: if the size still has not
// reached target by then, the size is wrong, a broken
// write.buffer-size.reports-buffered (the scenario must declare it).
bool write_until_buffered(ScenarioContext& ctx, StreamConnection& conn, std::size_t target, Digest& written,
                          std::uint64_t& total);

// Writes data through the transport and adds it to the digest.
void write_tracked(StreamConnection& conn, const std::string& data, Digest& written, std::uint64_t& total);

// Lets the peer read again and waits until it has received `total` bytes.
// Returns false (after recording a failed check of `rule`) on timeout.
bool drain_to_peer(ScenarioContext& ctx, StreamConnection& conn, std::uint64_t total, std::string_view rule);

// The peer received exactly what was written, in order.
void check_peer_received(ScenarioContext& ctx, StreamConnection& conn, std::uint64_t total, const Digest& written,
                         std::string_view rule);

// Calls fn, returning the canonical error it threw (nullopt if none).
template <class F>
MaybeError capture_error(F&& fn) {
  try {
    fn();
  } catch (const ContractError& e) {
    return e.error();
  } catch (const std::exception& e) {
    return Error{"RuntimeError", 0, e.what()};
  }
  return std::nullopt;
}

// "connection_lost(None)" or "connection_lost(<its exception>)", for messages.
std::string lost_text(const MaybeError& exc);
// The same for the observations of any protocol kind (they record lost_error).
template <class Observations>
std::string lost_text(const Observations& seen) {
  return lost_text(seen.lost_error);
}

// The two checks a scenario ends with once its transport closed normally:
// connection_lost(None) (proto.connection-lost.none-on-close; `after` ends its
// message, e.g. " after close()") and exactly one connection_lost
// (proto.order.lost-exactly-once). The scenario must declare both rules.
template <class Observations>
void check_lost_once_with_none(ScenarioContext& ctx, const Observations& seen, std::string_view after) {
  ctx.check("proto.connection-lost.none-on-close", !seen.lost_error, lost_text(seen) + std::string(after));
  ctx.check("proto.order.lost-exactly-once", seen.lost == 1, "connection_lost called " + std::to_string(seen.lost) + " times");
}

// After the peer's end of stream: eof_received was called (proto.eof.on-peer-shutdown)
// and not more than once (proto.eof.at-most-once). Two rules, so that a loop
// that never calls it is not reported as calling it too often. The scenario
// must declare both rules.
template <class Observations>
void check_eof_once(ScenarioContext& ctx, const Observations& seen) {
  ctx.check("proto.eof.on-peer-shutdown", seen.eof >= 1, "eof_received was never called after the peer's end of stream");
  ctx.check("proto.eof.at-most-once", seen.eof <= 1, "eof_received called " + std::to_string(seen.eof) + " times");
}

// A protocol that implements data_received only: every other callback is
// BaseProtocol's or Protocol's default (proto.defaults.*).
class OnlyDataProtocol : public Protocol {
 public:
  explicit OnlyDataProtocol(std::string& received) : received_(received) {}
  void data_received(std::string_view data) override { received_.append(data); }

 private:
  std::string& received_;
};

}  // namespace loopspec::scenarios
