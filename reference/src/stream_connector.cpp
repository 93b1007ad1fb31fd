#include "loopspec/reference/stream_connector.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "loopspec/reference/stream_transport.hpp"

namespace loopspec::reference {

void StreamConnector::start(EpollLoop& loop, StreamProtocolFactory factory, const Address& address,
                            Completion<Transport> done) {
  std::vector<SocketAddress> candidates;
  try {
    candidates = connect_candidates(address);
  } catch (const ContractError& e) {
    loop.call_soon([done = std::move(done), error = e.error()] { done(Outcome<Transport>{nullptr, error}); });
    return;
  }
  auto connector =
      std::make_shared<StreamConnector>(Passkey{}, loop, std::move(factory), std::move(candidates), std::move(done));
  connector->try_next();
}

StreamConnector::StreamConnector(Passkey, EpollLoop& loop, StreamProtocolFactory factory,
                                 std::vector<SocketAddress> candidates, Completion<Transport> done)
    : loop_(&loop), factory_(std::move(factory)), candidates_(std::move(candidates)), done_(std::move(done)) {}

StreamConnector::~StreamConnector() {
  if (fd_ >= 0) ::close(fd_);
}

void StreamConnector::try_next() {
  while (next_ < candidates_.size()) {
    const SocketAddress& candidate = candidates_[next_++];
    fd_ = ::socket(candidate.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      errors_.push_back(
          Error::from_errno(errno, "Connect call failed " + to_string(to_address(candidate.get(), candidate.length))));
      continue;
    }
    if (::connect(fd_, candidate.get(), candidate.length) == 0) return connected();
    if (errno == EINPROGRESS || errno == EAGAIN || errno == EINTR) {
      loop_->watch_fd(fd_, shared_from_this());
      loop_->set_writing(fd_, true);
      return;
    }
    failed_attempt(errno);
  }
  if (errors_.size() == 1) return fail(errors_.front());
  bool alike = true;
  for (const auto& error : errors_)
    alike = alike && error.type == errors_.front().type && error.errnum == errors_.front().errnum;
  if (alike) return fail(errors_.front());
  std::string message = "Multiple exceptions: ";
  for (std::size_t i = 0; i < errors_.size(); ++i) message += (i ? ", " : "") + errors_[i].to_string();
  fail(Error{"OSError", 0, message});
}

void StreamConnector::on_writable() {
  int err = 0;
  socklen_t length = sizeof err;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &length) < 0) err = errno;
  if (err == EINPROGRESS || err == EALREADY) return;  // not yet (spurious wake-up)
  auto self = shared_from_this();                     // unwatching drops the loop's reference
  loop_->unwatch_fd(fd_);
  if (err == 0) return connected();
  failed_attempt(err);
  try_next();
}

void StreamConnector::failed_attempt(int err) {
  const SocketAddress& candidate = candidates_[next_ - 1];
  errors_.push_back(
      Error::from_errno(err, "Connect call failed " + to_string(to_address(candidate.get(), candidate.length))));
  ::close(fd_);
  fd_ = -1;
}

void StreamConnector::connected() {
  int fd = fd_;
  fd_ = -1;  // owned by the connection from here on
  start_stream_connection(*loop_, fd, factory_, std::move(done_));
}

void StreamConnector::fail(Error error) {
  loop_->call_soon([done = std::move(done_), error = std::move(error)] { done(Outcome<Transport>{nullptr, error}); });
}

void StreamConnector::on_loop_destroyed() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  done_ = nullptr;
  factory_ = nullptr;
}

}  // namespace loopspec::reference
