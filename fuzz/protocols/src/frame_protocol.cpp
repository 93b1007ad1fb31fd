#include "loopspec/fuzz/protocols/frame_protocol.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "loopspec/digest.hpp"

#include "logging_protocol.hpp"

namespace loopspec::fuzz::protocols {

namespace {

constexpr std::size_t kHeader = 4;

class FrameProtocol final : public LoggingProtocol<BufferedProtocol> {
 public:
  explicit FrameProtocol(std::shared_ptr<EventLog> log) : LoggingProtocol(std::move(log)), storage_(kHeader) {}

  std::span<char> get_buffer(std::int64_t sizehint) override {
    // The bytes of the current frame accumulate in storage_; a buffer never reaches past
    // the frame's end, so one frame's bytes are never read into another's place.
    std::size_t want = sizehint > 0 ? static_cast<std::size_t>(sizehint) : 2048;
    std::size_t room = needed() - filled_;
    return std::span<char>(storage_.data() + filled_, std::min(want, room));
  }

  void buffer_updated(std::size_t nbytes) override {
    if (failed_) return;
    filled_ += nbytes;
    if (filled_ == kHeader && length_ < 0) {
      std::uint32_t length = 0;
      for (std::size_t i = 0; i < kHeader; ++i) length = (length << 8) | static_cast<std::uint8_t>(storage_[i]);
      if (length > kMaxFrame) {
        failed_ = true;
        log_->push_back("error: frame of " + std::to_string(length) + " bytes");
        transport_->close();
        return;
      }
      length_ = static_cast<std::int64_t>(length);
      // Grown to the largest frame yet, not to kMaxFrame up front: most frames are small.
      if (storage_.size() < needed()) storage_.resize(needed());
    }
    if (length_ >= 0 && filled_ == needed()) {
      std::string_view body(storage_.data() + kHeader, static_cast<std::size_t>(length_));
      log_->push_back("frame " + std::to_string(length_) + " " + Digest::of(body));
      transport_->write("ack " + std::to_string(length_) + "\n");
      filled_ = 0;
      length_ = -1;
    }
  }

  bool eof_received() override {
    if (!failed_ && filled_ > 0) log_->push_back("truncated " + std::to_string(filled_));
    log_->push_back("eof");
    return false;
  }

 private:
  // Bytes the current read target needs: the header, then header and body.
  std::size_t needed() const { return length_ < 0 ? kHeader : kHeader + static_cast<std::size_t>(length_); }

  std::vector<char> storage_;
  std::size_t filled_ = 0;
  std::int64_t length_ = -1;
  bool failed_ = false;
};

}  // namespace

Subject frame_subject() { return subject_of<FrameProtocol>(); }

}  // namespace loopspec::fuzz::protocols
