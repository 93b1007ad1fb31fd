#include "loopspec/kit/write_queue.hpp"

#include <sys/uio.h>

namespace loopspec::kit {

namespace {
// Appends below this size start a chunk with room for more small appends.
constexpr std::size_t kSmallAppend = 4 * 1024;
constexpr std::size_t kPackedChunkCapacity = 16 * 1024;
}  // namespace

void WriteQueue::append(std::string_view data) {
  if (data.empty()) return;
  if (!chunks_.empty()) {
    std::string& last = chunks_.back();
    if (last.capacity() - last.size() >= data.size()) {
      last.append(data);  // fits: no reallocation, offsets stay valid
      size_ += data.size();
      return;
    }
  }
  std::string& chunk = chunks_.emplace_back();
  if (data.size() < kSmallAppend) chunk.reserve(kPackedChunkCapacity);
  chunk.assign(data);
  size_ += data.size();
}

std::size_t WriteQueue::gather(iovec* iov, std::size_t max) const {
  std::size_t count = 0;
  for (std::size_t i = 0; i < chunks_.size() && count < max; ++i) {
    const std::string& chunk = chunks_[i];
    std::size_t skip = i == 0 ? head_offset_ : 0;
    iov[count].iov_base = const_cast<char*>(chunk.data() + skip);
    iov[count].iov_len = chunk.size() - skip;
    ++count;
  }
  return count;
}

void WriteQueue::consume(std::size_t n) {
  n = std::min(n, size_);
  size_ -= n;
  while (n > 0) {
    std::size_t left_in_head = chunks_.front().size() - head_offset_;
    if (n < left_in_head) {
      head_offset_ += n;
      return;
    }
    n -= left_in_head;
    chunks_.pop_front();
    head_offset_ = 0;
  }
}

void WriteQueue::clear() {
  chunks_.clear();
  head_offset_ = 0;
  size_ = 0;
}

void WriteQueue::prepend_unsent(std::string_view data) {
  if (data.empty()) return;
  chunks_.emplace(chunks_.begin() + (head_offset_ > 0 ? 1 : 0), data);
  size_ += data.size();
}

}  // namespace loopspec::kit
