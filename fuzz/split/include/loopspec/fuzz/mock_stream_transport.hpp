// An in-memory stream Transport for one protocol, stepped by its owner: no
// loop, no thread, no descriptor, so a fuzz target runs it thousands of times
// a second.
//
// Promises (asyncio's selector transport, as far as one connection shows it):
// - Each fed chunk is one read: a Protocol gets it in one data_received; a
//   BufferedProtocol gets it through as many get_buffer/buffer_updated pairs
//   as its buffers take, the size hints taken in turn from those given.
// - pump() reads only while reading is on and the transport is not closing;
//   the protocol may pause, resume, write or close from any callback.
// - End of file is delivered after every fed byte, while reading: eof_received
//   returning false closes the transport.
// - close() and abort() call connection_lost(None) later, in pump(), exactly
//   once, and then let go of the protocol; a callback that throws closes the transport with a RuntimeError
//   carrying the exception's text, as kit::call_protocol does.
// - Writes complete at once (the write buffer is always empty); written()
//   holds every byte written, in order. A protocol that breaks the contract
//   (an empty buffer, buffer_updated past the buffer) is aborted and
//   contract_breach() says how.
#pragma once

#include <array>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/protocols.hpp"
#include "loopspec/transports.hpp"

namespace loopspec::fuzz {

class MockStreamTransport final : public Transport, public std::enable_shared_from_this<MockStreamTransport> {
 public:
  explicit MockStreamTransport(std::array<std::int64_t, 3> size_hints = {-1, -1, -1}) : size_hints_(size_hints) {}

  // Calls protocol->connection_made with this transport.
  void connect(std::shared_ptr<StreamProtocol> protocol);
  void feed(std::string_view chunk) { reads_.emplace_back(chunk); }
  void feed_eof() { eof_fed_ = true; }
  // Delivers what can be delivered now, then the deferred callbacks.
  void pump();

  bool lost() const { return lost_; }
  const std::string& written() const { return written_; }
  // What the protocol did to the transport besides writing, in order: "write_eof", "close", "abort", "exception: ...".
  const std::vector<std::string>& actions() const { return actions_; }
  const std::string& contract_breach() const { return contract_breach_; }

  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override { return std::nullopt; }
  bool is_closing() override { return closing_; }
  void close() override;
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() override { return protocol_; }
  // ReadTransport
  bool is_reading() override { return reading_ && !closing_; }
  void pause_reading() override { reading_ = false; }
  void resume_reading() override { reading_ = true; }
  // WriteTransport
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) override;
  WriteBufferLimits get_write_buffer_limits() override { return limits_; }
  std::size_t get_write_buffer_size() override { return 0; }
  void write(std::string_view data) override;
  void writelines(std::span<const std::string_view> list_of_data) override;
  void write_eof() override;
  bool can_write_eof() override { return true; }
  void abort() override;

 private:
  bool read_once();
  void lose(MaybeError error);
  // Runs a protocol callback; an exception closes the transport with its error.
  // A template, not a std::function: the callback runs for every read.
  template <class Callback>
  void guarded(Callback&& callback) {
    try {
      callback();
    } catch (const std::exception& e) {
      fail(e);
    }
  }
  void fail(const std::exception& e);

  std::array<std::int64_t, 3> size_hints_;
  std::size_t next_hint_ = 0;
  std::shared_ptr<StreamProtocol> protocol_;
  // protocol_ as one of its two kinds, set with it: a dynamic_cast per read (whose type_info
  // comparisons libFuzzer's strcmp hook records) was 10% of the fuzz target's time.
  Protocol* plain_ = nullptr;
  BufferedProtocol* buffered_ = nullptr;
  void adopt(std::shared_ptr<StreamProtocol> protocol);
  bool unread() const { return next_read_ < reads_.size(); }
  void pop_read();

  // Fed chunks, reads_[next_read_] the next; a vector emptied once all are read rather than a deque:
  // the fuzz targets feed a chunk and read it at once, thousands of times a second.
  std::vector<std::string> reads_;
  std::size_t next_read_ = 0;
  std::size_t read_offset_ = 0;  // into reads_[next_read_], for a BufferedProtocol
  bool eof_fed_ = false;
  bool eof_delivered_ = false;
  bool reading_ = true;
  bool closing_ = false;
  bool eof_written_ = false;
  bool lost_ = false;
  std::optional<MaybeError> pending_loss_;
  WriteBufferLimits limits_{16 * 1024, 64 * 1024};
  std::string written_;
  std::vector<std::string> actions_;
  std::string contract_breach_;
};

}  // namespace loopspec::fuzz
