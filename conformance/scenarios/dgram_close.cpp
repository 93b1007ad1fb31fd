// Closing and aborting a datagram endpoint, with and without queued datagrams.
#include <algorithm>

#include <fmt/core.h>

#include "dgram_support.hpp"
#include "support.hpp"

namespace loopspec::scenarios {
namespace {

// Datagrams sent with sendto() to a peer that stopped reading, until the
// endpoint had to queue some: `accepted` went out at once, `queued` wait.
struct Backlog {
  std::vector<std::string> accepted;
  std::vector<std::string> queued;
};

// Unix datagram receivers hold a few datagrams only, so the kernel pushes
// back quickly; the bound guards against a backend that never queues.
Backlog build_backlog(ScenarioContext& ctx, DatagramEndpoint& endpoint, DatagramPeer& peer, std::size_t extra) {
  peer.stop_reading();
  peer.wait_synced(ctx, "the peer to stop reading");
  auto& t = endpoint.transport();
  Backlog backlog;
  for (std::uint32_t i = 0; backlog.queued.size() < extra; ++i) {
    if (i == 10000) throw ScenarioAbort("10000 datagrams to a peer that does not read and nothing was queued");
    std::string datagram = pattern(1000 + i % 7, 500 + i);
    bool queue_was_empty = t.get_write_buffer_size() == 0;
    t.sendto(datagram, peer.address());
    (queue_was_empty && t.get_write_buffer_size() == 0 ? backlog.accepted : backlog.queued).push_back(std::move(datagram));
  }
  return backlog;
}

std::vector<std::string> payloads(const std::vector<ReceivedDatagram>& received) {
  std::vector<std::string> out;
  for (const auto& r : received) out.push_back(r.data);
  return out;
}

LOOPSPEC_SCENARIO({
    .id = "dgram.close.flushes-queue",
    .title = "close() with datagrams queued behind a peer that does not read: sendto() never blocked, is_closing() "
             "at once, no connection_lost while datagrams are queued, every datagram reaches the peer whole and in "
             "order, then connection_lost(None) exactly once",
    .rules = {"datagram.sendto.nonblocking", "transport.close.flushes-buffer",
              "transport.close.connection-lost-after-flush", "transport.closing.after-close",
              "proto.connection-lost.none-on-close", "proto.order.lost-exactly-once"},
    .variants = datagram_variants::kQueueing,
    .body =
        [](ScenarioContext& ctx) {
          auto endpoint = open_unconnected_endpoint(ctx);
          auto& t = endpoint->transport();
          DatagramPeer peer(ctx, "peer");
          Backlog backlog = build_backlog(ctx, *endpoint, peer, 20);
          ctx.check("datagram.sendto.nonblocking", t.get_write_buffer_size() > 0,
                    fmt::format("{} datagrams queued behind a peer that does not read; get_write_buffer_size() {}",
                                backlog.queued.size(), t.get_write_buffer_size()));
          t.close();
          ctx.check("transport.closing.after-close", t.is_closing(), "is_closing() is false right after close()");
          ctx.run_pending();
          ctx.check("transport.close.connection-lost-after-flush", endpoint->seen.lost == 0,
                    fmt::format("connection_lost came while {} bytes were still queued", t.get_write_buffer_size()));
          peer.resume_reading();
          if (!ctx.expect_within("transport.close.connection-lost-after-flush", [&] { return endpoint->seen.lost > 0; },
                                 "connection_lost once the queue was sent")) {
            return;
          }
          peer.wait_synced(ctx, "the peer to read everything");
          std::vector<std::string> sent = backlog.accepted;
          sent.insert(sent.end(), backlog.queued.begin(), backlog.queued.end());
          auto received = payloads(peer.snapshot().received);
          ctx.check("transport.close.flushes-buffer", received == sent,
                    fmt::format("{} datagrams sent ({} queued at close()); the peer received {}{}", sent.size(),
                                backlog.queued.size(), received.size(), received == sent ? "" : ", not the same in order"));
          ctx.check("datagram.sendto.nonblocking", received == sent, "the queued datagrams were sent later, in order");
          ctx.run_pending();
          check_lost_once_with_none(ctx, endpoint->seen, " after close()");
        },
});

LOOPSPEC_SCENARIO({
    .id = "dgram.abort.discards-queue",
    .title = "abort() with datagrams queued behind a peer that does not read: is_closing() at once, "
             "connection_lost(None) follows, the queued datagrams are never sent",
    .rules = {"datagram.abort.discards-buffer", "datagram.abort.connection-lost", "transport.closing.after-close",
              "proto.connection-lost.none-on-close"},
    .variants = datagram_variants::kQueueing,
    .body =
        [](ScenarioContext& ctx) {
          auto endpoint = open_unconnected_endpoint(ctx);
          auto& t = endpoint->transport();
          DatagramPeer peer(ctx, "peer");
          Backlog backlog = build_backlog(ctx, *endpoint, peer, 20);
          t.abort();
          ctx.check("transport.closing.after-close", t.is_closing(), "is_closing() is false right after abort()");
          // The peer reads again at once: a transport that still sent its queue would now succeed.
          peer.resume_reading();
          if (!ctx.expect_within("datagram.abort.connection-lost", [&] { return endpoint->seen.lost > 0; },
                                 "connection_lost after abort()")) {
            return;
          }
          ctx.check("proto.connection-lost.none-on-close", !endpoint->seen.lost_error,
                    lost_text(endpoint->seen) + " after abort()");
          peer.wait_synced(ctx, "the peer to read everything");
          auto received = payloads(peer.snapshot().received);
          std::size_t from_queue = std::count_if(received.begin(), received.end(), [&](const std::string& r) {
            return std::find(backlog.queued.begin(), backlog.queued.end(), r) != backlog.queued.end();
          });
          ctx.check("datagram.abort.discards-buffer", from_queue == 0,
                    fmt::format("{} datagrams were queued at abort(); the peer received {} of them", backlog.queued.size(),
                                from_queue));
        },
});

// Datagrams already sent to the endpoint when it is closed (close) or aborted
// (abort) must never be delivered.
void no_datagrams_after(ScenarioContext& ctx, bool abort, std::string_view rule) {
  auto endpoint = open_unconnected_endpoint(ctx);
  auto& t = endpoint->transport();
  DatagramPeer peer(ctx, "peer");
  for (std::uint32_t i = 0; i < 5; ++i) peer.send(pattern(500, 600 + i), sockname_address(t));
  peer.wait_synced(ctx, "the peer to send");
  const std::size_t before = endpoint->seen.datagrams.size();
  abort ? t.abort() : t.close();
  ctx.check("transport.closing.after-close", t.is_closing(), "is_closing() is false right after close()/abort()");
  ctx.expect_within("proto.order.lost-exactly-once", [&] { return endpoint->seen.lost > 0; }, "connection_lost");
  ctx.run_pending();
  ctx.check(rule, endpoint->seen.datagrams.size() == before,
            fmt::format("{} datagram(s) were delivered after {}()", endpoint->seen.datagrams.size() - before,
                        abort ? "abort" : "close"));
  ctx.check("proto.order.lost-exactly-once", endpoint->seen.lost == 1,
            fmt::format("connection_lost called {} times", endpoint->seen.lost));
}

LOOPSPEC_SCENARIO({
    .id = "dgram.close.no-datagrams-after-close",
    .title = "datagrams already sent to the endpoint when close() is called are never delivered",
    .rules = {"transport.close.no-more-data", "transport.closing.after-close", "proto.order.lost-exactly-once"},
    .variants = datagram_variants::kAll,
    .body = [](ScenarioContext& ctx) { no_datagrams_after(ctx, false, "transport.close.no-more-data"); },
});

LOOPSPEC_SCENARIO({
    .id = "dgram.abort.no-datagrams-after-abort",
    .title = "datagrams already sent to the endpoint when abort() is called are never delivered",
    .rules = {"datagram.abort.no-more-data", "datagram.abort.connection-lost", "transport.closing.after-close",
              "proto.order.lost-exactly-once"},
    .variants = datagram_variants::kAll,
    .body = [](ScenarioContext& ctx) { no_datagrams_after(ctx, true, "datagram.abort.no-more-data"); },
});

LOOPSPEC_SCENARIO({
    .id = "dgram.flow.pause-resume",
    .title = "sendto() to a peer that does not read until pause_writing; the peer reads again: resume_writing once "
             "the queue drained, and every datagram arrives in order",
    .rules = {"flow.pause.when-over-high", "flow.resume.when-at-or-below-low", "flow.resume.at-or-below-low",
              "flow.pairing.alternate", "datagram.flow.bsd-unsupported", "datagram.sendto.nonblocking"},
    .variants = datagram_variants::kQueueing,
    .body =
        [](ScenarioContext& ctx) {
          auto endpoint = open_unconnected_endpoint(ctx);
          auto& t = endpoint->transport();
          std::size_t size_at_pause = 0;
          std::size_t size_at_resume = 0;
          endpoint->hooks.on_pause = [&] { size_at_pause = t.get_write_buffer_size(); };
          endpoint->hooks.on_resume = [&] { size_at_resume = t.get_write_buffer_size(); };
          DatagramPeer peer(ctx, "peer");
          peer.stop_reading();
          peer.wait_synced(ctx, "the peer to stop reading");
          // Any watermark a loop picks is far below 64 MiB of queued datagrams.
          constexpr std::size_t kBound = 64u << 20;
          std::vector<std::string> sent;
          while (!endpoint->seen.writing_paused() && t.get_write_buffer_size() < kBound) {
            sent.push_back(pattern(4096, 700 + static_cast<std::uint32_t>(sent.size() % 1000)));
            t.sendto(sent.back(), peer.address());
          }
          bool paused = endpoint->seen.writing_paused();
          ctx.check("flow.pause.when-over-high", paused,
                    fmt::format("{} bytes queued behind a peer that does not read and no pause_writing", t.get_write_buffer_size()));
          ctx.check("datagram.flow.bsd-unsupported", true,
                    paused ? fmt::format("flow control works on this platform: pause_writing at {} queued bytes", size_at_pause)
                           : std::string("no pause_writing on this platform"));
          if (!paused) return;
          peer.resume_reading();
          if (!ctx.expect_within("flow.resume.when-at-or-below-low", [&] { return endpoint->seen.resumes > 0; },
                                 "resume_writing once the peer reads")) {
            return;
          }
          ctx.check("flow.resume.at-or-below-low", size_at_resume < size_at_pause,
                    fmt::format("resume_writing at {} queued bytes, pause_writing was at {}", size_at_resume, size_at_pause));
          ctx.expect_within("datagram.sendto.nonblocking", [&] { return t.get_write_buffer_size() == 0; },
                            "the queue to drain");
          peer.wait_synced(ctx, "the peer to read everything");
          auto received = payloads(peer.snapshot().received);
          ctx.check("datagram.sendto.nonblocking", received == sent,
                    fmt::format("{} datagrams sent, the peer received {}{}", sent.size(), received.size(),
                                received == sent ? "" : ", not the same in order"));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
