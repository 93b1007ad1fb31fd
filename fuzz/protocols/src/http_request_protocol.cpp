#include "loopspec/fuzz/protocols/http_request_protocol.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

#include "loopspec/digest.hpp"

#include "logging_protocol.hpp"

namespace loopspec::fuzz::protocols {

namespace {

constexpr std::size_t kMaxChunkLine = 256;

struct Malformed {
  std::string why;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

std::optional<std::size_t> parse_number(std::string_view s, int base, std::size_t max) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  std::size_t value = 0;
  for (char c : s) {
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else return std::nullopt;
    value = value * base + digit;
    if (value > max) return std::nullopt;
  }
  return value;
}

class HttpRequestProtocol final : public LoggingProtocol<Protocol> {
 public:
  explicit HttpRequestProtocol(std::shared_ptr<EventLog> log) : LoggingProtocol(std::move(log)) {}

  void data_received(std::string_view data) override {
    if (failed_) return;
    buffer_.append(data);
    try {
      while (step()) {
      }
    } catch (const Malformed& m) {
      failed_ = true;
      log_->push_back("error: " + m.why);
      transport_->write("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      transport_->close();
    }
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }

  bool eof_received() override {
    if (!failed_ && (state_ != State::Head || consumed_ < buffer_.size())) log_->push_back("incomplete");
    log_->push_back("eof");
    return false;
  }

 private:
  enum class State { Head, Body, ChunkSize, ChunkData, ChunkEnd, Trailers };

  std::string_view rest() const { return std::string_view(buffer_).substr(consumed_); }

  // The next CRLF-ended line of at most `limit` bytes; nullopt until it is all here.
  std::optional<std::string_view> line(std::size_t limit, const char* what) {
    std::string_view r = rest();
    std::size_t end = r.find("\r\n");
    // An unfinished line may end in the CR of its CRLF, which is no part of the line.
    std::size_t seen = end != std::string_view::npos ? end : r.size() - (r.ends_with('\r') ? 1 : 0);
    if (seen > limit) throw Malformed{std::string(what) + " too long"};
    if (end == std::string_view::npos) return std::nullopt;
    consumed_ += end + 2;
    return r.substr(0, end);
  }

  // One step of the state machine; false when it needs more bytes.
  bool step() {
    switch (state_) {
      case State::Head: return head();
      case State::Body: {
        std::size_t n = std::min(rest().size(), remaining_);
        if (n == 0 && remaining_ > 0) return false;
        body_.update(rest().substr(0, n));
        body_size_ += n;
        consumed_ += n;
        remaining_ -= n;
        if (remaining_ > 0) return false;
        finish();
        return true;
      }
      case State::ChunkSize: {
        auto l = line(kMaxChunkLine, "chunk size line");
        if (!l) return false;
        std::string_view size = l->substr(0, l->find(';'));
        auto n = parse_number(trim(size), 16, kMaxBody);
        if (!n || body_size_ + *n > kMaxBody) throw Malformed{"bad chunk size"};
        remaining_ = *n;
        state_ = *n == 0 ? State::Trailers : State::ChunkData;
        return true;
      }
      case State::ChunkData: {
        std::size_t n = std::min(rest().size(), remaining_);
        if (n == 0) return false;
        body_.update(rest().substr(0, n));
        body_size_ += n;
        consumed_ += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::ChunkEnd;
        return true;
      }
      case State::ChunkEnd: {
        std::string_view r = rest();
        if (r.size() >= 1 && r[0] != '\r') throw Malformed{"chunk not followed by CRLF"};
        if (r.size() >= 2 && r[1] != '\n') throw Malformed{"chunk not followed by CRLF"};
        if (r.size() < 2) return false;
        consumed_ += 2;
        state_ = State::ChunkSize;
        return true;
      }
      case State::Trailers: {
        auto l = line(kMaxHead, "trailer");
        if (!l) return false;
        if (l->empty()) finish();
        return true;
      }
    }
    return false;
  }

  bool head() {
    std::string_view r = rest();
    std::size_t end = r.find("\r\n\r\n");
    if ((end == std::string_view::npos ? r.size() : end + 4) > kMaxHead) throw Malformed{"request head too long"};
    if (end == std::string_view::npos) return false;
    std::string_view head = r.substr(0, end + 2);
    consumed_ += end + 4;

    std::size_t eol = head.find("\r\n");
    std::string_view request_line = head.substr(0, eol);
    std::size_t sp1 = request_line.find(' ');
    std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) throw Malformed{"bad request line"};
    std::string_view method = request_line.substr(0, sp1);
    std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = request_line.substr(sp2 + 1);
    if (!is_token(method) || target.empty() || target.find(' ') != std::string_view::npos ||
        (version != "HTTP/1.1" && version != "HTTP/1.0")) {
      throw Malformed{"bad request line"};
    }
    log_->push_back("request " + std::string(method) + " " + std::string(target) + " " + std::string(version));

    std::optional<std::size_t> content_length;
    bool chunked = false;
    std::size_t fields = 0;
    for (std::size_t at = eol + 2; at < head.size();) {
      std::size_t next = head.find("\r\n", at);
      std::string_view field = head.substr(at, next - at);
      at = next + 2;
      if (++fields > kMaxHeaders) throw Malformed{"too many header fields"};
      std::size_t colon = field.find(':');
      if (colon == std::string_view::npos || !is_token(field.substr(0, colon))) throw Malformed{"bad header field"};
      std::string name = lower(field.substr(0, colon));
      std::string_view value = trim(field.substr(colon + 1));
      log_->push_back("header " + name + ": " + std::string(value));
      if (name == "content-length") {
        auto n = parse_number(value, 10, kMaxBody);
        if (!n || (content_length && *content_length != *n)) throw Malformed{"bad content-length"};
        content_length = n;
      } else if (name == "transfer-encoding") {
        if (lower(value) != "chunked") throw Malformed{"unsupported transfer-encoding"};
        chunked = true;
      }
    }
    if (chunked && content_length) throw Malformed{"both content-length and chunked"};
    body_ = Digest{};
    body_size_ = 0;
    if (chunked) {
      state_ = State::ChunkSize;
    } else {
      remaining_ = content_length.value_or(0);
      state_ = State::Body;
    }
    return true;
  }

  void finish() {
    log_->push_back("body " + std::to_string(body_size_) + " " + body_.hex());
    log_->push_back("end");
    transport_->write("HTTP/1.1 204 No Content\r\n\r\n");
    state_ = State::Head;
  }

  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ already parsed
  State state_ = State::Head;
  std::size_t remaining_ = 0;
  Digest body_;
  std::size_t body_size_ = 0;
  bool failed_ = false;
};

}  // namespace

Subject http_request_subject() { return subject_of<HttpRequestProtocol>(); }

}  // namespace loopspec::fuzz::protocols
