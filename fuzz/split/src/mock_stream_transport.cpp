#include "loopspec/fuzz/mock_stream_transport.hpp"

#include <algorithm>
#include <cstring>

#include "loopspec/error.hpp"

namespace loopspec::fuzz {

void MockStreamTransport::adopt(std::shared_ptr<StreamProtocol> protocol) {
  protocol_ = std::move(protocol);
  plain_ = dynamic_cast<Protocol*>(protocol_.get());
  buffered_ = plain_ != nullptr ? nullptr : dynamic_cast<BufferedProtocol*>(protocol_.get());
}

void MockStreamTransport::connect(std::shared_ptr<StreamProtocol> protocol) {
  adopt(std::move(protocol));
  guarded([&] { protocol_->connection_made(shared_from_this()); });
}

void MockStreamTransport::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto stream = std::dynamic_pointer_cast<StreamProtocol>(protocol);
  if (!stream) throw ContractError(Error{"TypeError", 0, "a stream transport needs a Protocol or BufferedProtocol"});
  adopt(std::move(stream));
}

void MockStreamTransport::fail(const std::exception& e) {
  actions_.push_back(std::string("exception: ") + e.what());
  closing_ = true;
  lose(Error{"RuntimeError", 0, e.what()});
}

void MockStreamTransport::lose(MaybeError error) {
  if (!pending_loss_ && !lost_) pending_loss_ = std::move(error);
}

void MockStreamTransport::pump() {
  while (!closing_ && reading_ && read_once()) {
  }
  if (!closing_ && reading_ && !unread() && eof_fed_ && !eof_delivered_) {
    eof_delivered_ = true;
    bool keep_open = false;
    guarded([&] { keep_open = protocol_->eof_received(); });
    if (!keep_open) close();
  }
  if (pending_loss_ && !lost_) {
    lost_ = true;
    MaybeError error = std::move(*pending_loss_);
    pending_loss_.reset();
    guarded([&] { protocol_->connection_lost(error); });
    // As asyncio does: the protocol, which may hold this transport, is let go.
    adopt(nullptr);
  }
}

void MockStreamTransport::pop_read() {
  read_offset_ = 0;
  if (++next_read_ == reads_.size()) {
    reads_.clear();
    next_read_ = 0;
  }
}

bool MockStreamTransport::read_once() {
  if (!unread()) return false;
  if (auto* plain = plain_) {
    std::string data = std::move(reads_[next_read_]);
    data.erase(0, read_offset_);  // what a BufferedProtocol before a set_protocol left of it
    pop_read();
    guarded([&] { plain->data_received(data); });
    return true;
  }
  auto* buffered = buffered_;
  if (buffered == nullptr) {
    contract_breach_ = "the protocol is neither a Protocol nor a BufferedProtocol";
    abort();
    return false;
  }
  std::int64_t hint = size_hints_[next_hint_++ % size_hints_.size()];
  std::span<char> buffer;
  guarded([&] { buffer = buffered->get_buffer(hint); });
  if (closing_) return false;
  if (buffer.empty()) {
    contract_breach_ = "get_buffer(" + std::to_string(hint) + ") returned an empty buffer";
    abort();
    return false;
  }
  // Looked up after get_buffer: a callback that fed a chunk may have moved the others.
  const std::string& chunk = reads_[next_read_];
  std::size_t n = std::min(buffer.size(), chunk.size() - read_offset_);
  std::memcpy(buffer.data(), chunk.data() + read_offset_, n);
  read_offset_ += n;
  if (read_offset_ == chunk.size()) pop_read();
  guarded([&] { buffered->buffer_updated(n); });
  return true;
}

void MockStreamTransport::close() {
  if (closing_) return;
  actions_.push_back("close");
  closing_ = true;
  lose(std::nullopt);
}

void MockStreamTransport::abort() {
  if (lost_ || pending_loss_) return;
  actions_.push_back("abort");
  closing_ = true;
  lose(std::nullopt);
}

void MockStreamTransport::set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) {
  // asyncio's _set_write_buffer_limits.
  std::int64_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
  std::int64_t l = low ? *low : h / 4;
  if (!(h >= l && l >= 0)) {
    throw ContractError(Error{"ValueError", 0, "high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ") must be >= 0"});
  }
  limits_ = WriteBufferLimits{l, h};
}

void MockStreamTransport::write(std::string_view data) {
  if (eof_written_) throw ContractError(Error{"RuntimeError", 0, "Cannot call write() after write_eof()"});
  if (closing_) return;  // asyncio logs and drops writes to a lost connection
  written_.append(data);
}

void MockStreamTransport::writelines(std::span<const std::string_view> list_of_data) {
  for (std::string_view data : list_of_data) write(data);
}

void MockStreamTransport::write_eof() {
  if (closing_ || eof_written_) return;
  actions_.push_back("write_eof");
  eof_written_ = true;
}

}  // namespace loopspec::fuzz
