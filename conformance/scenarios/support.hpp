// Building blocks shared by the stream scenarios.
#pragma once

#include <cstdint>
#include <string>

#include "loopspec/conformance/context.hpp"
#include "loopspec/digest.hpp"

namespace loopspec::scenarios {

// n deterministic bytes that differ at every offset of a short period, so a
// reordering, loss or duplication changes the digest.
std::string pattern(std::size_t n, std::uint32_t seed = 1);

// Stops the peer reading, then writes until the transport has to buffer
// (get_write_buffer_size() > 0, or pause_writing arrived). Returns the bytes
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

}  // namespace loopspec::scenarios
