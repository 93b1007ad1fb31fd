// The echo server on the reference loop, as a loop user would write it.
//
// Usage: reference_echo PORT [echo|sink] [protocol|buffered] [record|record-sizes]
// - protocol: a Protocol whose data_received writes the data back;
// - buffered: a BufferedProtocol that lends the loop one 256 KiB buffer
//   shared by every connection (the size of the loop's own receive buffer,
//   so both variants read as much per recv) and writes back what
//   buffer_updated reports; sharing is safe because write() copies whatever
//   it cannot send at once, and it keeps an idle connection small;
// - record: every protocol is wrapped by loopspec::Recorder feeding a sink
//   that only counts events, so the figure is the recorder's own cost (what a
//   scenario run pays per callback before its checker sees anything);
// - record-sizes: the same with RecorderOptions::digests off, so the events
//   carry sizes but no digest: the event machinery without the extra pass
//   over every byte.
// Prints "ready" once listening; runs until killed.
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "loopspec/recorder.hpp"
#include "loopspec/reference/epoll_loop.hpp"

namespace {

using loopspec::BaseTransport;
using loopspec::Transport;

constexpr std::size_t kBufferSize = 256 * 1024;

class EchoProtocol final : public loopspec::Protocol {
 public:
  explicit EchoProtocol(bool sink) : sink_(sink) {}
  void connection_made(std::shared_ptr<BaseTransport> transport) override {
    transport_ = std::dynamic_pointer_cast<Transport>(transport);
  }
  void data_received(std::string_view data) override {
    if (!sink_) transport_->write(data);
  }
  void connection_lost(const loopspec::MaybeError&) override { transport_.reset(); }

 private:
  bool sink_;
  std::shared_ptr<Transport> transport_;
};

class BufferedEchoProtocol final : public loopspec::BufferedProtocol {
 public:
  BufferedEchoProtocol(bool sink, std::span<char> buffer) : sink_(sink), buffer_(buffer) {}
  void connection_made(std::shared_ptr<BaseTransport> transport) override {
    transport_ = std::dynamic_pointer_cast<Transport>(transport);
  }
  std::span<char> get_buffer(std::int64_t) override { return buffer_; }
  void buffer_updated(std::size_t nbytes) override {
    if (!sink_) transport_->write({buffer_.data(), nbytes});
  }
  void connection_lost(const loopspec::MaybeError&) override { transport_.reset(); }

 private:
  bool sink_;
  std::span<char> buffer_;
  std::shared_ptr<Transport> transport_;
};

// Counts what the recorder produces and keeps nothing.
class CountingSink final : public loopspec::TraceSink {
 public:
  void on_event(const loopspec::Event&) override { ++events_; }

 private:
  std::uint64_t events_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [echo|sink] [protocol|buffered] [record|record-sizes]\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  const bool sink = argc > 2 && std::strcmp(argv[2], "sink") == 0;
  const bool buffered = argc > 3 && std::strcmp(argv[3], "buffered") == 0;
  const bool sizes_only = argc > 4 && std::strcmp(argv[4], "record-sizes") == 0;
  const bool record = sizes_only || (argc > 4 && std::strcmp(argv[4], "record") == 0);

  loopspec::reference::EpollLoop loop;
  CountingSink counter;
  loopspec::Recorder recorder(counter, loopspec::RecorderOptions{.digests = !sizes_only});
  std::vector<char> shared_buffer(kBufferSize);
  auto factory = [&]() -> std::shared_ptr<loopspec::StreamProtocol> {
    std::shared_ptr<loopspec::StreamProtocol> protocol;
    if (buffered)
      protocol = std::make_shared<BufferedEchoProtocol>(sink, shared_buffer);
    else
      protocol = std::make_shared<EchoProtocol>(sink);
    return record ? recorder.record_stream(std::move(protocol)) : protocol;
  };
  loopspec::ServerOptions options;
  options.backlog = 4096;
  std::shared_ptr<loopspec::Server> server;
  loop.create_server(factory, loopspec::InetAddress{"127.0.0.1", port}, options,
                     [&](loopspec::Outcome<loopspec::Server> outcome) {
                       if (!outcome.ok()) {
                         std::fprintf(stderr, "create_server: %s\n", outcome.error->message.c_str());
                         std::exit(1);
                       }
                       server = outcome.value;
                       std::printf("ready\n");
                       std::fflush(stdout);
                     });
  loop.run_forever();
}
