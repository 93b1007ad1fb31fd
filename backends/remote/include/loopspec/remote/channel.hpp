// The harness's end of a driver channel: JSON Lines over a Unix stream
// socket, with descriptors passed as SCM_RIGHTS (spec/driver-protocol.md).
//
// Promises:
// - send() is safe from any thread (one mutex orders whole lines) and never
//   raises SIGPIPE; it waits for the socket at most until the deadline.
// - receive() is for one thread only. It returns one message per call,
//   collecting "chunk" messages into the staged bytes of the message that
//   follows them; a line over kMaxMessage bytes, bad JSON, a non-object, too
//   many staged bytes or a timeout throw DriverFailure naming the problem.
//   End of stream is a status, not an error: the caller knows why it matters.
// - The socket is non-blocking and close-on-exec; the channel owns it.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace loopspec::remote {

using Clock = std::chrono::steady_clock;

class Channel {
 public:
  explicit Channel(int fd);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // One line; fds travel with its first byte. DriverFailure on a message over
  // kMaxMessage, a dead peer or the deadline.
  void send(const nlohmann::json& message, std::span<const int> fds = {},
            std::optional<Clock::time_point> deadline = std::nullopt);
  // A blob field's value for a message about to be sent from this (the
  // receiving) thread: inline base64, or chunk messages sent now and
  // {"staged": n}.
  nlohmann::json blob(std::string_view data, std::optional<Clock::time_point> deadline = std::nullopt);

  struct Received {
    enum class Status { Message, EndOfStream, Timeout } status = Status::Message;
    nlohmann::json message;
    std::string staged;  // chunked bytes that came before it
  };
  // nullopt deadline: wait as long as it takes.
  Received receive(std::optional<Clock::time_point> deadline);

  int fd() const { return fd_; }

 private:
  bool fill(std::optional<Clock::time_point> deadline);
  void send_line(std::string_view line, std::span<const int> fds, std::optional<Clock::time_point> deadline);

  int fd_ = -1;
  std::mutex send_mutex_;
  std::string buffer_;  // bytes read but not yet split into lines
  std::size_t scanned_ = 0;  // buffer_[0, scanned_) holds no '\n'
  std::string staged_;
  bool eof_ = false;
};

}  // namespace loopspec::remote
