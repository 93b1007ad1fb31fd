#include "loopspec/kit/tls_transport.hpp"

#include "loopspec/kit/tls_protocol.hpp"

namespace loopspec::kit {

TlsTransport::TlsTransport(std::weak_ptr<TlsProtocol> tls, const Faults& faults)
    : tls_(std::move(tls)), faults_(faults) {
  flow_.set_limits(kDefaultHigh, std::nullopt);
}

std::optional<nlohmann::json> TlsTransport::get_extra_info(std::string_view name) {
  if (auto found = tls_info_.find(name); found != tls_info_.end()) return found->second;
  if (raw_) return raw_->get_extra_info(name);
  return std::nullopt;
}

void TlsTransport::close() {
  closing_ = true;
  if (auto tls = tls_.lock()) tls->close_from_app();
}

void TlsTransport::abort() {
  closing_ = true;
  if (auto tls = tls_.lock()) tls->abort_from_app();
}

void TlsTransport::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto stream = std::dynamic_pointer_cast<StreamProtocol>(protocol);
  if (dynamic_cast<Protocol*>(stream.get()) == nullptr && dynamic_cast<BufferedProtocol*>(stream.get()) == nullptr) {
    throw ContractError(Error{"TypeError", 0, "a TLS transport needs a Protocol or a BufferedProtocol"});
  }
  if (auto tls = tls_.lock()) tls->set_app_protocol(std::move(stream));
}

std::shared_ptr<BaseProtocol> TlsTransport::get_protocol() {
  auto tls = tls_.lock();
  return tls ? tls->app_protocol() : nullptr;
}

bool TlsTransport::is_reading() {
  auto tls = tls_.lock();
  return tls && !closing_ && !tls->app_reading_paused();
}

void TlsTransport::pause_reading() {
  if (closing_) return;
  if (auto tls = tls_.lock()) tls->pause_app_reading();
}

void TlsTransport::resume_reading() {
  if (closing_) return;
  if (auto tls = tls_.lock()) tls->resume_app_reading();
}

void TlsTransport::set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) {
  flow_.set_limits(high, low);
  if (auto tls = tls_.lock()) tls->control_app_writing();
}

std::size_t TlsTransport::get_write_buffer_size() {
  auto tls = tls_.lock();
  return tls ? tls->write_buffer_size() : 0;
}

void TlsTransport::write(std::string_view data) {
  if (data.empty()) return;
  const std::string_view pieces[] = {data};
  writelines(pieces);
}

void TlsTransport::writelines(std::span<const std::string_view> list_of_data) {
  if (auto tls = tls_.lock()) tls->write_app_data(list_of_data);
}

void TlsTransport::write_eof() {
  throw ContractError(Error{"NotImplementedError", 0, "TLS transports do not support half-closed connections"});
}

bool TlsTransport::can_write_eof() {
  // Fault: tls-claims-write-eof
  return faults_.tls_claims_write_eof;
}

}  // namespace loopspec::kit
