#include "loopspec/reports/text.hpp"

#include <cstdint>

namespace loopspec::reports {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool xml_allowed(std::uint32_t cp) {
  if (cp < 0x20) return cp == '\t' || cp == '\n' || cp == '\r';
  if (cp >= 0xD800 && cp <= 0xDFFF) return false;
  return cp != 0xFFFE && cp != 0xFFFF && cp <= 0x10FFFF;
}

// Decodes one UTF-8 sequence at text[i]; returns its length, or 0 when it is
// not a valid, shortest-form encoding.
std::size_t decode(std::string_view text, std::size_t i, std::uint32_t& cp) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(i);
  std::size_t len = 0;
  std::uint32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Calls emit(piece, code point) for every character of the sanitized text.
template <class Emit>
void each_char(std::string_view text, Emit emit) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t cp = 0;
    std::size_t len = decode(text, i, cp);
    if (len == 0) {
      emit(kReplacement, 0xFFFD);
      ++i;
    } else if (!xml_allowed(cp)) {
      emit(kReplacement, 0xFFFD);
      i += len;
    } else {
      emit(text.substr(i, len), cp);
      i += len;
    }
  }
}

}  // namespace

std::string sanitize_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  each_char(text, [&](std::string_view piece, std::uint32_t) { out += piece; });
  return out;
}

std::string escape_markup(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  each_char(text, [&](std::string_view piece, std::uint32_t cp) {
    switch (cp) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += piece;
    }
  });
  return out;
}

std::string escape_markdown(std::string_view text) {
  // Inline and block syntax, GitHub's extensions (tables, strikethrough,
  // math, emoji, mentions) and what could start an autolink.
  static constexpr std::string_view kSyntax = "\\`*_{}[]()#+-.!|~=:\"'$@";
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  each_char(text, [&](std::string_view piece, std::uint32_t cp) {
    if (cp == '\n' || cp == '\r' || cp == '\t') {
      out += ' ';
    } else if (cp == '&') {
      out += "&amp;";
    } else if (cp == '<') {
      out += "&lt;";
    } else if (cp == '>') {
      out += "&gt;";
    } else if (cp < 0x80 && kSyntax.find(static_cast<char>(cp)) != std::string_view::npos) {
      out += '\\';
      out += piece;
    } else {
      out += piece;
    }
  });
  return out;
}

std::string shorten(std::string_view text, std::size_t max_bytes) {
  std::string clean = sanitize_text(text);
  if (clean.size() <= max_bytes) return clean;
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(clean[cut]) & 0xC0) == 0x80) --cut;
  clean.resize(cut);
  return clean + "\xE2\x80\xA6";
}

std::string anchor_id(std::string_view prefix, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(prefix);
  for (char c : text) {
    auto b = static_cast<unsigned char>(c);
    bool keep = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '.' || b == '-';
    if (keep) {
      out += c;
    } else {
      out += '_';
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
    }
  }
  return out;
}

}  // namespace loopspec::reports
