#include "loopspec/reference/descriptor_transport.hpp"

#include <unistd.h>

#include "loopspec/kit/exception_error.hpp"

namespace loopspec::reference {

template <class Interface, class P>
DescriptorTransport<Interface, P>::DescriptorTransport(EpollLoop& loop, int fd, std::string wrong_protocol)
    : loop_(&loop), faults_(loop.faults()), fd_(fd), wrong_protocol_(std::move(wrong_protocol)) {}

template <class Interface, class P>
DescriptorTransport<Interface, P>::~DescriptorTransport() {
  // Only reached with an open fd when the start failed before the loop watched it.
  if (fd_ >= 0) ::close(fd_);
}

template <class Interface, class P>
void DescriptorTransport<Interface, P>::announce(Completion<Interface> done) {
  auto self = this->shared_from_this();
  loop_->watch_fd(fd_, self);
  loop_->call_soon([self, done = std::move(done)] {
    self->deliver_connection_made();
    if (done) done(Outcome<Interface>{self, std::nullopt});
  });
}

template <class Interface, class P>
void DescriptorTransport<Interface, P>::deliver_connection_made() {
  if (phase_ == Phase::Lost) return;
  made_ = true;
  auto protocol = protocol_;
  if (call("connection_made", [&] { protocol->connection_made(this->shared_from_this()); })) on_connection_made();
}

template <class Interface, class P>
void DescriptorTransport<Interface, P>::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto typed = std::dynamic_pointer_cast<P>(std::move(protocol));
  if (!typed) throw ContractError(wrong_protocol());
  adopt_protocol(std::move(typed));
}

template <class Interface, class P>
bool DescriptorTransport<Interface, P>::adopt_protocol(std::shared_ptr<P> protocol) {
  if (phase_ == Phase::Lost) return false;
  protocol_ = std::move(protocol);
  return true;
}

template <class Interface, class P>
void DescriptorTransport<Interface, P>::lose(const MaybeError& exc) {
  if (ending()) return;
  phase_ = Phase::LostPending;
  drop_queued_output();
  loop_->set_reading(fd_, false);
  loop_->set_writing(fd_, false);
  loop_->call_soon([self = this->shared_from_this(), exc] { self->deliver_connection_lost(exc); });
}

template <class Interface, class P>
void DescriptorTransport<Interface, P>::deliver_connection_lost(const MaybeError& exc) {
  if (phase_ == Phase::Lost) return;
  if (auto protocol = protocol_) {
    try {
      protocol->connection_lost(exc);
    } catch (...) {
      loop_->report_exception("connection_lost", kit::error_from_current_exception());
    }
  }
  release();
}

template <class Interface, class P>
void DescriptorTransport<Interface, P>::release() {
  phase_ = Phase::Lost;
  drop_queued_output();
  if (fd_ >= 0) {
    if (loop_ != nullptr) loop_->unwatch_fd(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  protocol_.reset();
  on_released();
}

template <class Interface, class P>
void DescriptorTransport<Interface, P>::on_loop_destroyed() {
  loop_ = nullptr;
  release();
}

template <class Interface, class P>
void DescriptorTransport<Interface, P>::pause_if_over(kit::WriteFlow& flow, std::size_t buffered) {
  if (!made_ || ending() || !flow.should_pause(buffered)) return;
  auto protocol = protocol_;
  call("pause_writing", [&] { protocol->pause_writing(); });
}

template <class Interface, class P>
void DescriptorTransport<Interface, P>::resume_if_drained(kit::WriteFlow& flow, std::size_t buffered) {
  if (!made_ || ending() || !flow.should_resume(buffered)) return;
  auto protocol = protocol_;
  call("resume_writing", [&] { protocol->resume_writing(); });
}

// The transports of the reference loop that own a descriptor.
template class DescriptorTransport<Transport, StreamProtocol>;          // stream sockets
template class DescriptorTransport<ReadTransport, StreamProtocol>;      // read pipes
template class DescriptorTransport<WriteTransport, BaseProtocol>;       // write pipes
template class DescriptorTransport<DatagramTransport, DatagramProtocol>;  // datagram sockets

}  // namespace loopspec::reference
