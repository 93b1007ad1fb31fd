#include "loopspec/remote/channel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "loopspec/remote/wire.hpp"

namespace loopspec::remote {

using nlohmann::json;

namespace {

// Milliseconds to wait in poll(): -1 without a deadline, 0 once it passed.
int poll_timeout(std::optional<Clock::time_point> deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > 60'000 ? 60'000 : static_cast<int>(left);
}

bool wait_for(int fd, short events, std::optional<Clock::time_point> deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, poll_timeout(deadline));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) throw DriverFailure(std::string("poll on the channel failed: ") + std::strerror(errno));
    if (deadline && Clock::now() >= *deadline) return false;
  }
}

}  // namespace

Channel::Channel(int fd) : fd_(fd) {
  int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
}

Channel::~Channel() {
  if (fd_ >= 0) ::close(fd_);
}

void Channel::send(const json& message, std::span<const int> fds, std::optional<Clock::time_point> deadline) {
  std::string line = message.dump(-1, ' ', false, json::error_handler_t::replace);
  if (line.size() > kMaxMessage) {
    throw DriverFailure("a message to the driver would be " + std::to_string(line.size()) + " bytes, over the " +
                        std::to_string(kMaxMessage) + "-byte limit");
  }
  line += '\n';
  std::lock_guard lock(send_mutex_);
  send_line(line, fds, deadline);
}

json Channel::blob(std::string_view data, std::optional<Clock::time_point> deadline) {
  if (data.size() <= kMaxInlineBlob) return encode_base64(data);
  for (std::size_t at = 0; at < data.size(); at += kMaxInlineBlob) {
    send(json{{"chunk", encode_base64(data.substr(at, kMaxInlineBlob))}}, {}, deadline);
  }
  return json{{"staged", data.size()}};
}

void Channel::send_line(std::string_view line, std::span<const int> fds, std::optional<Clock::time_point> deadline) {
  std::size_t sent = 0;
  bool fds_sent = fds.empty();
  while (sent < line.size()) {
    msghdr header{};
    iovec part{const_cast<char*>(line.data() + sent), line.size() - sent};
    header.msg_iov = &part;
    header.msg_iovlen = 1;
    std::vector<char> control;
    if (!fds_sent) {
      control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
      header.msg_control = control.data();
      header.msg_controllen = control.size();
      cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n = ::sendmsg(fd_, &header, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      fds_sent = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd_, POLLOUT, deadline)) throw DriverFailure("the driver stopped reading the channel");
      continue;
    }
    int error = n < 0 ? errno : EPIPE;
    if (error == EPIPE || error == ECONNRESET) throw ChannelClosed("the driver closed the channel while the harness wrote to it");
    throw DriverFailure(std::string("writing to the driver failed: ") + std::strerror(error));
  }
}

bool Channel::fill(std::optional<Clock::time_point> deadline) {
  char chunk[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_for(fd_, POLLIN, deadline)) return false;
      continue;
    }
    if (errno == ECONNRESET) {
      eof_ = true;
      return true;
    }
    throw DriverFailure(std::string("reading from the driver failed: ") + std::strerror(errno));
  }
}

Channel::Received Channel::receive(std::optional<Clock::time_point> deadline) {
  for (;;) {
    std::size_t end = buffer_.find('\n', scanned_);
    if (end == std::string::npos) {
      scanned_ = buffer_.size();
      if (buffer_.size() > kMaxMessage) {
        throw DriverFailure("a message from the driver exceeds " + std::to_string(kMaxMessage) + " bytes (" +
                            std::to_string(buffer_.size()) + " bytes without a line end)");
      }
      if (eof_) return Received{Received::Status::EndOfStream, {}, {}};
      if (!fill(deadline)) return Received{Received::Status::Timeout, {}, {}};
      continue;
    }
    std::string line = buffer_.substr(0, end);
    buffer_.erase(0, end + 1);
    scanned_ = 0;
    if (line.size() > kMaxMessage) {
      throw DriverFailure("a message from the driver exceeds " + std::to_string(kMaxMessage) + " bytes (" +
                          std::to_string(line.size()) + ")");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    json message = parse_message(line);
    if (message.contains("chunk")) {
      MessageView view(message, "chunk");
      if (message.size() != 1) throw DriverFailure("chunk: no other field is allowed beside 'chunk'");
      staged_ += view.blob("chunk");
      if (staged_.size() > kMaxStaged) {
        throw DriverFailure("more than " + std::to_string(kMaxStaged) + " staged bytes from the driver");
      }
      continue;
    }
    Received received{Received::Status::Message, std::move(message), std::move(staged_)};
    staged_.clear();
    return received;
  }
}

}  // namespace loopspec::remote
