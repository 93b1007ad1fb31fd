// The bytes a transport has accepted but the kernel has not taken yet.
//
// Promises:
// - Bytes leave in the order they were appended; size() is the number of
//   bytes not yet consumed.
// - Each appended byte is copied exactly once (into the queue); gather()
//   points iovecs at the queued bytes without copying them.
// - Small appends are packed into spare capacity of the last chunk, so a
//   stream of tiny writes does not become a stream of tiny iovecs.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

struct iovec;

namespace loopspec::kit {

class WriteQueue {
 public:
  void append(std::string_view data);
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Points up to `max` iovecs at the unsent bytes, oldest first; returns how many.
  std::size_t gather(iovec* iov, std::size_t max) const;
  // Drops the first n bytes (n <= size()).
  void consume(std::size_t n);
  void clear();
  // Queues data ahead of every chunk not yet partly sent, so it leaves first
  // (test faults only: it breaks the order promise on purpose).
  void prepend_unsent(std::string_view data);

 private:
  std::deque<std::string> chunks_;
  std::size_t head_offset_ = 0;  // bytes of chunks_.front() already sent
  std::size_t size_ = 0;
};

}  // namespace loopspec::kit
