// Machinery: the write queue keeps bytes in order, gathers without copying
// and packs small appends.
#include "loopspec/kit/write_queue.hpp"

#include <sys/uio.h>

#include <string>

#include <gtest/gtest.h>

namespace loopspec::kit {
namespace {

std::string gathered(const WriteQueue& queue, std::size_t max = 64) {
  iovec iov[64];
  std::size_t count = queue.gather(iov, max);
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  return out;
}

TEST(WriteQueue, KeepsOrderAcrossPartialConsumes) {
  // Machinery: order and size bookkeeping.
  WriteQueue queue;
  std::string big(10000, 'x');
  queue.append("abc");
  queue.append(big);
  queue.append("def");
  EXPECT_EQ(queue.size(), 10006u);
  EXPECT_EQ(gathered(queue), "abc" + big + "def");
  queue.consume(2);
  EXPECT_EQ(gathered(queue), "c" + big + "def");
  queue.consume(10001);
  EXPECT_EQ(gathered(queue), "def");
  queue.consume(3);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(gathered(queue), "");
}

TEST(WriteQueue, PacksSmallAppendsIntoFewIovecs) {
  // Machinery: a thousand tiny writes do not become a thousand iovecs.
  WriteQueue queue;
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string piece = std::to_string(i) + ",";
    queue.append(piece);
    expected += piece;
  }
  iovec iov[64];
  EXPECT_LE(queue.gather(iov, 64), 2u);
  EXPECT_EQ(gathered(queue), expected);
}

TEST(WriteQueue, GatherStopsAtTheIovecLimit) {
  // Machinery: gather never writes past the array it is given.
  WriteQueue queue;
  for (int i = 0; i < 10; ++i) queue.append(std::string(5000, static_cast<char>('a' + i)));
  EXPECT_EQ(gathered(queue, 3), std::string(5000, 'a') + std::string(5000, 'b') + std::string(5000, 'c'));
}

TEST(WriteQueue, PrependGoesAheadOfUnsentChunksOnly) {
  // Machinery: the writev-reorder fault's primitive never splits a partly sent chunk.
  WriteQueue queue;
  queue.append(std::string(5000, 'a'));
  queue.consume(1000);
  queue.prepend_unsent("zz");
  EXPECT_EQ(gathered(queue), std::string(4000, 'a') + "zz");
  queue.clear();
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace loopspec::kit
