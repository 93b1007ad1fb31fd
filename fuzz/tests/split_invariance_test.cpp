// The split-invariance library finds what it promises to find, and passes what is right.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "loopspec/fuzz/protocols/frame_protocol.hpp"
#include "loopspec/fuzz/protocols/http_request_protocol.hpp"
#include "loopspec/fuzz/protocols/line_protocol.hpp"
#include "loopspec/fuzz/split_invariance.hpp"
#include "loopspec/fuzz/split_plan.hpp"

namespace loopspec::fuzz {
namespace {

std::vector<std::uint8_t> input(std::string_view payload, std::uint16_t max_chunk = 3, bool eof = true,
                                std::uint16_t pause_at = SplitPlan::kNever) {
  std::vector<std::uint8_t> bytes(SplitPlan::kHeaderSize, 0);
  bytes[0] = 7;
  bytes[4] = max_chunk & 0xff;
  bytes[5] = max_chunk >> 8;
  for (int i = 6; i < 12; ++i) bytes[i] = 0xff;  // no size hints
  bytes[12] = pause_at & 0xff;
  bytes[13] = pause_at >> 8;
  bytes[14] = 1;
  bytes[15] = eof ? 1 : 0;
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

// Logs every read as it came: the classic parser bug of treating a read as a message.
class ChunkLogger final : public Protocol {
 public:
  explicit ChunkLogger(std::shared_ptr<EventLog> log) : log_(std::move(log)) {}
  void data_received(std::string_view data) override { log_->push_back(std::string(data)); }

 private:
  std::shared_ptr<EventLog> log_;
};

class EmptyBuffer final : public BufferedProtocol {
 public:
  std::span<char> get_buffer(std::int64_t) override { return {}; }
  void buffer_updated(std::size_t) override {}
};

template <class P>
Subject subject_of() {
  auto log = std::make_shared<EventLog>();
  return Subject{std::make_shared<P>(log), log};
}

TEST(SplitInvariance, FindsAProtocolThatTreatsEachReadAsAMessage) {
  auto finding = check_split_invariance(input("hello world"), subject_of<ChunkLogger>);
  ASSERT_TRUE(finding.has_value());
  EXPECT_NE(finding->find("the event log differs at entry 0"), std::string::npos) << *finding;
}

// Logs the size of every read that starts at or after byte `from`.
class LateReadLogger final : public Protocol {
 public:
  LateReadLogger(std::shared_ptr<EventLog> log, std::size_t from) : log_(std::move(log)), from_(from) {}
  void data_received(std::string_view data) override {
    if (seen_ >= from_) log_->push_back(std::to_string(data.size()));
    seen_ += data.size();
  }

 private:
  std::shared_ptr<EventLog> log_;
  std::size_t from_;
  std::size_t seen_ = 0;
};

TEST(SplitInvariance, CutsTheFirstBytesOneByOneAndTheFuzzerChoosesBeyond) {
  auto from = [](std::size_t offset) {
    return [offset] {
      auto log = std::make_shared<EventLog>();
      return Subject{std::make_shared<LateReadLogger>(log, offset), log};
    };
  };
  std::string payload(kByteByByteLimit + 40, 'x');
  // Reads starting inside the first kByteByByteLimit bytes are single bytes.
  auto early = check_split_invariance(input(payload, 0xffff), from(kByteByByteLimit - 1));
  ASSERT_TRUE(early.has_value());
  EXPECT_NE(early->find("byte by byte gave \"1\""), std::string::npos) << *early;
  // Beyond them the byte-by-byte delivery reads the rest at once...
  EXPECT_EQ(check_split_invariance(input(payload, 0xffff), from(kByteByByteLimit + 1)), std::nullopt);
  // ...and a largest chunk of 1 makes the fuzzer-chosen delivery byte by byte to the end.
  auto late = check_split_invariance(input(payload, 1), from(kByteByByteLimit + 1));
  ASSERT_TRUE(late.has_value());
  EXPECT_NE(late->find("fuzzed splits gave \"1\""), std::string::npos) << *late;
}

TEST(SplitInvariance, PassesTheLineProtocolWhateverTheSplits) {
  for (std::uint16_t max_chunk : {1, 2, 5, 100}) {
    EXPECT_EQ(check_split_invariance(input("a\nbb\r\nccc\npartial", max_chunk, true, 3), protocols::line_subject),
              std::nullopt);
  }
}

TEST(SplitInvariance, PassesAPipelinedChunkedHttpRequest) {
  std::string requests =
      "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\n\r\n"
      "GET /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nok";
  EXPECT_EQ(check_split_invariance(input(requests, 4), protocols::http_request_subject), std::nullopt);
}

TEST(SplitInvariance, ReportsAnEmptyBufferAsAContractBreach) {
  auto finding = check_split_invariance(input("x"), [] {
    return Subject{std::make_shared<EmptyBuffer>(), std::make_shared<EventLog>()};
  });
  ASSERT_TRUE(finding.has_value());
  EXPECT_NE(finding->find("contract breach: get_buffer(-1) returned an empty buffer"), std::string::npos) << *finding;
}

TEST(SplitInvariance, PassesFramesReadIntoSmallBuffers) {
  std::string frames("\0\0\0\3abc\0\0\0\0\0\0\0\1z", 16);
  EXPECT_EQ(check_split_invariance(input(frames, 2), protocols::frame_subject), std::nullopt);
}

TEST(SplitPlan, AShortInputIsAZeroHeaderWithoutPayload) {
  std::uint8_t bytes[5] = {1, 2, 3, 4, 5};
  SplitPlan plan = SplitPlan::parse(bytes);
  EXPECT_TRUE(plan.payload.empty());
  EXPECT_EQ(plan.max_chunk, 1u);
  EXPECT_FALSE(plan.eof);
}

TEST(SplitPlan, FuzzedChunksCoverThePayloadWithinTheMaximum) {
  auto bytes = input(std::string(1000, 'x'), 37);
  SplitPlan plan = SplitPlan::parse(bytes);
  auto chunks = plan.fuzzed_chunks();
  EXPECT_EQ(std::accumulate(chunks.begin(), chunks.end(), std::size_t{0}), 1000u);
  for (std::size_t size : chunks) {
    EXPECT_GE(size, 1u);
    EXPECT_LE(size, 37u);
  }
  EXPECT_EQ(chunks, SplitPlan::parse(bytes).fuzzed_chunks());
}

}  // namespace
}  // namespace loopspec::fuzz
