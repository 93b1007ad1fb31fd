#include "loopspec/remote/wire.hpp"

#include <array>

namespace loopspec::remote {

using nlohmann::json;

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int, 256> decoding_table() {
  std::array<int, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = i;
  return table;
}

std::string describe(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

}  // namespace

std::string encode_base64(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (std::uint32_t(std::uint8_t(data[i])) << 16) | (std::uint32_t(std::uint8_t(data[i + 1])) << 8) |
                      std::uint8_t(data[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t(std::uint8_t(data[i])) << 16;
    if (rest == 2) v |= std::uint32_t(std::uint8_t(data[i + 1])) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> decode_base64(std::string_view text) {
  static constexpr auto kTable = decoding_table();
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int padding = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=') {
        // Padding only in the last group's last two places, and nothing after it.
        if (i + 4 != text.size() || k < 2) return std::nullopt;
        ++padding;
        v[k] = 0;
        continue;
      }
      if (padding > 0) return std::nullopt;
      v[k] = kTable[static_cast<unsigned char>(c)];
      if (v[k] < 0) return std::nullopt;
    }
    std::uint32_t bits = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) | (std::uint32_t(v[2]) << 6) | v[3];
    out += static_cast<char>(bits >> 16);
    if (padding < 2) out += static_cast<char>((bits >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(bits & 0xff);
  }
  return out;
}

json to_json(const Error& error) {
  return json{{"type", error.type}, {"errno", error.errnum}, {"message", error.message}};
}

json parse_message(std::string_view line) {
  // Bound the nesting before parsing: the parser itself recurses.
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : line) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) throw DriverFailure("a message nests deeper than " + std::to_string(kMaxDepth) + " levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  json message;
  try {
    message = json::parse(line.begin(), line.end());
  } catch (const json::parse_error& e) {
    std::string start(line.substr(0, 80));
    throw DriverFailure("a message is not JSON (byte " + std::to_string(e.byte) + "): " +
                        json(start).dump(-1, ' ', false, json::error_handler_t::replace));
  } catch (const json::out_of_range& e) {
    // A number too large for a double: valid syntax, yet no JSON value nlohmann can hold.
    throw DriverFailure(std::string("a message holds a number out of range: ") + e.what());
  }
  if (!message.is_object()) throw DriverFailure("a message is not a JSON object: " + describe(message));
  return message;
}

void MessageView::fail(const char* field, const std::string& what) const {
  throw DriverFailure(what_ + ": field '" + field + "': " + what);
}

const json& MessageView::field(const char* name) const {
  auto it = message_.find(name);
  if (it == message_.end()) fail(name, "missing");
  return *it;
}

std::uint64_t MessageView::id(const char* name) const {
  const json& v = field(name);
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0) fail(name, "expected a positive integer, got " + describe(v));
  return v.get<std::uint64_t>();
}

std::int64_t MessageView::integer(const char* name) const {
  const json& v = field(name);
  if (!v.is_number_integer()) fail(name, "expected an integer, got " + describe(v));
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    fail(name, "integer out of range: " + describe(v));
  }
  return v.get<std::int64_t>();
}

bool MessageView::boolean(const char* name) const {
  const json& v = field(name);
  if (!v.is_boolean()) fail(name, "expected a boolean, got " + describe(v));
  return v.get<bool>();
}

const std::string& MessageView::string(const char* name) const {
  const json& v = field(name);
  if (!v.is_string()) fail(name, "expected a string, got " + describe(v));
  return v.get_ref<const std::string&>();
}

const json& MessageView::value(const char* name) const { return field(name); }

std::string MessageView::blob(const char* name) const {
  const json& v = field(name);
  if (v.is_string()) {
    auto decoded = decode_base64(v.get_ref<const std::string&>());
    if (!decoded) fail(name, "not valid base64");
    return std::move(*decoded);
  }
  if (v.is_object() && v.size() == 1 && v.contains("staged") && v["staged"].is_number_unsigned()) {
    auto size = v["staged"].get<std::uint64_t>();
    std::size_t available = staged_ ? staged_->size() : 0;
    if (size > available) {
      fail(name, "names " + std::to_string(size) + " staged bytes, " + std::to_string(available) + " were staged");
    }
    std::string data = staged_->substr(0, size);
    staged_->erase(0, size);
    return data;
  }
  fail(name, "expected base64 text or {\"staged\": n}, got " + describe(v));
}

MaybeError MessageView::error(const char* name) const {
  const json& v = field(name);
  if (v.is_null()) return std::nullopt;
  if (!v.is_object()) fail(name, "expected {\"type\", \"errno\", \"message\"} or null, got " + describe(v));
  MessageView inner(v, what_ + ": field '" + name + "'");
  Error e;
  e.type = inner.string("type");
  if (e.type.empty()) inner.fail("type", "empty");
  std::int64_t errnum = inner.integer("errno");
  if (errnum < 0 || errnum > INT32_MAX) inner.fail("errno", "out of range: " + std::to_string(errnum));
  e.errnum = static_cast<int>(errnum);
  e.message = inner.string("message");
  for (const auto& item : v.items()) {
    if (item.key() != "type" && item.key() != "errno" && item.key() != "message") inner.fail(item.key().c_str(), "unknown field");
  }
  return e;
}

}  // namespace loopspec::remote
