#include "loopspec/reports/html_report.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/core.h>

#include "loopspec/reports/assets.hpp"
#include "loopspec/reports/text.hpp"
#include "loopspec/reports/trace_view.hpp"

namespace loopspec::reports {

std::optional<ExpectedObserved> split_expected_observed(const std::string& message) {
  static constexpr std::string_view kExpected = ": expected ";
  static constexpr std::string_view kObserved = ", observed ";
  auto e = message.find(kExpected);
  if (e == std::string::npos) return std::nullopt;
  auto o = message.find(kObserved, e + kExpected.size());
  if (o == std::string::npos) return std::nullopt;
  return ExpectedObserved{message.substr(e + kExpected.size(), o - e - kExpected.size()),
                          message.substr(o + kObserved.size())};
}

namespace {

// Display order: what needs attention first.
constexpr Verdict kVerdictOrder[] = {Verdict::Fail,        Verdict::Error,    Verdict::NonStrict, Verdict::Pass,
                                     Verdict::Info,        Verdict::Unsupported, Verdict::Untested};

std::string_view css_class(Verdict v) {
  switch (v) {
    case Verdict::Pass: return "v-pass";
    case Verdict::Fail: return "v-fail";
    case Verdict::NonStrict: return "v-nonstrict";
    case Verdict::Info: return "v-info";
    case Verdict::Unsupported: return "v-unsupported";
    case Verdict::Error: return "v-error";
    case Verdict::Untested: return "v-untested";
  }
  return "v-untested";
}

// A shape for each verdict, so the verdict never rests on colour alone.
std::string_view icon(Verdict v) {
  switch (v) {
    case Verdict::Pass: return "\u2713";         // check mark
    case Verdict::Fail: return "\u2717";         // ballot x
    case Verdict::NonStrict: return "\u25B3";    // white up-pointing triangle
    case Verdict::Info: return "i";
    case Verdict::Unsupported: return "\u2205";  // empty set
    case Verdict::Error: return "\u26A0";        // warning sign
    case Verdict::Untested: return "?";
  }
  return "?";
}

std::string esc(std::string_view text) { return escape_markup(text); }

int verdict_rank(Verdict v) {
  for (int i = 0; i < 7; ++i) {
    if (kVerdictOrder[i] == v) return i;
  }
  return 7;
}

bool is_known_deviation(const RuleOutcome& r) {
  return r.expected && r.expectation && r.verdict != Verdict::Pass;
}

// <span class="vb v-fail u">✗ FAIL</span>: unexpected results are drawn solid,
// known deviations dashed.
std::string badge(Verdict v, bool unexpected = false, bool known = false) {
  return fmt::format("<span class=\"vb {}{}{}\">{} {}</span>", css_class(v), unexpected ? " u" : "", known ? " k" : "",
                     icon(v), to_string(v));
}

std::string percent(std::size_t part, std::size_t whole) {
  return whole == 0 ? std::string("0") : fmt::format("{:.1f}", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::string quote_revision_label(const std::string& revision) { return "Python " + revision + " documentation"; }

class Page {
 public:
  Page(const ReportModel& model, const std::vector<RunDiff>& diffs, const HtmlOptions& options)
      : model_(model), diffs_(diffs), options_(options) {
    for (std::size_t r = 0; r < model_.runs().size(); ++r) {
      for (const auto& s : model_.runs()[r].results().scenarios) {
        if (is_failing(s.verdict)) failure_ids_[{r, s.key()}] = failure_id(r, s.key());
      }
    }
  }

  std::string render() {
    head();
    out_ += "<main>\n";
    if (!model_.catalogue()) {
      out_ += "<p class=\"warn\" id=\"catalogue-missing\"><b>Rules catalogue unavailable:</b> " +
              esc(model_.catalogue_problem()) + ". The documents' quotes are not shown.</p>\n";
    }
    summary();
    baseline();
    matrix();
    failures();
    differences();
    rules();
    metadata();
    out_ += "</main>\n<footer>Rendered by loopspec " + esc(LOOPSPEC_VERSION) + " (" + esc(LOOPSPEC_REVISION) +
            ") from " + std::to_string(model_.runs().size()) + " results file" +
            (model_.runs().size() == 1 ? "" : "s") + ". Verdicts: spec/results-format.md; rules: spec/rules.</footer>\n";
    out_ += "<script>\n";
    out_ += kReportJs;
    out_ += "</script>\n</body>\n</html>\n";
    return std::move(out_);
  }

 private:
  using FailureKey = std::pair<std::size_t, std::string>;

  std::string failure_id(std::size_t run, const std::string& key) const {
    return anchor_id("f-", std::to_string(run) + "/" + key);
  }
  static std::string rule_id(const std::string& id) { return anchor_id("r-", id); }
  // "__" never occurs in an anchor_id, so an event's id cannot be another failure's.
  static std::string event_id(const std::string& failure, std::uint64_t seq) { return failure + "__e" + std::to_string(seq); }

  std::string rule_link(const std::string& id) const {
    return "<a href=\"#" + rule_id(id) + "\">" + esc(id) + "</a>";
  }

  std::string message(const std::string& text) const {
    std::string cut = shorten(text, options_.message_bytes);
    return esc(cut);
  }

  std::size_t run_count() const { return model_.runs().size(); }

  // ---- header -------------------------------------------------------------

  void head() {
    std::string labels;
    for (const auto& run : model_.runs()) labels += (labels.empty() ? "" : ", ") + run.label();
    std::string profiles;
    for (const auto& p : model_.profiles()) profiles += (profiles.empty() ? "" : ", ") + p;
    out_ += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"generator\" content=\"loopspec\">\n";
    out_ += "<title>loopspec report: " + esc(shorten(labels, 200)) + "</title>\n<style>\n";
    out_ += kReportCss;
    out_ += "</style>\n</head>\n<body>\n<header class=\"top\">\n<div class=\"wrap\">\n";
    out_ += "<h1>loopspec conformance report</h1>\n";
    out_ += "<p class=\"sub\">asyncio Transports and Protocols &middot; " +
            std::string(model_.profiles().size() == 1 ? "profile " : "profiles ") + esc(profiles) + " &middot; " +
            std::to_string(run_count()) + (run_count() == 1 ? " run" : " runs") + " &middot; " +
            std::to_string(model_.rows().size()) + " rules";
    if (!options_.generated.empty()) out_ += " &middot; generated " + esc(options_.generated);
    out_ += "</p>\n<nav>";
    std::size_t failures = failure_ids_.size();
    out_ += "<a href=\"#summary\">Summary</a>";
    if (has_baseline()) out_ += "<a href=\"#baseline\">Baseline</a>";
    out_ += "<a href=\"#matrix\">Matrix</a>";
    out_ += "<a href=\"#failures\">Failures <span class=\"n\">" + std::to_string(failures) + "</span></a>";
    out_ += "<a href=\"#diff\">Differences <span class=\"n\">" + std::to_string(diffs_.size()) + "</span></a>";
    out_ += "<a href=\"#rules\">Rules</a><a href=\"#runs\">Runs</a></nav>\n</div>\n</header>\n";
  }

  bool has_baseline() const {
    return std::any_of(model_.runs().begin(), model_.runs().end(),
                       [](const ReportRun& r) { return r.baseline().has_value(); });
  }

  // ---- summary ------------------------------------------------------------

  void summary() {
    out_ += "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n";
    for (std::size_t r = 0; r < run_count(); ++r) card(r);
    out_ += "</div>\n";
    section_rates();
    out_ += "</section>\n";
  }

  void card(std::size_t index) {
    const ReportRun& run = model_.runs()[index];
    const RunResults& res = run.results();
    std::size_t unexpected = res.unexpected();
    out_ += fmt::format("<article class=\"card{}\" id=\"{}\">\n", unexpected ? " has-unexpected" : "",
                        anchor_id("s-", std::to_string(index)));
    out_ += "<h3>" + esc(run.label()) + "</h3>\n<p class=\"meta\"><span>" + esc(res.backend.implementation) + " " +
            esc(res.backend.version) + "</span> &middot; <span>profile " + esc(res.profile) + "</span> &middot; <span>" +
            esc(res.started) + "</span> &middot; <span>" + fmt::format("{:.1f} s", res.duration_s) + "</span></p>\n";
    if (res.interrupted) out_ += "<p class=\"warn\">This run was interrupted: its results are partial.</p>\n";
    out_ += "<p class=\"counts\">";
    for (Verdict v : kVerdictOrder) {
      std::size_t n = res.count(v);
      out_ += fmt::format("<span class=\"vb {}{}\">{} {} <b>{}</b></span> ", css_class(v), n ? "" : " zero", icon(v),
                          to_string(v), n);
    }
    out_ += "</p>\n<div class=\"bar\" aria-hidden=\"true\">";
    for (Verdict v : kVerdictOrder) {
      std::size_t n = res.count(v);
      if (n) out_ += fmt::format("<span class=\"{}\" style=\"width:{}%\"></span>", css_class(v), percent(n, res.rules.size()));
    }
    out_ += "</div>\n";
    std::vector<const RuleOutcome*> surprises, known;
    for (const auto& r : res.rules) {
      if (!r.expected) surprises.push_back(&r);
      else if (is_known_deviation(r)) known.push_back(&r);
    }
    auto by_severity = [](const RuleOutcome* a, const RuleOutcome* b) { return verdict_rank(a->verdict) < verdict_rank(b->verdict); };
    std::stable_sort(surprises.begin(), surprises.end(), by_severity);
    if (surprises.empty()) {
      out_ += "<p class=\"ok\">No unexpected results.</p>\n";
    } else {
      out_ += fmt::format("<h4>Unexpected results <span class=\"n\">{}</span></h4>\n", surprises.size());
      finding_list(surprises, options_.summary_items, true);
    }
    if (!known.empty()) {
      out_ += fmt::format("<details class=\"known\"><summary>Known deviations <span class=\"n\">{}</span> "
                          "(listed in the backend's expectations)</summary>\n", known.size());
      finding_list(known, options_.summary_items, false);
      out_ += "</details>\n";
    }
    out_ += "</article>\n";
  }

  void finding_list(const std::vector<const RuleOutcome*>& items, std::size_t limit, bool unexpected) {
    out_ += "<ul class=\"findings\">\n";
    for (std::size_t i = 0; i < items.size() && i < limit; ++i) {
      const RuleOutcome& r = *items[i];
      std::string note = !unexpected && r.expectation ? "known: " + r.expectation->reason : r.message;
      out_ += "<li>" + badge(r.verdict, unexpected, !unexpected) + " " + rule_link(r.id);
      if (!note.empty()) {
        out_ += "<span class=\"msg\" title=\"" + esc(shorten(note, 600)) + "\">" + esc(shorten(note, 300)) + "</span>";
      }
      out_ += "</li>\n";
    }
    if (items.size() > limit) {
      out_ += fmt::format("<li class=\"more\">and {} more in the <a href=\"#matrix\">matrix</a> and under "
                          "<a href=\"#failures\">failures</a></li>\n",
                          items.size() - limit);
    }
    out_ += "</ul>\n";
  }

  void section_rates() {
    out_ += "<h3>Pass rate by section</h3>\n<p class=\"note\">PASS and INFO over the rules a run exercised "
            "(UNSUPPORTED and UNTESTED rules are not counted).</p>\n";
    out_ += "<table class=\"rates\">\n<thead><tr><th>Section</th><th>Rules</th>";
    for (const auto& run : model_.runs()) out_ += "<th>" + esc(run.label()) + "</th>";
    out_ += "</tr></thead>\n<tbody>\n";
    for (const auto& section : model_.sections()) {
      out_ += "<tr><th>" + esc(section.name) + "</th><td class=\"num\">" + std::to_string(section.rows.size()) + "</td>";
      for (const auto& run : model_.runs()) {
        std::size_t held = 0, exercised = 0, failing = 0;
        for (std::size_t row : section.rows) {
          const RuleOutcome* o = run.rule(model_.rows()[row].id);
          if (!o || o->verdict == Verdict::Unsupported || o->verdict == Verdict::Untested) continue;
          ++exercised;
          if (o->verdict == Verdict::Pass || o->verdict == Verdict::Info) ++held;
          if (is_failing(o->verdict)) ++failing;
        }
        if (exercised == 0) {
          out_ += "<td class=\"rate none\">not exercised</td>";
          continue;
        }
        // Rounded down, so 100% means every exercised rule held.
        out_ += fmt::format("<td class=\"rate{}\"><span class=\"meter\"><span style=\"width:{}%\"></span></span> "
                            "{}% <span class=\"muted\">{}/{}</span></td>",
                            failing ? " bad" : "", percent(held, exercised), held * 100 / exercised, held, exercised);
      }
      out_ += "</tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
  }

  // ---- baseline -----------------------------------------------------------

  void baseline() {
    if (!has_baseline()) return;
    out_ += "<section id=\"baseline\">\n<h2>Against the baseline</h2>\n";
    for (const auto& run : model_.runs()) {
      if (!run.baseline()) continue;
      const auto& cmp = *run.baseline();
      const ReportRun& base = model_.baselines()[*run.baseline_index()];
      out_ += "<h3>" + esc(run.label()) + " <span class=\"muted\">against " + esc(base.source()) + " (" +
              esc(base.results().started) + ")</span></h3>\n";
      out_ += fmt::format("<p class=\"counts\"><span class=\"chg new-fail\">\u25BC {} new failure{}</span> "
                          "<span class=\"chg new-pass\">\u25B2 {} new pass{}</span> <span class=\"chg other\">"
                          "\u0394 {} other change{}</span></p>\n",
                          cmp.count(Change::NewFailure), cmp.count(Change::NewFailure) == 1 ? "" : "s",
                          cmp.count(Change::NewPass), cmp.count(Change::NewPass) == 1 ? "" : "es",
                          cmp.count(Change::Other), cmp.count(Change::Other) == 1 ? "" : "s");
      if (cmp.changes().empty()) {
        out_ += "<p class=\"ok\">Every verdict is as in the baseline.</p>\n";
        continue;
      }
      out_ += "<table class=\"changes\">\n<thead><tr><th>Change</th><th>Rule</th><th>Baseline</th><th>Now</th>"
              "<th>Message</th></tr></thead>\n<tbody>\n";
      for (const auto& c : cmp.changes()) {
        const RuleOutcome* now = run.rule(c.rule);
        out_ += fmt::format("<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"msg\">{}</td></tr>\n",
                            change_class(c.change), change_label(c.change), rule_link(c.rule),
                            c.before ? badge(*c.before) : "<span class=\"muted\">absent</span>",
                            c.after ? badge(*c.after, now && !now->expected) : "<span class=\"muted\">absent</span>",
                            now ? message(now->message) : "");
      }
      out_ += "</tbody>\n</table>\n";
    }
    out_ += "</section>\n";
  }

  static std::string_view change_class(Change c) {
    switch (c) {
      case Change::NewFailure: return "new-fail";
      case Change::NewPass: return "new-pass";
      case Change::Other: return "other";
    }
    return "other";
  }
  static std::string change_label(Change c) {
    switch (c) {
      case Change::NewFailure: return "<span class=\"chg new-fail\">\u25BC new failure</span>";
      case Change::NewPass: return "<span class=\"chg new-pass\">\u25B2 new pass</span>";
      case Change::Other: return "<span class=\"chg other\">\u0394 changed</span>";
    }
    return {};
  }

  // ---- matrix -------------------------------------------------------------

  void matrix() {
    out_ += "<section id=\"matrix\">\n<h2>Matrix</h2>\n";
    // Each legend entry on one line: a sample and what it means stay together.
    out_ += "<p class=\"legend\">Rules in document order, grouped by section; one column per run. "
            "<span class=\"item\"><span class=\"vb v-fail u\">\u2717 FAIL</span><b class=\"tag u\">!</b> solid with "
            "<b>!</b>: unexpected (not in the backend's expectations).</span> <span class=\"item\"><span "
            "class=\"vb v-fail k\">\u2717 FAIL</span><i class=\"tag k\">known</i> dashed: a known deviation.</span> " +
            std::string(has_baseline() ? "<span class=\"item\"><span class=\"chg new-fail\">\u25BC new</span> "
                                         "<span class=\"chg new-pass\">\u25B2 fixed</span> against the baseline.</span> "
                                       : "") +
            "<span class=\"item\">&mdash; the run did not report the rule.</span></p>\n";
    out_ += "<div id=\"matrix-filters\" class=\"filters\"></div>\n";
    // Not in a scrolling box: the sticky column headers stick to the page.
    out_ += "<table class=\"matrix\" id=\"matrix-table\">\n<thead><tr><th class=\"rule-col\">Rule</th>"
            "<th>Level</th>";
    // Run columns share the room the rule column leaves, equally.
    std::string width = fmt::format("{:.1f}", std::min(16.0, 62.0 / static_cast<double>(std::max<std::size_t>(1, run_count()))));
    for (const auto& run : model_.runs()) {
      out_ += "<th class=\"run-col\" style=\"width:" + width + "%\" title=\"" + esc(run.source()) + "\">" +
              esc(run.label()) + "</th>";
    }
    out_ += "</tr></thead>\n";
    for (const auto& section : model_.sections()) {
      out_ += fmt::format("<tbody class=\"section\"><tr class=\"sec-h\"><th colspan=\"{}\">{} <span class=\"muted\">{} "
                          "rule{}</span></th></tr>\n",
                          2 + run_count(), esc(section.name), section.rows.size(), section.rows.size() == 1 ? "" : "s");
      for (std::size_t row : section.rows) matrix_row(model_.rows()[row]);
      out_ += "</tbody>\n";
    }
    out_ += "</table>\n</section>\n";
  }

  void matrix_row(const RuleRow& row) {
    bool failing = false, unexpected = false, differs = false;
    std::optional<Verdict> first;
    std::string cells;
    for (const auto& run : model_.runs()) {
      const RuleOutcome* o = run.rule(row.id);
      if (!o) {
        cells += "<td class=\"c none\">&mdash;</td>";
        differs = true;
        continue;
      }
      if (first && *first != o->verdict) differs = true;
      if (!first) first = o->verdict;
      failing = failing || is_failing(o->verdict);
      unexpected = unexpected || !o->expected;
      bool known = is_known_deviation(*o);
      std::string title = o->message.empty() ? std::string() : " title=\"" + esc(shorten(o->message, 240)) + "\"";
      cells += fmt::format("<td class=\"c {}{}{}\"{}>{} {}", css_class(o->verdict), o->expected ? "" : " u",
                           known ? " k" : "", title, icon(o->verdict), to_string(o->verdict));
      if (!o->expected) cells += "<b class=\"tag u\" title=\"unexpected\">!</b>";
      if (known) cells += "<i class=\"tag k\">known</i>";
      if (run.baseline()) {
        if (const VerdictChange* c = run.baseline()->find(row.id)) {
          if (c->change == Change::NewFailure) cells += "<span class=\"chg new-fail\">\u25BC new</span>";
          if (c->change == Change::NewPass) cells += "<span class=\"chg new-pass\">\u25B2 fixed</span>";
          if (c->change == Change::Other) {
            cells += "<span class=\"chg other\" title=\"was " +
                     std::string(c->before ? to_string(*c->before) : "absent") + "\">\u0394</span>";
          }
        }
      }
      cells += "</td>";
    }
    out_ += fmt::format("<tr class=\"rr\"{}{}{}><th><a href=\"#{}\">{}</a><span class=\"title\">{}</span></th>"
                        "<td class=\"lvl\">{}</td>{}</tr>\n",
                        failing ? " data-f=\"1\"" : "", unexpected ? " data-u=\"1\"" : "", differs ? " data-d=\"1\"" : "",
                        rule_id(row.id), esc(row.id), esc(row.title), esc(row.level), cells);
  }

  // ---- failures -----------------------------------------------------------

  struct Failure {
    std::size_t run;
    const ScenarioOutcome* scenario;
    bool unexpected;
  };

  std::vector<Failure> collect_failures() const {
    std::vector<Failure> all;
    for (std::size_t r = 0; r < run_count(); ++r) {
      const ReportRun& run = model_.runs()[r];
      std::vector<Failure> mine;
      for (const auto& s : run.results().scenarios) {
        if (!is_failing(s.verdict)) continue;
        bool unexpected = false;
        for (const auto& c : s.checks) {
          const RuleOutcome* o = run.rule(c.rule);
          if (is_failing(c.verdict) && o && !o->expected) unexpected = true;
        }
        if (s.verdict == Verdict::Error) {
          for (const auto& id : s.rules) {
            const RuleOutcome* o = run.rule(id);
            if (o && !o->expected) unexpected = true;
          }
        }
        mine.push_back(Failure{r, &s, unexpected});
      }
      std::stable_partition(mine.begin(), mine.end(), [](const Failure& f) { return f.unexpected; });
      all.insert(all.end(), mine.begin(), mine.end());
    }
    return all;
  }

  void failures() {
    std::vector<Failure> all = collect_failures();
    out_ += "<section id=\"failures\">\n<h2>Failures <span class=\"n\">" + std::to_string(all.size()) + "</span></h2>\n";
    if (all.empty()) {
      out_ += "<p class=\"ok\">No scenario run ended FAIL, ERROR or NON-STRICT.</p>\n</section>\n";
      return;
    }
    out_ += "<p class=\"note\">Every scenario run that ended FAIL, ERROR or NON-STRICT, unexpected ones first: its "
            "findings (what the rule expects against what was observed) and its recorded trace as a timeline, "
            "the violating event highlighted, with the transport's state after each event.</p>\n";
    out_ += "<p class=\"tools\" data-expand=\"failures\"></p>\n";
    std::size_t per_timeline =
        std::clamp(options_.timeline_rows_total / all.size(), options_.timeline_rows_min, options_.timeline_rows_max);
    std::size_t opened = 0;
    std::optional<std::size_t> current_run;
    for (const auto& f : all) {
      if (current_run != f.run) {
        if (current_run) out_ += "</div>\n";
        current_run = f.run;
        std::size_t n = std::count_if(all.begin(), all.end(), [&](const Failure& x) { return x.run == f.run; });
        out_ += "<div class=\"run-failures\">\n<h3>" + esc(model_.runs()[f.run].label()) + " <span class=\"n\">" +
                std::to_string(n) + "</span></h3>\n";
      }
      bool open = f.unexpected && opened < options_.open_failures;
      if (open) ++opened;
      failure(f, per_timeline, open);
    }
    out_ += "</div>\n</section>\n";
  }

  void failure(const Failure& f, std::size_t max_rows, bool open) {
    const ReportRun& run = model_.runs()[f.run];
    const ScenarioOutcome& s = *f.scenario;
    std::vector<std::string> broken;
    for (const auto& c : s.checks) {
      if (is_failing(c.verdict) && std::find(broken.begin(), broken.end(), c.rule) == broken.end()) broken.push_back(c.rule);
    }
    std::string id = failure_ids_.at({f.run, s.key()});
    out_ += "<details class=\"failure\" id=\"" + id + "\"" + (open ? " open" : "") + "><summary>" +
            badge(s.verdict, f.unexpected, !f.unexpected) + " <code>" + esc(s.key()) + "</code> <span class=\"title\">" +
            esc(s.title) + "</span>";
    if (!broken.empty()) {
      out_ += " <span class=\"breaks\">breaks ";
      for (std::size_t i = 0; i < broken.size(); ++i) out_ += (i ? ", " : "") + esc(broken[i]);
      out_ += "</span>";
    }
    out_ += "</summary>\n<div class=\"body\">\n";
    std::optional<ShownTrace> shown;
    if (!s.trace.is_null()) shown = show_trace(run, s, max_rows);
    checks_table(run, s, shown ? &*shown : nullptr);
    if (!s.error.empty()) out_ += "<p class=\"error\"><b>Error:</b> " + message(s.error) + "</p>\n";
    if (!s.stderr_tail.empty()) {
      out_ += fmt::format("<details class=\"stderr\"><summary>Output of the scenario's process ({} bytes)</summary>"
                          "<pre>{}</pre></details>\n",
                          s.stderr_tail.size(), esc(shorten(s.stderr_tail, options_.stderr_bytes)));
    }
    if (!shown) {
      out_ += "<p class=\"note\">No trace was kept for this scenario run.</p>\n";
    } else {
      timeline(id, *shown, whole_trace_file(run, s));
    }
    out_ += "</div>\n</details>\n";
  }

  // A kept trace and the part of it the page shows.
  struct ShownTrace {
    KeptTrace trace;
    std::map<std::uint64_t, std::vector<std::string>> violations;  // seq -> rules it violates
    std::optional<std::size_t> focus;                             // index of the first violation
    Window window;
    bool shows(std::uint64_t seq) const {
      auto at = trace.index_of_seq(seq);
      return at && *at >= window.begin && *at < window.end;
    }
  };

  ShownTrace show_trace(const ReportRun& run, const ScenarioOutcome& s, std::size_t max_rows) const {
    ShownTrace shown;
    shown.trace = read_kept_trace(s.trace, run.source() + ": " + s.key());
    for (const auto& c : s.checks) {
      if (!c.seq || c.verdict == Verdict::Pass) continue;
      shown.violations[*c.seq].push_back(c.rule);
      auto at = shown.trace.index_of_seq(*c.seq);
      if (at && (!shown.focus || *at < *shown.focus)) shown.focus = at;
    }
    shown.window = window_around(shown.trace.events.size(), shown.focus, max_rows);
    return shown;
  }

  void checks_table(const ReportRun& run, const ScenarioOutcome& s, const ShownTrace* trace) {
    std::vector<const CheckOutcome*> shown;
    for (const auto& c : s.checks) {
      if (c.verdict != Verdict::Pass) shown.push_back(&c);
    }
    std::stable_sort(shown.begin(), shown.end(), [](const CheckOutcome* a, const CheckOutcome* b) {
      return verdict_rank(a->verdict) < verdict_rank(b->verdict);
    });
    if (shown.empty()) return;
    out_ += "<table class=\"checks\">\n<thead><tr><th>Rule</th><th>Verdict</th><th>Found by</th><th>Expected</th>"
            "<th>Observed</th><th>Event</th></tr></thead>\n<tbody>\n";
    for (const CheckOutcome* c : shown) {
      const RuleOutcome* o = run.rule(c->rule);
      std::string expected, observed;
      if (auto eo = split_expected_observed(c->message)) {
        expected = message(eo->expected);
        observed = message(eo->observed);
      } else {
        const RuleRow* row = find_row(c->rule);
        expected = row ? esc(row->title) : "";
        observed = message(c->message);
      }
      std::string event = "<span class=\"muted\">scenario</span>";
      if (c->seq && trace && trace->shows(*c->seq)) {
        event = fmt::format("<a href=\"#{}\">#{}</a>", event_id(failure_ids_.at({index_of(run), s.key()}), *c->seq), *c->seq);
      } else if (c->seq) {
        event = fmt::format("#{}", *c->seq);
      }
      out_ += "<tr><td>" + rule_link(c->rule) + "</td><td>" +
              badge(c->verdict, o && !o->expected && is_failing(c->verdict), false) + "</td><td>" + esc(c->source) +
              "</td><td class=\"msg\">" + expected + "</td><td class=\"msg\">" + observed + "</td><td>" + event +
              "</td></tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
  }

  std::size_t index_of(const ReportRun& run) const {
    return static_cast<std::size_t>(&run - model_.runs().data());
  }

  const RuleRow* find_row(const std::string& id) const {
    if (row_index_.empty()) {
      for (std::size_t i = 0; i < model_.rows().size(); ++i) row_index_.emplace(model_.rows()[i].id, i);
    }
    auto it = row_index_.find(id);
    return it == row_index_.end() ? nullptr : &model_.rows()[it->second];
  }

  // The whole trace `loopspec run --traces` wrote beside the results file, or "".
  static std::string whole_trace_file(const ReportRun& run, const ScenarioOutcome& s) {
    if (run.trace_directory().empty()) return {};
    std::filesystem::path file = run.trace_directory() / (s.key() + ".jsonl");
    std::error_code ec;
    return std::filesystem::is_regular_file(file, ec) ? file.string() : std::string();
  }

  void timeline(const std::string& id, const ShownTrace& shown, const std::string& whole_file) {
    const KeptTrace& trace = shown.trace;
    if (!trace.problem.empty()) {
      out_ += "<p class=\"warn\">The kept trace cannot be shown: " + message(trace.problem) + "</p>\n";
      return;
    }
    const auto& violations = shown.violations;
    const auto& focus = shown.focus;
    const Window& w = shown.window;
    std::size_t total = trace.total();
    std::size_t first_shown = trace.first_event + w.begin;
    std::size_t before = first_shown;
    std::size_t after = total - (trace.first_event + w.end);
    out_ += fmt::format("<h4>Timeline <span class=\"muted\">{} events recorded", total);
    if (!trace.complete) out_ += ", incomplete: the scenario stopped early";
    out_ += "</span></h4>\n";
    if (before || after) {
      bool page_cut = w.end - w.begin < trace.events.size();
      std::string why;
      if (page_cut) why = fmt::format("the page shows {} rows of each timeline here", w.end - w.begin);
      if (trace.omitted) {
        why += fmt::format("{}results.json kept {} of the trace's events", why.empty() ? "" : "; ", trace.events.size());
      }
      out_ += fmt::format("<p class=\"note cut\">Shown: events {} to {} of {}{}; left out: {} earlier and {} later "
                          "({}). ",
                          first_shown, trace.first_event + w.end - 1, total,
                          focus ? ", around the violation" : ", the end of the trace", before, after, why);
      out_ += whole_file.empty() ? "<code>loopspec run --traces</code> writes whole traces.</p>\n"
                                 : "The whole trace: <code>" + esc(whole_file) + "</code>.</p>\n";
    }
    if (!focus) {
      out_ += "<p class=\"note\">The scenario's own checks name no single event; the violation is in its findings "
              "above.</p>\n";
    }
    // The rows leading far up to the violation fold away; the violation and
    // what follows are in view.
    std::size_t visible_from = fold_point(w, focus, focus ? 8 : 40);
    std::map<std::uint32_t, TransportState> last_state;
    // State seen before the window, so the first rows mark real changes only.
    for (std::size_t i = 0; i < w.begin; ++i) {
      if (trace.events[i].state) last_state[trace.events[i].conn] = *trace.events[i].state;
    }
    if (visible_from > w.begin) {
      out_ += fmt::format("<details class=\"earlier\"><summary>{} earlier events (#{} to #{})</summary>\n",
                          visible_from - w.begin, trace.events[w.begin].seq, trace.events[visible_from - 1].seq);
      timeline_rows(id, trace, w.begin, visible_from, violations, last_state);
      out_ += "</details>\n";
    }
    timeline_rows(id, trace, visible_from, w.end, violations, last_state);
  }

  void timeline_rows(const std::string& id, const KeptTrace& trace, std::size_t begin, std::size_t end,
                     const std::map<std::uint64_t, std::vector<std::string>>& violations,
                     std::map<std::uint32_t, TransportState>& last_state) {
    out_ += "<table class=\"timeline\"><colgroup><col class=\"t-seq\"><col class=\"t-conn\"><col class=\"t-kind\">"
            "<col class=\"t-ev\"><col><col class=\"t-buf\"><col class=\"t-lim\"><col class=\"t-flag\">"
            "<col class=\"t-flag\"></colgroup>\n<thead><tr><th>#</th><th>conn</th><th>kind</th><th>event</th>"
            "<th>arguments</th><th>write buffer</th><th>low/high</th><th>closing</th><th>reading</th></tr></thead>\n"
            "<tbody>\n";
    for (std::size_t i = begin; i < end; ++i) {
      const Event& e = trace.events[i];
      auto v = violations.find(e.seq);
      bool hit = v != violations.end();
      std::string changed_buf, changed_lim, changed_closing, changed_reading;
      if (e.state) {
        auto prev = last_state.find(e.conn);
        if (prev != last_state.end()) {
          const TransportState& p = prev->second;
          if (p.write_buffer_size != e.state->write_buffer_size) changed_buf = " class=\"chg\"";
          if (p.low != e.state->low || p.high != e.state->high) changed_lim = " class=\"chg\"";
          if (p.closing != e.state->closing) changed_closing = " class=\"chg\"";
          if (p.reading != e.state->reading) changed_reading = " class=\"chg\"";
        }
        last_state[e.conn] = *e.state;
      }
      std::string marker;
      if (hit) {
        marker = "<b class=\"viol\">\u25C0 violates ";
        for (std::size_t k = 0; k < v->second.size(); ++k) marker += (k ? ", " : "") + esc(v->second[k]);
        marker += "</b>";
      }
      // Columns are styled by position (report.css): rows stay short in long timelines.
      out_ += fmt::format("<tr class=\"k-{}{}\"{}><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td>"
                          "<td>{}</td><td{}>{}</td><td{}>{}</td><td{}>{}</td><td{}>{}</td></tr>\n",
                          to_string(e.kind), hit ? " hl" : "", hit ? " id=\"" + event_id(id, e.seq) + "\"" : "",
                          e.seq, e.conn, to_string(e.kind), esc(e.name), marker,
                          esc(shorten(describe_arguments(e), 300)), changed_buf, state_buffer(e), changed_lim,
                          state_limits(e), changed_closing, state_flag(e.state ? e.state->closing : std::nullopt),
                          changed_reading, state_flag(e.state ? e.state->reading : std::nullopt));
    }
    out_ += "</tbody>\n</table>\n";
  }

  // ---- differences --------------------------------------------------------

  void differences() {
    out_ += "<section id=\"diff\">\n<h2>Differences</h2>\n";
    if (diffs_.empty()) {
      out_ += "<p class=\"note\">One run and no baseline: nothing to compare. Give several results files (several "
              "backends, or several runs of one), or <code>--baseline OLD.json</code>.</p>\n</section>\n";
      return;
    }
    out_ += "<p class=\"note\">Each run against the first run, and each run against its baseline: the rules whose "
            "verdicts differ, then every scenario run both traced, the two traces aligned step by step. A step differs "
            "when its connection, kind, name, returned value or exception class differ (sizes, digests and transport "
            "state may differ: chunking is the loop's to choose). Past the first divergence the traces are aligned "
            "again, so an event only one loop has faces a gap.</p>\n";
    // The row budget: two thirds for scenario runs not PASS in one of the
    // two (what broke), the rest, and whatever they leave, for those that
    // pass in both yet diverge.
    std::size_t failing = 0, passing = 0;
    for (const auto& d : diffs_) {
      for (const auto& t : d.traces) {
        if (t.divergence) ++(both_pass(t) ? passing : failing);
      }
    }
    const std::size_t total = options_.alignment_rows_total;
    std::size_t failing_rows = passing ? std::min(total * 2 / 3, failing * options_.alignment_rows_max) : total;
    failing_budget_ = RowBudget::share(failing_rows, failing, options_);
    passing_budget_ = RowBudget::share(total - failing_rows, passing, options_);
    for (std::size_t i = 0; i < diffs_.size(); ++i) diff(i, diffs_[i]);
    out_ += "</section>\n";
  }

  static bool both_pass(const TraceAlignment& t) {
    return t.left_verdict == Verdict::Pass && t.right_verdict == Verdict::Pass;
  }

  void diff(std::size_t index, const RunDiff& d) {
    const std::string& a = d.left->label();
    const std::string& b = d.right->label();
    out_ += fmt::format("<article class=\"diff\" id=\"d-{}\">\n<h3>{} <span class=\"vs\">vs</span> {}{}</h3>\n", index,
                        esc(a), esc(b), d.against_baseline ? " <span class=\"muted\">(baseline)</span>" : "");
    if (d.rules.empty()) {
      out_ += "<p class=\"ok\">Every rule has the same verdict in both.</p>\n";
    } else {
      out_ += fmt::format("<h4>Rules whose verdicts differ <span class=\"n\">{} of {}</span></h4>\n", d.rules.size(),
                          model_.rows().size());
      out_ += "<table class=\"diffrules\">\n<thead><tr><th>Rule</th><th>" + esc(a) + "</th><th>" + esc(b) +
              "</th></tr></thead>\n<tbody>\n";
      for (const auto& r : d.rules) {
        const RuleRow& row = model_.rows()[r.row];
        auto side = [&](const RuleOutcome* o) {
          if (!o) return std::string("<td class=\"muted\">not reported</td>");
          std::string cell = "<td>" + badge(o->verdict, !o->expected, is_known_deviation(*o));
          if (!o->message.empty()) cell += "<span class=\"msg\">" + message(shorten(o->message, 400)) + "</span>";
          return cell + "</td>";
        };
        out_ += "<tr><th>" + rule_link(row.id) + "<span class=\"title\">" + esc(row.title) + "</span></th>" + side(r.left) +
                side(r.right) + "</tr>\n";
      }
      out_ += "</tbody>\n</table>\n";
    }

    std::vector<const TraceAlignment*> failing, passing, same, unreadable;
    for (const auto& t : d.traces) {
      if (!t.problem.empty()) unreadable.push_back(&t);
      else if (!t.divergence) same.push_back(&t);
      else if (both_pass(t)) passing.push_back(&t);
      else failing.push_back(&t);
    }
    out_ += fmt::format("<h4>Traces <span class=\"n\">{} scenario run{} traced in both: {} diverge, {} of them PASS in "
                        "both; {} take the same steps</span></h4>\n",
                        d.traces.size(), d.traces.size() == 1 ? "" : "s", failing.size() + passing.size(), passing.size(),
                        same.size());
    if (d.untraced) {
      out_ += fmt::format("<p class=\"note\">{} scenario run{} of both runs {} no trace in one of them: results.json keeps "
                          "the traces of runs that are not PASS only; <code>loopspec run --traces</code> writes every "
                          "trace beside it (<code>traces/</code>), and this report reads them from there.</p>\n",
                          d.untraced, d.untraced == 1 ? "" : "s", d.untraced == 1 ? "has" : "have");
    }
    std::string prefix = fmt::format("a{}-", index);
    bool opened = false;
    auto group = [&](const std::vector<const TraceAlignment*>& items, const std::string& heading) {
      if (items.empty()) return;
      out_ += fmt::format("<h5>{} <span class=\"n\">{}</span></h5>\n", heading, items.size());
      for (const TraceAlignment* t : items) {
        alignment(prefix, a, b, *t, !opened);
        opened = true;
      }
    };
    group(failing, "Diverging, not PASS in one of the two");
    group(passing, "Diverging, yet PASS in both: the loops behave differently within the contract");
    if (!same.empty()) {
      out_ += fmt::format("<details class=\"same-list\"><summary>{} scenario run{} take the same steps in both</summary>"
                          "<p>",
                          same.size(), same.size() == 1 ? "" : "s");
      for (std::size_t i = 0; i < same.size(); ++i) {
        out_ += (i ? " " : "") + std::string("<code>") + esc(same[i]->scenario) + "</code>";
      }
      out_ += "</p></details>\n";
    }
    for (const TraceAlignment* t : unreadable) {
      out_ += "<p class=\"warn\"><code>" + esc(t->scenario) + "</code>: a trace cannot be read: " + message(t->problem) +
              "</p>\n";
    }
    out_ += "</article>\n";
  }

  static std::string step_name(const std::optional<Event>& e) {
    if (!e) return "<i>nothing</i>";
    return "<code>" + std::string(to_string(e->kind)) + " " + esc(e->name) + "</code>";
  }

  void alignment(const std::string& prefix, const std::string& a, const std::string& b, const TraceAlignment& t, bool open) {
    const AlignedRow* first = nullptr;
    for (const auto& row : t.rows) {
      if (row.step == *t.divergence) first = &row;
    }
    out_ += "<details class=\"align\" id=\"" + anchor_id(prefix, t.scenario) + "\"" + (open ? " open" : "") +
            "><summary><code>" + esc(t.scenario) + "</code> " + badge(t.left_verdict) + " " + badge(t.right_verdict) +
            fmt::format(" <span class=\"divmark\">first divergence at step {}</span>", *t.divergence);
    if (first) {
      out_ += "<span class=\"firstdiff\">" + esc(a) + ": " + step_name(first->left) + " &middot; " + esc(b) + ": " +
              step_name(first->right) + "</span>";
    }
    out_ += "</summary>\n<div class=\"body\">\n";
    std::size_t shown = (both_pass(t) ? passing_budget_ : failing_budget_).take(t.rows.size(), options_);
    std::string origins;
    if (t.left_origin != "results.json" || t.right_origin != "results.json") {
      origins = " Traces from " + esc(t.left_origin) + " and " + esc(t.right_origin) + ".";
    }
    std::string start = t.start ? fmt::format(" Followed from event {}, where both kept traces begin.", t.start) : "";
    out_ += fmt::format("<p class=\"note\">{} events against {}; the same steps up to step {}.{}{}</p>\n", t.left_events,
                        t.right_events, *t.divergence, start, origins);
    if (shown == 0) {
      out_ += "<p class=\"note cut\">The aligned steps are left out: the page shares a budget of rows among all "
              "alignments. Compare fewer runs at a time to see them.</p>\n";
    } else {
      aligned_rows(a, b, t, shown);
      std::size_t rest = t.steps - (t.rows[shown - 1].step + 1);
      if (rest > 0 || t.cut) {
        out_ += fmt::format("<p class=\"note cut\">Shown: steps {} to {} of {}{}.</p>\n", t.rows.front().step,
                            t.rows[shown - 1].step, t.steps,
                            t.cut ? "; events past them were not aligned (an edit script looks at most a few hundred "
                                    "events ahead)"
                                  : "");
      }
    }
    out_ += "</div>\n</details>\n";
  }

  static std::string side_cells(const std::optional<Event>& e, bool first_divergence) {
    // Five cells, not one spanning five: the columns are styled by position.
    if (!e) {
      return "<td class=\"gap\"></td><td class=\"gap\"></td><td class=\"gap\">no counterpart</td><td class=\"gap\"></td>"
             "<td class=\"gap\"></td>";
    }
    return fmt::format("<td>{}</td><td>{}</td><td><span class=\"kind\">{}</span> {}{}</td><td>{}</td><td>{}</td>", e->seq,
                       e->conn, to_string(e->kind), esc(e->name),
                       first_divergence ? " <b class=\"divmark\">\u25B6 first divergence</b>" : "",
                       esc(shorten(describe_arguments(*e, false), 160)), state_buffer(*e));
  }

  void aligned_rows(const std::string& a, const std::string& b, const TraceAlignment& t, std::size_t count) {
    out_ += "<table class=\"aligned\"><colgroup><col class=\"t-seq\"><col class=\"t-conn\"><col class=\"a-ev\"><col>"
            "<col class=\"t-buf\"><col class=\"t-seq\"><col class=\"t-conn\"><col class=\"a-ev\"><col><col class=\"t-buf\">"
            "</colgroup>\n<thead><tr><th colspan=\"5\">" + esc(a) + "</th><th colspan=\"5\">" + esc(b) +
            "</th></tr>\n<tr><th>#</th><th>conn</th><th>event</th><th>arguments</th><th>buffer</th><th>#</th><th>conn</th>"
            "<th>event</th><th>arguments</th><th>buffer</th></tr></thead>\n<tbody>\n";
    for (std::size_t i = 0; i < count; ++i) {
      const AlignedRow& row = t.rows[i];
      bool first = row.step == *t.divergence;
      std::string cls = row.same ? "same" : row.left && row.right ? "differs" : "gap";
      out_ += fmt::format("<tr class=\"{}{}\"{}>{}{}</tr>\n", cls, first ? " div" : "",
                          first ? " title=\"first divergence\"" : "", side_cells(row.left, first),
                          side_cells(row.right, first && !row.left));
    }
    out_ += "</tbody>\n</table>\n";
  }

  // ---- rules --------------------------------------------------------------

  void rules() {
    out_ += "<section id=\"rules\">\n<h2>Rules</h2>\n";
    out_ += "<p class=\"note\">Each rule with the sentence of the documentation it derives from, the scenarios "
            "that exercised it and what every run said.</p>\n<p class=\"tools\" data-expand=\"rules\"></p>\n";
    for (const auto& section : model_.sections()) {
      out_ += "<div class=\"rule-section\">\n<h3>" + esc(section.name) + "</h3>\n";
      for (std::size_t row : section.rows) rule(model_.rows()[row]);
      out_ += "</div>\n";
    }
    out_ += "</section>\n";
  }

  void rule(const RuleRow& row) {
    out_ += "<details class=\"rule\" id=\"" + rule_id(row.id) + "\"><summary><code>" + esc(row.id) +
            "</code> <span class=\"lvl\">" + esc(row.level) + "</span> <span class=\"title\">" + esc(row.title) +
            "</span> <span class=\"chips\">";
    for (const auto& run : model_.runs()) {
      const RuleOutcome* o = run.rule(row.id);
      // One symbol per run, in the matrix's column order; the table below names them.
      if (o) out_ += fmt::format("<span class=\"dot {}{}\">{}</span>", css_class(o->verdict), o->expected ? "" : " u",
                                 icon(o->verdict));
    }
    out_ += "</span></summary>\n<div class=\"body\">\n";
    if (row.rule) {
      for (const auto& q : row.rule->quotes) {
        out_ += "<blockquote class=\"quote\"><p>" + esc(q.text) + "</p><footer>" + esc(quote_revision_label(q.revision)) +
                " &middot; " + esc(q.section) + "</footer></blockquote>\n";
      }
      if (!row.rule->revisions.empty()) {
        std::string revs;
        for (const auto& r : row.rule->revisions) revs += (revs.empty() ? "" : ", ") + r;
        out_ += "<p class=\"meta\">Section " + esc(row.section) + " &middot; holds for " + esc(revs) + " &middot; " +
                esc(std::filesystem::path(row.rule->file).filename().string()) + ":" + std::to_string(row.rule->line) +
                "</p>\n";
      }
    } else {
      out_ += std::string("<p class=\"warn\">Quote unavailable: ") +
              (model_.catalogue() ? "the rules catalogue has no rule with this id"
                                  : "the rules catalogue could not be loaded (<a href=\"#catalogue-missing\">why</a>)") +
              ".</p>\n";
    }
    out_ += "<table class=\"per-run\">\n<thead><tr><th>Run</th><th>Verdict</th><th>Message</th><th>Expectation</th></tr>"
            "</thead>\n<tbody>\n";
    // Runs that say the same and have nothing more to say share one row.
    std::vector<bool> done(run_count(), false);
    for (std::size_t r = 0; r < run_count(); ++r) {
      if (done[r]) continue;
      const RuleOutcome* o = model_.runs()[r].rule(row.id);
      auto plain = [](const RuleOutcome* x) { return x && x->message.empty() && !x->expectation; };
      std::string labels = esc(model_.runs()[r].label());
      if (!o || plain(o)) {
        for (std::size_t k = r + 1; k < run_count(); ++k) {
          const RuleOutcome* other = model_.runs()[k].rule(row.id);
          bool same = o ? plain(other) && other->verdict == o->verdict && other->expected == o->expected : !other;
          if (!done[k] && same) {
            done[k] = true;
            labels += ", " + esc(model_.runs()[k].label());
          }
        }
      }
      if (!o) {
        out_ += "<tr><th>" + labels + "</th><td class=\"muted\" colspan=\"3\">not reported</td></tr>\n";
        continue;
      }
      std::string expectation;
      if (o->expectation) {
        expectation = "known " + std::string(to_string(o->expectation->verdict)) + ": " + esc(o->expectation->reason);
        if (!o->expectation->link.empty()) expectation += " <span class=\"muted\">(" + esc(o->expectation->link) + ")</span>";
      }
      out_ += "<tr><th>" + labels + "</th><td>" + badge(o->verdict, !o->expected, is_known_deviation(*o)) + "</td><td>" +
              message(o->message) + "</td><td>" + expectation + "</td></tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
    if (row.scenarios.empty()) {
      out_ += "<p class=\"muted\">No scenario exercised this rule in these runs.</p>\n";
    } else {
      out_ += "<table class=\"scen\">\n<thead><tr><th>Scenario run</th>";
      for (const auto& run : model_.runs()) out_ += "<th>" + esc(run.label()) + "</th>";
      out_ += "</tr></thead>\n<tbody>\n";
      for (const auto& key : row.scenarios) {
        std::vector<std::string> cells;
        std::optional<Verdict> shared;  // the verdict every run gave, when they agree and none failed
        bool agree = true;
        for (std::size_t r = 0; r < run_count(); ++r) {
          const ReportRun& run = model_.runs()[r];
          const RuleOutcome* o = run.rule(row.id);
          const ScenarioOutcome* s = run.scenario(key);
          if (!o || !s) {
            cells.push_back("<td class=\"muted\">&mdash;</td>");
            agree = false;
            continue;
          }
          CaseVerdict cv = case_verdict(*o, *s);
          agree = agree && cv.expected && !is_failing(cv.verdict) && (!shared || *shared == cv.verdict);
          shared = cv.verdict;
          std::string chip = fmt::format("<span class=\"dot {}{}\">{}</span> {}", css_class(cv.verdict),
                                         cv.expected ? "" : " u", icon(cv.verdict), to_string(cv.verdict));
          auto f = failure_ids_.find({r, key});
          if (f != failure_ids_.end() && is_failing(cv.verdict)) chip = "<a href=\"#" + f->second + "\">" + chip + "</a>";
          cells.push_back("<td>" + chip + "</td>");
        }
        out_ += "<tr><td><code>" + esc(key) + "</code></td>";
        if (agree && shared && run_count() > 1) {
          // One cell for the common case keeps long rule entries short.
          out_ += fmt::format("<td colspan=\"{}\" class=\"all\"><span class=\"dot {}\">{}</span> {} in every run</td>",
                              run_count(), css_class(*shared), icon(*shared), to_string(*shared));
        } else {
          for (const auto& cell : cells) out_ += cell;
        }
        out_ += "</tr>\n";
      }
      out_ += "</tbody>\n</table>\n";
    }
    out_ += "</div>\n</details>\n";
  }

  // ---- metadata -----------------------------------------------------------

  void metadata() {
    out_ += "<section id=\"runs\">\n<h2>Runs</h2>\n<div class=\"scroll\"><table class=\"meta-table\">\n<thead><tr><th></th>";
    for (const auto& run : model_.runs()) out_ += "<th>" + esc(run.label()) + "</th>";
    out_ += "</tr></thead>\n<tbody>\n";
    auto row = [&](const std::string& name, auto value) {
      out_ += "<tr><th>" + name + "</th>";
      for (const auto& run : model_.runs()) out_ += "<td>" + value(run.results(), run) + "</td>";
      out_ += "</tr>\n";
    };
    auto host = [](const RunResults& r, const char* key) {
      auto it = r.host.is_object() ? r.host.find(key) : r.host.end();
      if (!r.host.is_object() || it == r.host.end()) return std::string("<span class=\"muted\">unknown</span>");
      return esc(it->is_string() ? it->get<std::string>() : it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    };
    using RR = const RunResults&;
    using Run = const ReportRun&;
    row("Backend", [](RR r, Run) { return esc(r.backend.name); });
    row("Implementation", [](RR r, Run) { return esc(r.backend.implementation) + " " + esc(r.backend.version); });
    row("Capabilities", [](RR r, Run) {
      std::string caps;
      for (const auto& c : r.backend.capabilities) caps += (caps.empty() ? "" : ", ") + c;
      return esc(caps);
    });
    row("Fault switched on", [](RR r, Run) {
      return r.backend.fault.empty() ? std::string("<span class=\"muted\">none</span>") : esc(r.backend.fault);
    });
    row("loopspec", [](RR r, Run) { return esc(r.loopspec_version) + " (" + esc(r.loopspec_revision) + ")"; });
    row("Profile", [](RR r, Run) { return esc(r.profile); });
    row("OS", [&](RR r, Run) { return host(r, "os") + " " + host(r, "kernel") + " " + host(r, "machine"); });
    row("Compiler", [&](RR r, Run) { return host(r, "compiler"); });
    row("Started", [](RR r, Run) { return esc(r.started); });
    row("Duration", [](RR r, Run) { return fmt::format("{:.2f} s", r.duration_s); });
    row("Scenario runs", [](RR r, Run) { return std::to_string(r.scenarios.size()); });
    row("Rules", [](RR r, Run) { return std::to_string(r.rules.size()); });
    row("Interrupted", [](RR r, Run) { return std::string(r.interrupted ? "<b>yes</b>" : "no"); });
    row("Results file", [](RR, Run run) { return "<code>" + esc(run.source()) + "</code>"; });
    if (has_baseline()) {
      row("Baseline", [&](RR, Run run) {
        return run.baseline_index() ? "<code>" + esc(model_.baselines()[*run.baseline_index()].source()) + "</code>"
                                    : std::string("<span class=\"muted\">none</span>");
      });
    }
    out_ += "</tbody>\n</table></div>\n</section>\n";
  }

  const ReportModel& model_;
  const std::vector<RunDiff>& diffs_;
  const HtmlOptions& options_;
  std::map<FailureKey, std::string> failure_ids_;
  // Rows of aligned traces the page may still show, and how many one alignment may.
  struct RowBudget {
    std::size_t per = 0;
    std::size_t left = 0;
    static RowBudget share(std::size_t rows, std::size_t alignments, const HtmlOptions& o) {
      if (alignments == 0) return {0, 0};
      return {std::clamp(rows / alignments, o.alignment_rows_min, o.alignment_rows_max), rows};
    }
    // Rows for an alignment that has `available`: none when too few are left to be of use.
    std::size_t take(std::size_t available, const HtmlOptions& o) {
      std::size_t n = std::min({per, available, left});
      if (n < std::min(o.alignment_rows_min, available)) return 0;
      left -= n;
      return n;
    }
  };
  RowBudget failing_budget_;
  RowBudget passing_budget_;
  mutable std::unordered_map<std::string, std::size_t> row_index_;
  std::string out_;
};

}  // namespace

std::string render_html(const ReportModel& model, const std::vector<RunDiff>& diffs, const HtmlOptions& options) {
  return Page(model, diffs, options).render();
}

}  // namespace loopspec::reports
