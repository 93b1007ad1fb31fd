// The transport a TLS connection's application protocol sees: asyncio's
// _SSLProtocolTransport. It forwards to the connection's TlsProtocol
// (tls_protocol.hpp), which does the work.
//
// Promises:
// - The stream contract of transports.hpp, with TLS's differences:
//   can_write_eof() is false and write_eof() raises NotImplementedError
//   (TLS has no half-close); get_extra_info answers 'sslcontext', 'cipher'
//   ([name, protocol version, secret bits]), 'compression', 'peercert' and
//   'ssl_object' itself and everything else from the raw socket transport.
// - The TlsProtocol owns this transport; this transport refers back weakly,
//   so no ownership cycle outlives the raw connection. Once the TlsProtocol is
//   gone (after connection_lost) every method stays callable: is_closing()
//   is true, queries answer, writes are dropped, close() is a no-op.
// - The write flow control state (watermarks, paused) lives here, so the
//   limits stay readable and validated after connection_lost.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/write_flow.hpp"
#include "loopspec/transports.hpp"

namespace loopspec::kit {

class TlsProtocol;

class TlsTransport final : public Transport {
 public:
  // asyncio's SSL default watermarks (constants.FLOW_CONTROL_HIGH_WATER_SSL_WRITE).
  static constexpr std::int64_t kDefaultHigh = 512 * 1024;

  TlsTransport(std::weak_ptr<TlsProtocol> tls, const Faults& faults);

  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override;
  bool is_closing() override { return closing_; }
  void close() override;
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() override;
  // ReadTransport
  bool is_reading() override;
  void pause_reading() override;
  void resume_reading() override;
  // WriteTransport
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) override;
  WriteBufferLimits get_write_buffer_limits() override { return flow_.limits(); }
  std::size_t get_write_buffer_size() override;
  void write(std::string_view data) override;
  void writelines(std::span<const std::string_view> list_of_data) override;
  void write_eof() override;
  bool can_write_eof() override;
  void abort() override;

  // For the TlsProtocol.
  WriteFlow& flow() { return flow_; }
  void mark_closing() { closing_ = true; }
  void attach_raw(std::shared_ptr<Transport> raw) { raw_ = std::move(raw); }
  void set_tls_info(std::map<std::string, nlohmann::json, std::less<>> info) { tls_info_ = std::move(info); }

 private:
  std::weak_ptr<TlsProtocol> tls_;
  const Faults faults_;
  WriteFlow flow_{faults_};
  bool closing_ = false;
  std::shared_ptr<Transport> raw_;  // for the socket's extra info, also after connection_lost
  std::map<std::string, nlohmann::json, std::less<>> tls_info_;
};

}  // namespace loopspec::kit
