#include "loopspec/libuv/resolver.hpp"

#include <netdb.h>

#include <cstring>
#include <memory>
#include <string>

#include "loopspec/libuv/uv_address.hpp"
#include "loopspec/libuv/uv_error.hpp"

namespace loopspec::libuv {

struct Resolver::Request {
  uv_getaddrinfo_t req;
  Resolver* owner;  // null once cancelled
  std::function<void(Resolved)> done;
  std::string host;
};

void Resolver::resolve(const InetAddress& address, bool passive, std::function<void(Resolved)> done) {
  if (auto numeric = numeric_address(address)) return done(Resolved{{*numeric}, std::nullopt});
  auto request = std::make_unique<Request>();
  request->owner = this;
  request->done = std::move(done);
  request->host = address.host;
  request->req.data = request.get();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  std::string port = std::to_string(address.port);
  int status = uv_getaddrinfo(loop_, &request->req, on_resolved, address.host.c_str(), port.c_str(), &hints);
  if (status < 0) return request->done(Resolved{{}, error_from_status(status)});
  pending_.insert(request.release());
}

void Resolver::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result) {
  std::unique_ptr<Request> request(static_cast<Request*>(req->data));
  Resolved resolved;
  for (addrinfo* info = result; info != nullptr; info = info->ai_next) {
    sockaddr_storage storage{};
    std::memcpy(&storage, info->ai_addr, info->ai_addrlen);
    resolved.addresses.push_back(storage);
  }
  uv_freeaddrinfo(result);
  if (request->owner == nullptr) return;  // cancelled: the loop is going away
  request->owner->pending_.erase(request.get());
  if (status < 0 || resolved.addresses.empty()) {
    std::string why = status < 0 ? error_from_status(status).message : "no address";
    resolved.error = error_from_status(status < 0 ? status : UV_EAI_NONAME, why + " (" + request->host + ")");
  }
  request->done(std::move(resolved));
}

void Resolver::cancel_all() {
  for (Request* request : pending_) {
    request->owner = nullptr;
    request->done = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&request->req));
  }
  pending_.clear();
}

}  // namespace loopspec::libuv
