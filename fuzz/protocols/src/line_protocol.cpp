#include "loopspec/fuzz/protocols/line_protocol.hpp"

#include <string>


#include "logging_protocol.hpp"

namespace loopspec::fuzz::protocols {

namespace {

class LineProtocol final : public LoggingProtocol<Protocol> {
 public:
  explicit LineProtocol(std::shared_ptr<EventLog> log) : LoggingProtocol(std::move(log)) {}

  void data_received(std::string_view data) override {
    if (failed_) return;
    std::size_t start = 0;
    while (start < data.size()) {
      std::size_t end = data.find('\n', start);
      std::string_view piece = data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
      if (pending_.size() + piece.size() > kMaxLine) return fail();
      pending_.append(piece);
      if (end == std::string_view::npos) return;
      if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
      log_->push_back("line:" + pending_);
      transport_->write(pending_ + "\n");
      pending_.clear();
      start = end + 1;
    }
  }

  bool eof_received() override {
    if (!failed_ && !pending_.empty()) log_->push_back("partial:" + pending_);
    log_->push_back("eof");
    return false;
  }

 private:
  void fail() {
    failed_ = true;
    log_->push_back("error: line too long");
    transport_->close();
  }

  std::string pending_;
  bool failed_ = false;
};

}  // namespace

Subject line_subject() { return subject_of<LineProtocol>(); }

}  // namespace loopspec::fuzz::protocols
