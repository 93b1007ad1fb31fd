#include "support.hpp"

#include <fmt/core.h>

namespace loopspec::scenarios {

std::string pattern(std::size_t n, std::uint32_t seed) {
  std::string out(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x);
  }
  return out;
}

std::string lost_text(const MaybeError& exc) {
  return "connection_lost(" + (exc ? exc->to_string() : std::string("None")) + ")";
}

void write_tracked(StreamConnection& conn, const std::string& data, Digest& written, std::uint64_t& total) {
  conn.transport()->write(data);
  written.update(data);
  total += data.size();
}

std::uint64_t fill_until_buffered(ScenarioContext& ctx, StreamConnection& conn, Digest& written) {
  conn.peer_stop_reading();
  ctx.wait([&] { return !conn.peer().snapshot().reading; }, "the peer to stop reading");
  auto& t = *conn.transport();
  const std::string chunk = pattern(64 * 1024, 7);
  std::uint64_t total = 0;
  constexpr std::uint64_t kLimit = 64ull << 20;
  // A loop may hold writes until the end of its iteration although the kernel would take them (uvloop
  // does): only bytes still buffered once the loop has run mean a full kernel buffer.
  do {
    while (t.get_write_buffer_size() == 0 && !conn.seen.writing_paused()) {
      if (total >= kLimit) {
        throw ScenarioAbort(fmt::format("wrote {} bytes to a peer that does not read and get_write_buffer_size() stayed 0",
                                        total));
      }
      write_tracked(conn, chunk, written, total);
    }
    if (!conn.seen.writing_paused()) ctx.run_pending();
  } while (t.get_write_buffer_size() == 0 && !conn.seen.writing_paused());
  return total;
}

bool write_until_buffered(ScenarioContext& ctx, StreamConnection& conn, std::size_t target, Digest& written,
                          std::uint64_t& total) {
  auto& t = *conn.transport();
  const std::string chunk = pattern(256 * 1024, 21);
  const std::uint64_t limit = total + target + (64ull << 20);
  while (t.get_write_buffer_size() < target) {
    if (total >= limit) {
      ctx.check("write.buffer-size.reports-buffered", false,
                fmt::format("{} bytes written to a peer that does not read, yet get_write_buffer_size() is {}", total,
                            t.get_write_buffer_size()));
      return false;
    }
    write_tracked(conn, chunk, written, total);
  }
  return true;
}

bool drain_to_peer(ScenarioContext& ctx, StreamConnection& conn, std::uint64_t total, std::string_view rule) {
  conn.peer_resume_reading();
  return ctx.expect_within(rule, [&] { return conn.peer().snapshot().bytes_received >= total; },
                           fmt::format("the peer to receive {} bytes", total));
}

void check_peer_received(ScenarioContext& ctx, StreamConnection& conn, std::uint64_t total, const Digest& written,
                         std::string_view rule) {
  auto seen = conn.peer().snapshot();
  ctx.check(rule, seen.bytes_received == total && seen.received_digest == written.hex(),
            fmt::format("peer received {} bytes (digest {}), {} were written (digest {})", seen.bytes_received,
                        seen.received_digest, total, written.hex()));
}

}  // namespace loopspec::scenarios
