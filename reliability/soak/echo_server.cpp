#include "echo_server.hpp"

#include "loopspec/protocols.hpp"
#include "loopspec/transports.hpp"

namespace loopspec::reliability {

class EchoServer::EchoProtocol final : public Protocol {
 public:
  EchoProtocol(EchoServer& server, std::shared_ptr<EchoServedConnection> record)
      : server_(server), record_(std::move(record)) {}

  void connection_made(std::shared_ptr<BaseTransport> transport) override {
    if (ended()) return;
    transport_ = std::dynamic_pointer_cast<Transport>(transport);
    ++record_->made;
    if (auto peer = transport_->get_extra_info("peername"); peer && peer->is_array() && peer->size() >= 2) {
      record_->peer_port = (*peer)[1].get<std::uint16_t>();
    }
    ++server_.made_;
    server_.on_change_();
  }
  void data_received(std::string_view data) override {
    if (ended()) return;
    if (data.empty()) ++record_->empty_data;
    record_->received_digest.update(data);
    record_->received_bytes += data.size();
    transport_->write(data);
  }
  bool eof_received() override {
    if (!ended()) ++record_->eofs;
    return false;
  }
  void pause_writing() override {
    if (ended()) return;
    ++record_->pauses;
    transport_->pause_reading();
  }
  void resume_writing() override {
    if (ended()) return;
    ++record_->resumes;
    transport_->resume_reading();
  }
  void connection_lost(const MaybeError& exc) override {
    if (ended()) return;
    ++record_->lost;
    record_->lost_error = exc;
    transport_.reset();
    ++server_.lost_;
    server_.on_change_();
  }

 private:
  // After connection_lost every callback is a breach: counted, otherwise ignored.
  bool ended() {
    if (record_->lost == 0) return false;
    ++record_->after_lost;
    return true;
  }

  EchoServer& server_;
  std::shared_ptr<EchoServedConnection> record_;
  std::shared_ptr<Transport> transport_;
};

StreamProtocolFactory EchoServer::factory() {
  return [this]() -> std::shared_ptr<StreamProtocol> {
    auto record = std::make_shared<EchoServedConnection>();
    connections_.push_back(record);
    return std::make_shared<EchoProtocol>(*this, std::move(record));
  };
}

}  // namespace loopspec::reliability
