#include "loopspec/reference/stream_writing.hpp"

#include <sys/uio.h>

#include <cerrno>

#include "loopspec/reference/descriptor_transport.hpp"
#include "loopspec/reference/stream_reading_transport.hpp"

namespace loopspec::reference {

namespace {

constexpr std::size_t kMaxIov = 64;

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

template <class Base>
void StreamWriting<Base>::write_pieces(std::span<const std::string_view> pieces, bool newest_first) {
  if (this->phase_ != Base::Phase::Open) return;  // after close()/abort(): dropped silently
  std::size_t index = 0;
  std::size_t offset = 0;
  if (queue_.empty() && !write_now(pieces, index, offset)) return;
  std::size_t before = queue_.size();
  for (; index < pieces.size(); ++index, offset = 0) {
    if (newest_first) {
      queue_.prepend_unsent(pieces[index].substr(offset));
    } else {
      queue_.append(pieces[index].substr(offset));
    }
  }
  if (queue_.size() == before) return;
  this->loop_->set_writing(this->fd_, true);
  this->pause_if_over(flow_, queue_.size());
}

template <class Base>
bool StreamWriting<Base>::write_now(std::span<const std::string_view> pieces, std::size_t& index,
                                    std::size_t& offset) {
  while (index < pieces.size()) {
    iovec iov[kMaxIov];
    std::size_t count = 0;
    std::size_t batch = 0;
    for (std::size_t i = index; i < pieces.size() && count < kMaxIov; ++i) {
      std::string_view piece = pieces[i].substr(i == index ? offset : 0);
      if (piece.empty()) continue;
      iov[count++] = iovec{const_cast<char*>(piece.data()), piece.size()};
      batch += piece.size();
    }
    if (count == 0) {
      index = pieces.size();
      return true;
    }
    ssize_t written = write_gather(iov, count);
    if (written < 0) {
      if (would_block(errno)) return true;
      this->lose(Error::from_errno(errno));
      return false;
    }
    for (auto left = static_cast<std::size_t>(written); left > 0;) {
      std::size_t rest = pieces[index].size() - offset;
      if (left < rest) {
        offset += left;
        break;
      }
      left -= rest;
      ++index;
      offset = 0;
    }
    if (static_cast<std::size_t>(written) < batch) return true;
  }
  return true;
}

template <class Base>
void StreamWriting<Base>::flush() {
  if (!this->active()) return;
  if (!queue_.empty()) {
    iovec iov[kMaxIov];
    ssize_t written = write_gather(iov, queue_.gather(iov, kMaxIov));
    if (written < 0) {
      if (!would_block(errno)) this->lose(Error::from_errno(errno));
      return;
    }
    queue_.consume(static_cast<std::size_t>(written));
    this->resume_if_drained(flow_, queue_.size());  // the protocol may write more from resume_writing
    if (!this->active() || !queue_.empty()) return;
  }
  this->loop_->set_writing(this->fd_, false);
  on_drained();
}

template <class Base>
void StreamWriting<Base>::set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) {
  flow_.set_limits(high, low);
  this->pause_if_over(flow_, queue_.size());
  this->resume_if_drained(flow_, queue_.size());
}

template class StreamWriting<StreamReadingTransport<Transport>>;                 // stream sockets
template class StreamWriting<DescriptorTransport<WriteTransport, BaseProtocol>>;  // write pipes

}  // namespace loopspec::reference
