#include "loopspec/reports/markdown_summary.hpp"

#include <fmt/core.h>

#include "loopspec/reports/text.hpp"

namespace loopspec::reports {

namespace {

constexpr Verdict kColumns[] = {Verdict::Pass, Verdict::Fail,  Verdict::NonStrict, Verdict::Info,
                                Verdict::Unsupported, Verdict::Error, Verdict::Untested};

std::string md(std::string_view text, std::size_t max_bytes = 200) { return escape_markdown(shorten(text, max_bytes)); }

std::string status(const RunResults& r) {
  std::size_t failures = r.unexpected_failures();
  if (failures) return fmt::format("\u274C {} unexpected FAIL/ERROR", failures);
  if (r.unexpected()) return fmt::format("\u26A0\uFE0F {} unexpected", r.unexpected());
  return "\u2705 as expected";
}

}  // namespace

std::string render_markdown_summary(const ReportModel& model, std::size_t max_items) {
  std::string out;
  std::string profiles;
  for (const auto& p : model.profiles()) profiles += (profiles.empty() ? "" : ", ") + md(p, 20);
  out += fmt::format("## loopspec conformance: {} run{}, profile {}\n\n", model.runs().size(),
                     model.runs().size() == 1 ? "" : "s", profiles);
  out += "| Run | Status |";
  for (Verdict v : kColumns) out += fmt::format(" {} |", to_string(v));
  out += "\n|---|---|";
  for (std::size_t i = 0; i < std::size(kColumns); ++i) out += "---:|";
  out += "\n";
  for (const auto& run : model.runs()) {
    out += "| " + md(run.label(), 120) + " | " + status(run.results()) + " |";
    for (Verdict v : kColumns) out += fmt::format(" {} |", run.results().count(v));
    out += "\n";
  }

  bool any_unexpected = false;
  for (const auto& run : model.runs()) any_unexpected = any_unexpected || run.results().unexpected();
  if (any_unexpected) {
    out += "\n### Unexpected results\n";
    for (const auto& run : model.runs()) {
      std::vector<const RuleOutcome*> items;
      for (const auto& r : run.results().rules) {
        if (!r.expected) items.push_back(&r);
      }
      if (items.empty()) continue;
      out += "\n**" + md(run.label(), 120) + "**\n\n";
      for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
        out += "- " + std::string(to_string(items[i]->verdict)) + " " + md(items[i]->id, 120);
        if (!items[i]->message.empty()) out += ": " + md(items[i]->message);
        out += "\n";
      }
      if (items.size() > max_items) out += fmt::format("- and {} more\n", items.size() - max_items);
    }
  }

  bool any_baseline = false;
  for (const auto& run : model.runs()) any_baseline = any_baseline || run.baseline().has_value();
  if (any_baseline) out += "\n### Against the baseline\n\n";
  for (const auto& run : model.runs()) {
    if (!run.baseline()) continue;
    const auto& cmp = *run.baseline();
    if (cmp.changes().empty()) {
      out += "- **" + md(run.label(), 120) + "**: every verdict as before\n";
      continue;
    }
    out += fmt::format("- **{}**: {} new failure{}, {} new pass{}, {} other change{}\n", md(run.label(), 120),
                       cmp.count(Change::NewFailure), cmp.count(Change::NewFailure) == 1 ? "" : "s",
                       cmp.count(Change::NewPass), cmp.count(Change::NewPass) == 1 ? "" : "es", cmp.count(Change::Other),
                       cmp.count(Change::Other) == 1 ? "" : "s");
    // New failures, then new passes (changes() lists them first); other changes only in index.html.
    std::size_t shown = 0;
    for (const auto& c : cmp.changes()) {
      if (c.change == Change::Other) break;
      if (shown++ == max_items) {
        out += "  - and more in index.html\n";
        break;
      }
      out += fmt::format("  - {} {}: {} \u2192 {}\n", to_string(c.change), md(c.rule, 120),
                         c.before ? to_string(*c.before) : "absent", c.after ? to_string(*c.after) : "absent");
    }
  }
  if (!model.catalogue()) out += "\nRules catalogue unavailable: " + md(model.catalogue_problem(), 300) + "\n";
  out += "\nThe full report: `index.html` (matrix, failures with their traces, differences); JUnit XML: `junit.xml`.\n";
  return out;
}

}  // namespace loopspec::reports
