#include "loopspec/asio/stream_connector.hpp"

#include <boost/asio/error.hpp>

#include "loopspec/asio/asio_error.hpp"
#include "loopspec/asio/stream_transport.hpp"
#include "loopspec/kit/stream_setup.hpp"

namespace loopspec::asio {

void StreamConnector::start(AsioLoop& loop, StreamProtocolFactory factory, const Address& address,
                            Completion<Transport> done) {
  auto connector = std::make_shared<StreamConnector>(Passkey{}, loop, std::move(factory), std::move(done));
  loop.hold(connector);
  if (const auto* unix_address = std::get_if<UnixAddress>(&address)) {
    if (auto error = unix_path_error(unix_address->path)) return connector->fail(*error);
    connector->candidates_.push_back(unix_endpoint(unix_address->path));
    return connector->try_next();
  }
  resolve(loop, std::get<InetAddress>(address), false, [connector](std::vector<GenericEndpoint> found, MaybeError error) {
    if (error) return connector->fail(*error);
    connector->candidates_ = std::move(found);
    connector->try_next();
  });
}

StreamConnector::StreamConnector(Passkey, AsioLoop& loop, StreamProtocolFactory factory, Completion<Transport> done)
    : loop_(&loop), factory_(std::move(factory)), done_(std::move(done)) {}

void StreamConnector::try_next() {
  while (next_ < candidates_.size()) {
    const GenericEndpoint& candidate = candidates_[next_++];
    boost::system::error_code ec;
    attempt_.emplace(loop_->context());
    attempt_->open(candidate.protocol(), ec);
    if (ec) {
      errors_.push_back(error_from_code(ec));
      continue;
    }
    attempt_->async_connect(candidate, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (self->loop_ == nullptr) return;
      self->loop_->call_soon([self, ec] { self->connected(ec); });
    });
    return;
  }
  fail(kit::connect_error(errors_));
}

void StreamConnector::connected(const boost::system::error_code& ec) {
  if (loop_ == nullptr || !attempt_) return;
  if (!ec) {
    auto self = shared_from_this();
    loop_->let_go(this);
    StreamSocket socket = std::move(*attempt_);
    attempt_.reset();
    start_stream_connection(*loop_, std::move(socket), factory_, std::move(done_));
    return;
  }
  Address target = to_address(candidates_[next_ - 1]);
  errors_.push_back(error_from_code(ec, "Connect call failed " + to_string(target)));
  attempt_.reset();
  try_next();
}

void StreamConnector::fail(Error error) {
  auto self = shared_from_this();
  loop_->let_go(this);
  loop_->complete_with_error(std::move(done_), std::move(error));
}

void StreamConnector::on_loop_destroyed() {
  attempt_.reset();
  done_ = nullptr;
  factory_ = nullptr;
  loop_ = nullptr;
}

}  // namespace loopspec::asio
