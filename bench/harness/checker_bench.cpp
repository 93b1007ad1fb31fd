// checker_bench: the streaming checker's throughput on a synthetic trace.
//
//   checker_bench [--events N] [--jsonl-events M]   (defaults 10,000,000 and 1,000,000)
//
// The trace is what an echo server's recording looks like: connections in
// turns of 1,000 alive at once, each connection_made, then rounds of
// data_received + write (Protocol) or get_buffer + its return +
// buffer_updated + write (BufferedProtocol, every other connection), and at
// the end eof_received, its return and connection_lost; every event carries
// the transport state, as the recorder writes it. Events are made on the fly
// from per-kind templates (only seq and conn change), so generating costs a
// few stores per event and no memory grows with N. It also feeds the first
// M events through the JSON Lines writer and reader into a second checker
// (the rate of checking a trace read from disk), and times loopspec::Digest,
// which the recorder runs over every byte a protocol receives or writes.
// Prints one JSON object: events, seconds, events_per_s, violations, the
// same for the read path ("from_jsonl"), and "digest_gb_per_s".
#include <chrono>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "loopspec/checker.hpp"
#include "loopspec/digest.hpp"
#include "loopspec/trace.hpp"

namespace {

using loopspec::Event;
using loopspec::EventKind;

Event make(EventKind kind, const char* name, std::int64_t size) {
  Event e;
  e.kind = kind;
  e.name = name;
  e.size = size;
  e.state = loopspec::TransportState{0, 16384, 65536, false, true};
  return e;
}

// One connection's life as templates, in order; `round` repeats.
struct Life {
  std::vector<Event> opening, round, closing;
};

Life protocol_life(bool buffered) {
  Life life;
  Event made = make(EventKind::Callback, "connection_made", 0);
  made.size.reset();
  made.protocol = buffered ? "BufferedProtocol" : "Protocol";
  made.transport = "tcp";
  life.opening.push_back(made);
  if (buffered) {
    life.round.push_back(make(EventKind::Callback, "get_buffer", -1));
    life.round.push_back(make(EventKind::Return, "get_buffer", 262144));
    life.round.push_back(make(EventKind::Callback, "buffer_updated", 1024));
  } else {
    life.round.push_back(make(EventKind::Callback, "data_received", 1024));
  }
  life.round.push_back(make(EventKind::Call, "write", 1024));
  life.closing.push_back(make(EventKind::Callback, "eof_received", 0));
  life.closing.back().size.reset();
  Event ret = make(EventKind::Return, "eof_received", 0);
  ret.size.reset();
  ret.value = false;
  life.closing.push_back(ret);
  Event lost = make(EventKind::Callback, "connection_lost", 0);
  lost.size.reset();
  lost.state->closing = true;
  life.closing.push_back(lost);
  return life;
}

// Calls sink(event) for `total` events: waves of 1,000 connections, each
// living 40 rounds, interleaved round by round.
template <class Sink>
std::uint64_t generate(std::uint64_t total, Sink&& sink) {
  Life lives[2] = {protocol_life(false), protocol_life(true)};
  constexpr std::uint32_t kAlive = 1000;
  constexpr int kRounds = 40;
  std::uint64_t seq = 0;
  std::uint32_t first_conn = 1;
  auto emit = [&](Event& e, std::uint32_t conn) {
    e.seq = seq++;
    e.conn = conn;
    sink(e);
  };
  while (seq < total) {
    for (std::uint32_t c = 0; c < kAlive; ++c)
      for (Event& e : lives[c % 2].opening) emit(e, first_conn + c);
    for (int r = 0; r < kRounds; ++r)
      for (std::uint32_t c = 0; c < kAlive; ++c)
        for (Event& e : lives[c % 2].round) emit(e, first_conn + c);
    for (std::uint32_t c = 0; c < kAlive; ++c)
      for (Event& e : lives[c % 2].closing) emit(e, first_conn + c);
    first_conn += kAlive;
  }
  return seq;
}

nlohmann::json rate(std::uint64_t events, double seconds, const loopspec::Checker& checker) {
  return {{"events", events},
          {"seconds", seconds},
          {"events_per_s", static_cast<double>(events) / seconds},
          {"violations", checker.violations().size()}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"checker_bench: the streaming checker's events/s"};
  std::uint64_t total = 10'000'000;
  std::uint64_t jsonl_events = 1'000'000;
  app.add_option("--events", total);
  app.add_option("--jsonl-events", jsonl_events);
  CLI11_PARSE(app, argc, argv);
  using Clock = std::chrono::steady_clock;

  loopspec::Checker checker;
  auto t0 = Clock::now();
  const std::uint64_t events = generate(total, [&](const Event& e) { checker.on_event(e); });
  checker.on_end(true);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  nlohmann::json result = rate(events, seconds, checker);
  for (std::size_t i = 0; i < checker.violations().size() && i < 3; ++i)
    result["first_violations"].push_back(checker.violations()[i].message());

  // The read path: JSON Lines in memory, parsed and checked.
  std::stringstream jsonl;
  loopspec::TraceWriter writer(jsonl);
  writer.on_header({loopspec::kTraceFormatVersion, "bench", "synthetic", "3.8"});
  const std::uint64_t written = generate(std::min(total, jsonl_events), [&](const Event& e) { writer.on_event(e); });
  writer.on_end(true);
  loopspec::Checker reread;
  t0 = Clock::now();
  loopspec::read_trace(jsonl, reread, "synthetic");
  result["from_jsonl"] = rate(written, std::chrono::duration<double>(Clock::now() - t0).count(), reread);

  // The digest over 1 GB in 100 KiB pieces, as the recorder meets them.
  const std::string piece(100 * 1024, 'd');
  const int pieces = 10'000;
  std::size_t sink = 0;
  t0 = Clock::now();
  for (int i = 0; i < pieces; ++i) sink += loopspec::Digest::of(piece)[static_cast<std::size_t>(i) % 16];
  const double digest_s = std::chrono::duration<double>(Clock::now() - t0).count();
  result["digest_gb_per_s"] = static_cast<double>(piece.size()) * pieces / digest_s / 1e9;
  result["digest_checksum"] = sink;  // keeps the loop from being optimised away
  std::cout << result.dump() << '\n';
}
