#include "loopspec/fuzz/protocols/driver_message_protocol.hpp"

#include <string>

#include "loopspec/digest.hpp"
#include "loopspec/remote/wire.hpp"

#include "logging_protocol.hpp"

namespace loopspec::fuzz::protocols {

namespace {

using nlohmann::json;
using remote::DriverFailure;
using remote::kMaxMessage;
using remote::kMaxStaged;
using remote::MessageView;

class DriverMessageProtocol final : public LoggingProtocol<Protocol> {
 public:
  explicit DriverMessageProtocol(std::shared_ptr<EventLog> log) : LoggingProtocol(std::move(log)) {}

  void data_received(std::string_view data) override {
    if (failed_) return;
    try {
      std::size_t start = 0;
      while (start < data.size()) {
        std::size_t end = data.find('\n', start);
        std::string_view piece = data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        line_.append(piece);
        // The limit is on the line without its end, so an unfinished line may hold one byte more: its '\r'.
        std::size_t limit = kMaxMessage + (end == std::string_view::npos && line_.ends_with('\r') ? 1 : 0);
        if (line_.size() > limit) throw DriverFailure("a message exceeds " + std::to_string(kMaxMessage) + " bytes");
        if (end == std::string_view::npos) return;
        if (line_.ends_with('\r')) line_.pop_back();
        if (line_.size() > kMaxMessage) throw DriverFailure("a message exceeds " + std::to_string(kMaxMessage) + " bytes");
        std::string line = std::move(line_);
        line_.clear();
        start = end + 1;
        if (line.find_first_not_of(" \t") != std::string::npos) message(line);
      }
    } catch (const DriverFailure& e) {
      failed_ = true;
      log_->push_back(std::string("error: ") + e.what());
      transport_->close();
    }
  }

  bool eof_received() override {
    if (!failed_ && !line_.empty()) log_->push_back("partial " + std::to_string(line_.size()));
    log_->push_back("eof");
    return false;
  }

 private:
  void message(const std::string& line) {
    json message = remote::parse_message(line);
    if (message.contains("chunk")) {
      if (message.size() != 1) throw DriverFailure("chunk: no other field is allowed beside 'chunk'");
      staged_ += MessageView(message, "chunk").blob("chunk");
      if (staged_.size() > kMaxStaged) throw DriverFailure("more than " + std::to_string(kMaxStaged) + " staged bytes");
      return;
    }
    log_->push_back("message " + message.dump(-1, ' ', false, json::error_handler_t::replace));
    MessageView view(message, "message", &staged_);
    for (const auto& [key, value] : message.items()) {
      if (value.is_object() && value.contains("staged")) {
        std::string blob = view.blob(key.c_str());
        log_->push_back("blob " + key + " " + std::to_string(blob.size()) + " " + Digest::of(blob));
      }
    }
    if (!staged_.empty()) throw DriverFailure(std::to_string(staged_.size()) + " staged bytes left unused");
  }

  std::string line_;
  std::string staged_;
  bool failed_ = false;
};

}  // namespace

Subject driver_message_subject() { return subject_of<DriverMessageProtocol>(); }

}  // namespace loopspec::fuzz::protocols
