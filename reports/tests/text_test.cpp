// Escaping and sanitising of untrusted text for HTML, XML and Markdown.
// Harness machinery test (report rendering; no contract rule).
#include "loopspec/reports/text.hpp"

#include <gtest/gtest.h>

namespace loopspec::reports {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Text, EscapeMarkupLeavesNoMarkupCharacters) {
  EXPECT_EQ(escape_markup("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(escape_markup("a & \"b\" 'c'"), "a &amp; &quot;b&quot; &#39;c&#39;");
  EXPECT_EQ(escape_markup("caf\xC3\xA9 \xE2\x9C\x93"), "caf\xC3\xA9 \xE2\x9C\x93");  // valid UTF-8 kept
}

TEST(Text, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(sanitize_text("a\xFF" "b"), "a" + kFffd + "b");
  EXPECT_EQ(sanitize_text("\xC0\xAF"), kFffd + kFffd);                  // overlong '/'
  EXPECT_EQ(sanitize_text("\xED\xA0\x80"), kFffd + kFffd + kFffd);      // a UTF-16 surrogate
  EXPECT_EQ(sanitize_text("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // past U+10FFFF
  EXPECT_EQ(sanitize_text("\xE2\x9C"), kFffd + kFffd);                  // truncated sequence
  EXPECT_EQ(sanitize_text("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");     // U+1F600 kept
}

TEST(Text, CharactersXmlForbidsAreReplaced) {
  EXPECT_EQ(sanitize_text(std::string("a\0b", 3)), "a" + kFffd + "b");
  EXPECT_EQ(sanitize_text("\x01\x1B"), kFffd + kFffd);
  EXPECT_EQ(sanitize_text("\xEF\xBF\xBE"), kFffd);  // U+FFFE
  EXPECT_EQ(sanitize_text("tab\tlf\ncr\r"), "tab\tlf\ncr\r");
}

TEST(Text, MarkdownEscapesSyntaxAndHtml) {
  EXPECT_EQ(escape_markdown("*a* [b](c) <i>"), "\\*a\\* \\[b\\]\\(c\\) &lt;i&gt;");
  EXPECT_EQ(escape_markdown("a|b\nc"), "a\\|b c");
  EXPECT_EQ(escape_markdown("`x` _y_ # z"), "\\`x\\` \\_y\\_ \\# z");
}

TEST(Text, ShortenCutsOnACharacterBoundary) {
  EXPECT_EQ(shorten("abc", 3), "abc");
  EXPECT_EQ(shorten("abcdef", 3), "abc\xE2\x80\xA6");
  // "é" is two bytes: a cut inside it backs off to before it.
  EXPECT_EQ(shorten("a\xC3\xA9z", 2), "a\xE2\x80\xA6");
}

TEST(Text, AnchorIdsAreSafeAndDistinct) {
  EXPECT_EQ(anchor_id("r-", "flow.pause.strictly-over-high"), "r-flow.pause.strictly-over-high");
  EXPECT_EQ(anchor_id("f-", "a[b] c"), "f-a_5bb_5d_20c");
  EXPECT_NE(anchor_id("", "a_5b"), anchor_id("", "a["));
  EXPECT_EQ(anchor_id("", "\"><script>").find_first_of("<>\"' "), std::string::npos);
}

}  // namespace
}  // namespace loopspec::reports
