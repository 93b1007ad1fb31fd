#include "loopspec/libuv/stream_connector.hpp"

#include "loopspec/kit/stream_setup.hpp"
#include "loopspec/libuv/stream_transport.hpp"
#include "loopspec/libuv/uv_address.hpp"
#include "loopspec/libuv/uv_error.hpp"

namespace loopspec::libuv {

void StreamConnector::start(UvLoop& loop, StreamProtocolFactory factory, const Address& address,
                            Completion<Transport> done) {
  auto connector = std::make_shared<StreamConnector>(Passkey{}, loop, std::move(factory), std::move(done));
  if (const auto* unix_address = std::get_if<UnixAddress>(&address)) {
    if (auto error = unix_path_error(unix_address->path)) return connector->fail(*error);
    connector->candidates_.push_back(Candidate{{}, unix_address->path});
    return connector->try_next();
  }
  loop.resolver().resolve(std::get<InetAddress>(address), false, [connector](Resolved resolved) {
    if (resolved.error) return connector->fail(*resolved.error);
    for (const auto& inet : resolved.addresses) connector->candidates_.push_back(Candidate{inet, {}});
    connector->try_next();
  });
}

StreamConnector::StreamConnector(Passkey, UvLoop& loop, StreamProtocolFactory factory, Completion<Transport> done)
    : loop_(&loop), factory_(std::move(factory)), done_(std::move(done)) {}

StreamConnector::~StreamConnector() { HandleBox::close(box_); }

void StreamConnector::try_next() {
  while (next_ < candidates_.size()) {
    const Candidate& candidate = candidates_[next_++];
    box_ = HandleBox::make(shared_from_this());
    request_.data = this;
    int status = 0;
    if (!candidate.path.empty()) {
      uv_pipe_init(loop_->uv(), &box_->pipe, 0);
      box_->adopt();
      uv_pipe_connect(&request_, &box_->pipe, candidate.path.c_str(), on_connect);  // errors come to on_connect
      return;
    }
    uv_tcp_init(loop_->uv(), &box_->tcp);
    box_->adopt();
    status = uv_tcp_connect(&request_, &box_->tcp, reinterpret_cast<const sockaddr*>(&candidate.inet), on_connect);
    if (status == 0) return;
    connected(status);  // a failed attempt; connected() moves on
    return;
  }
  fail(kit::connect_error(errors_));
}

void StreamConnector::on_connect(uv_connect_t* request, int status) {
  if (status == UV_ECANCELED) return;  // the loop is going away
  static_cast<StreamConnector*>(request->data)->connected(status);
}

void StreamConnector::connected(int status) {
  auto self = shared_from_this();  // the box that holds it is handed on or closed here
  HandleBox* box = std::exchange(box_, nullptr);
  if (status == 0) {
    box->owner = nullptr;
    start_stream_connection(*loop_, box, factory_, std::move(done_));
    return;
  }
  const Candidate& candidate = candidates_[next_ - 1];
  std::string target = candidate.path.empty()
                           ? to_string(to_address(reinterpret_cast<const sockaddr*>(&candidate.inet)))
                           : to_string(UnixAddress{candidate.path});
  errors_.push_back(error_from_status(status, "Connect call failed " + target));
  HandleBox::close(box);
  try_next();
}

void StreamConnector::fail(Error error) { loop_->complete_with_error(std::move(done_), std::move(error)); }

void StreamConnector::on_loop_destroyed() {
  HandleBox::close(std::exchange(box_, nullptr));
  done_ = nullptr;
  factory_ = nullptr;
}

}  // namespace loopspec::libuv
