// Every string from a backend, a trace or a results file is escaped: none
// becomes markup in index.html, junit.xml or summary.md, and every output is
// valid UTF-8. Harness machinery test (report rendering; no contract rule).
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "hostile_fixture.hpp"
#include "loopspec/reports/html_report.hpp"
#include "loopspec/reports/junit_report.hpp"
#include "loopspec/reports/markdown_summary.hpp"
#include "loopspec/reports/report.hpp"
#include "process.hpp"

namespace loopspec::reports {
namespace {

namespace fs = std::filesystem;

// An independent UTF-8 check (not the code under test).
bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    static const std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// Scans the page the way an HTML tokenizer finds tags and returns what is
// wrong: a tag or attribute the renderer never writes, a second script, a
// link out of the page (no src attribute is allowed at all).
std::string markup_problems(const std::string& html) {
  static const std::set<std::string> kTags{
      "html", "head", "meta", "title", "style", "body", "header", "div", "h1", "h2", "h3", "h4", "h5", "p", "nav", "a",
      "span", "main", "section", "article", "b", "i", "ul", "li", "details", "summary", "table", "thead", "tbody",
      "tr", "th", "td", "code", "pre", "blockquote", "footer", "script", "colgroup", "col"};
  static const std::set<std::string> kAttributes{"lang", "charset", "name", "content", "class", "id", "href",
                                                 "title", "style", "colspan", "rowspan", "open", "aria-hidden",
                                                 "data-f", "data-u", "data-d", "data-expand"};
  std::string problems;
  std::size_t scripts = 0;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string::npos) {
    if (html.compare(i, 15, "<!DOCTYPE html>") == 0) {
      i += 15;
      continue;
    }
    std::size_t j = i + 1;
    bool closing = j < html.size() && html[j] == '/';
    if (closing) ++j;
    std::size_t name_start = j;
    while (j < html.size() && (std::isalnum(static_cast<unsigned char>(html[j])))) ++j;
    std::string name = html.substr(name_start, j - name_start);
    if (!kTags.count(name)) problems += "tag <" + html.substr(i, 40) + "\n";
    // Attributes: name, optionally ="value" (values never hold a double quote).
    while (j < html.size() && html[j] != '>') {
      if (std::isspace(static_cast<unsigned char>(html[j]))) {
        ++j;
        continue;
      }
      std::size_t a = j;
      while (j < html.size() && (std::isalnum(static_cast<unsigned char>(html[j])) || html[j] == '-')) ++j;
      std::string attribute = html.substr(a, j - a);
      if (attribute.empty() || !kAttributes.count(attribute)) {
        problems += "attribute '" + html.substr(a, 30) + "' in <" + name + ">\n";
        ++j;
        continue;
      }
      if (j < html.size() && html[j] == '=') {
        if (html[j + 1] != '"') problems += "unquoted value of " + attribute + "\n";
        // Links stay inside the page: nothing is fetched, nothing runs.
        if (attribute == "href" && html[j + 2] != '#') problems += "a link out of the page: " + html.substr(a, 40) + "\n";
        j = html.find('"', j + 2) + 1;
      }
    }
    i = j;
    if (!closing && (name == "script" || name == "style")) {
      scripts += name == "script";
      i = html.find("</" + name + ">", i);  // our own CSS/JS, compiled in
      if (i == std::string::npos) return problems + "unterminated <" + name + ">\n";
    }
  }
  if (scripts != 1) problems += std::to_string(scripts) + " <script> elements\n";
  return problems;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Escaping, HostileStringsNeverBecomeHtml) {
  RunResults hostile = testing::hostile_run();
  RunResults clean = testing::small_run("reference", true);
  ReportModel model({{"</code><script>alert(15)</script>.json", hostile}, {"clean.json", clean}}, nullptr,
                    "<b>no catalogue</b>", {{"old.json", testing::hostile_run()}});
  std::string html = render_html(model, compare_runs(model), HtmlOptions{"<now>"});
  EXPECT_TRUE(valid_utf8(html));
  EXPECT_EQ(markup_problems(html), "");
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);  // shown, as text
  EXPECT_NE(html.find("\xEF\xBF\xBD"), std::string::npos);                            // invalid bytes replaced
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);
  // The scanner itself catches injected markup.
  EXPECT_NE(markup_problems(html + "<img src=x onerror=alert(1)>"), "");
  EXPECT_NE(markup_problems(html + "<a href=\"#\" onclick=\"x\">"), "");
  EXPECT_NE(markup_problems(html + "<script>alert(1)</script>"), "");
  EXPECT_NE(markup_problems(html + "<a href=\"https://example.org/\">"), "");
}

TEST(Escaping, HostileStringsKeepJunitAndMarkdownWellFormed) {
  ReportModel model({{"x.json", testing::hostile_run()}}, nullptr, "none", {});
  fs::path dir = testing::output_dir("escaping");
  write_report(model, dir);
  std::string junit = read_file(dir / "junit.xml");
  EXPECT_TRUE(valid_utf8(junit));
  EXPECT_EQ(junit.find("<script"), std::string::npos);
  std::string md = read_file(dir / "summary.md");
  EXPECT_TRUE(valid_utf8(md));
  EXPECT_EQ(md.find('<'), std::string::npos) << md;
  EXPECT_NE(md.find("&lt;script&gt;alert\\(1\\)&lt;/script&gt;"), std::string::npos) << md;
  std::string python = testing::find_program({"python3"});
  if (python.empty()) GTEST_SKIP() << "python3 is not installed: the JUnit schema check needs it";
  auto checked = testing::run_program({python, REPORTS_TEST_DIR "/check_junit.py", (dir / "junit.xml").string()});
  if (checked.status == 3) GTEST_SKIP() << checked.output;
  EXPECT_EQ(checked.status, 0) << checked.output;
}

TEST(Escaping, TheCommandEscapesAHostileResultsFile) {
  fs::path dir = testing::output_dir("escaping-cli");
  write_results(testing::hostile_run(), dir / "results.json");
  auto ran = testing::run_program({LOOPSPEC_BINARY, "report", (dir / "results.json").string(), "--out", (dir / "report").string()});
  ASSERT_EQ(ran.status, 0) << ran.output;
  std::string html = read_file(dir / "report" / "index.html");
  EXPECT_TRUE(valid_utf8(html));
  EXPECT_EQ(markup_problems(html), "");
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

}  // namespace
}  // namespace loopspec::reports
