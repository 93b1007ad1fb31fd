// Text made safe for the report formats.
//
// Every string a report shows comes from a backend, a trace or a results file
// and is untrusted. Promises, whatever the input bytes:
// - the result is valid UTF-8: invalid or overlong sequences, surrogates and
//   code points past U+10FFFF become U+FFFD;
// - it holds only characters XML 1.0 allows: C0 controls other than tab, LF
//   and CR, and U+FFFE/U+FFFF, become U+FFFD too (so JUnit XML stays
//   well-formed);
// - escape_markup output contains no markup: & < > " ' are references, so it
//   is safe in HTML and XML text and in quoted attribute values alike.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace loopspec::reports {

// Valid UTF-8 of XML-allowed characters, nothing else changed.
std::string sanitize_text(std::string_view text);

// sanitize_text, then & < > " ' as character references.
std::string escape_markup(std::string_view text);

// One line of Markdown (GitHub flavour) that renders as the literal text:
// sanitized, line breaks as spaces, < > & as references, and every ASCII
// punctuation character Markdown could read as syntax backslash-escaped.
std::string escape_markdown(std::string_view text);

// At most max_bytes of sanitized text, cut on a character boundary, with "…"
// appended when something was cut.
std::string shorten(std::string_view text, std::size_t max_bytes);

// A string usable in an HTML id and a URL fragment: [A-Za-z0-9._-] kept,
// anything else as "_XX" (hex of the byte), so distinct inputs stay distinct.
std::string anchor_id(std::string_view prefix, std::string_view text);

}  // namespace loopspec::reports
