// The driver protocol's framing and field validation, without a driver.
// Tests harness machinery (spec/driver-protocol.md), no contract rule.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "loopspec/remote/channel.hpp"
#include "loopspec/remote/wire.hpp"

namespace loopspec::remote {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string failure_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const DriverFailure& e) {
    return e.what();
  }
  return "no DriverFailure";
}

TEST(Base64, RoundTripsEveryLengthAndByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    std::string data = all.substr(0, n);
    auto decoded = decode_base64(encode_base64(data));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, data);
  }
  EXPECT_EQ(encode_base64("hi"), "aGk=");
  EXPECT_EQ(decode_base64("aGk="), std::optional<std::string>("hi"));
}

TEST(Base64, RejectsBadInput) {
  EXPECT_FALSE(decode_base64("abc").has_value());      // length
  EXPECT_FALSE(decode_base64("ab!d").has_value());     // alphabet
  EXPECT_FALSE(decode_base64("a===").has_value());     // too much padding
  EXPECT_FALSE(decode_base64("ab=c").has_value());     // data after padding
  EXPECT_FALSE(decode_base64("ab==abcd").has_value()); // padding before the end
}

TEST(ParseMessage, NamesWhatIsWrong) {
  EXPECT_THAT(failure_of([] { parse_message("not json"); }), HasSubstr("not JSON"));
  EXPECT_THAT(failure_of([] { parse_message("[1,2]"); }), HasSubstr("not a JSON object"));
  // Found by parsers_fuzzer: it escaped as nlohmann's out_of_range and ended the harness.
  EXPECT_THAT(failure_of([] { parse_message(R"({"reply": 1E9505811454})"); }), HasSubstr("number out of range"));
  EXPECT_THAT(failure_of([] { parse_message(std::string(100, '[') + std::string(100, ']')); }), HasSubstr("nests deeper"));
  EXPECT_EQ(parse_message(R"({"a":"[[[[["})")["a"], "[[[[[");  // brackets inside strings do not count
}

TEST(MessageView, FieldErrorsNameMessageAndField) {
  json m = json::parse(R"({"proto":"x","n":-1,"e":{"type":"ValueError","errno":0,"message":"m","extra":1},
                           "b":"!!!!","s":{"staged":5}})");
  std::string staged = "abc";
  MessageView v(m, "event 'data_received'", &staged);
  EXPECT_THAT(failure_of([&] { v.id("proto"); }),
              HasSubstr("event 'data_received': field 'proto': expected a positive integer"));
  EXPECT_THAT(failure_of([&] { v.id("n"); }), HasSubstr("field 'n'"));
  EXPECT_THAT(failure_of([&] { v.id("missing"); }), HasSubstr("field 'missing': missing"));
  EXPECT_THAT(failure_of([&] { v.error("e"); }), HasSubstr("field 'extra': unknown field"));
  EXPECT_THAT(failure_of([&] { v.blob("b"); }), HasSubstr("field 'b': not valid base64"));
  EXPECT_THAT(failure_of([&] { v.blob("s"); }), HasSubstr("names 5 staged bytes, 3 were staged"));
}

TEST(MessageView, ReadsStagedBlobsInOrder) {
  json m = json::parse(R"({"a":{"staged":2},"b":{"staged":3},"c":"eHk="})");
  std::string staged = "12345";
  MessageView v(m, "test", &staged);
  EXPECT_EQ(v.blob("a"), "12");
  EXPECT_EQ(v.blob("b"), "345");
  EXPECT_EQ(v.blob("c"), "xy");
  EXPECT_TRUE(staged.empty());
}

struct ChannelPair {
  int fds[2];
  ChannelPair() { ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds); }
  ~ChannelPair() {
    if (fds[1] >= 0) ::close(fds[1]);
  }
  void raw_write(const std::string& data) const {
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(fds[1], data.data() + off, data.size() - off);
      ASSERT_GT(n, 0);
      off += static_cast<std::size_t>(n);
    }
  }
};

Clock::time_point soon() { return Clock::now() + std::chrono::seconds(5); }

TEST(Channel, SplitsLinesAndReportsEndOfStream) {
  ChannelPair pair;
  Channel channel(pair.fds[0]);
  pair.raw_write("{\"ok\":1}\n\n  \n{\"ok\":2}\r\n");
  EXPECT_EQ(channel.receive(soon()).message["ok"], 1);
  EXPECT_EQ(channel.receive(soon()).message["ok"], 2);
  ::close(pair.fds[1]);
  pair.fds[1] = -1;
  EXPECT_EQ(channel.receive(soon()).status, Channel::Received::Status::EndOfStream);
}

TEST(Channel, TimesOutWithoutAMessage) {
  ChannelPair pair;
  Channel channel(pair.fds[0]);
  pair.raw_write("{\"ok\":");  // half a message
  auto received = channel.receive(Clock::now() + std::chrono::milliseconds(50));
  EXPECT_EQ(received.status, Channel::Received::Status::Timeout);
}

TEST(Channel, RejectsAnOversizeLineWithoutReadingItAll) {
  ChannelPair pair;
  Channel channel(pair.fds[0]);
  std::thread writer([&] {
    std::string block(64 * 1024, 'x');
    // 2 MiB without a line end; the channel gives up after 1 MiB, so stop at the first failed write.
    for (int i = 0; i < 32; ++i) {
      if (::send(pair.fds[1], block.data(), block.size(), MSG_NOSIGNAL) < 0) break;
    }
  });
  EXPECT_THAT(failure_of([&] { channel.receive(soon()); }), HasSubstr("exceeds 1048576 bytes"));
  ::shutdown(pair.fds[1], SHUT_RDWR);
  writer.join();
}

TEST(Channel, CollectsChunksForTheNextMessage) {
  ChannelPair pair;
  Channel channel(pair.fds[0]);
  pair.raw_write("{\"chunk\":\"YWJj\"}\n{\"chunk\":\"ZGVm\"}\n{\"event\":\"x\"}\n");
  auto received = channel.receive(soon());
  EXPECT_EQ(received.message["event"], "x");
  EXPECT_EQ(received.staged, "abcdef");
  pair.raw_write("{\"chunk\":\"YWJj\",\"other\":1}\n");
  EXPECT_THAT(failure_of([&] { channel.receive(soon()); }), HasSubstr("no other field"));
}

TEST(Channel, SendsLongBlobsInChunksAndDescriptorsWithTheLine) {
  ChannelPair pair;
  Channel sender(pair.fds[0]);
  Channel receiver(pair.fds[1]);
  pair.fds[1] = -1;  // the receiver owns it now
  std::string data(kMaxInlineBlob * 2 + 10, 'q');
  std::string received_blob;
  std::thread reader([&] {
    auto r = receiver.receive(soon());
    std::string staged = r.staged;
    MessageView view(r.message, "test", &staged);
    received_blob = view.blob("data");
  });
  json blob = sender.blob(data, soon());
  EXPECT_EQ(blob, json({{"staged", data.size()}}));
  sender.send(json{{"cmd", "write"}, {"data", blob}}, {}, soon());
  reader.join();
  EXPECT_EQ(received_blob, data);

  // A descriptor travels with its line (checked at the socket level: the channel's peer here is C++).
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  int other[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, other), 0);
  Channel with_fd(other[0]);
  with_fd.send(json{{"cmd", "connect_read_pipe"}, {"fds", 1}}, std::span<const int>(pipe_fds, 1), soon());
  char buffer[256];
  char control[CMSG_SPACE(sizeof(int))];
  iovec part{buffer, sizeof buffer};
  msghdr header{};
  header.msg_iov = &part;
  header.msg_iovlen = 1;
  header.msg_control = control;
  header.msg_controllen = sizeof control;
  ASSERT_GT(::recvmsg(other[1], &header, MSG_CMSG_CLOEXEC), 0);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
  ASSERT_NE(cmsg, nullptr);
  EXPECT_EQ(cmsg->cmsg_type, SCM_RIGHTS);
  int passed;
  std::memcpy(&passed, CMSG_DATA(cmsg), sizeof passed);
  struct stat a {}, b {};
  ::fstat(passed, &a);
  ::fstat(pipe_fds[0], &b);
  EXPECT_EQ(a.st_ino, b.st_ino);
  ::close(passed);
  ::close(other[1]);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST(Channel, RefusesToSendAnOversizeMessage) {
  ChannelPair pair;
  Channel channel(pair.fds[0]);
  EXPECT_THAT(failure_of([&] { channel.send(json{{"x", std::string(kMaxMessage, 'a')}}, {}, soon()); }),
              HasSubstr("over the 1048576-byte limit"));
}

}  // namespace
}  // namespace loopspec::remote
