// The HTML report: one self-contained page (CSS and JS inlined, no network),
// readable without JavaScript; the script only adds filtering and expanding.
//
// Sections: summary per run (counts by verdict, unexpected results first,
// pass rate by section), baseline changes, the matrix (rules by section x
// runs), failures (checks with expected vs observed, the trace as a timeline
// with the violating event highlighted and the transport state at each
// event), differences between runs (verdicts, aligned traces), every rule
// (quotes, scenarios, verdicts and messages per run), run metadata.
// Promises: every string taken from results or traces is escaped
// (text.hpp), so none becomes markup and the page is valid UTF-8; timelines
// share a row budget so the page stays small whatever the traces hold (each
// cut is said in the page).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/reports/report_model.hpp"
#include "loopspec/reports/run_diff.hpp"

namespace loopspec::reports {

struct HtmlOptions {
  std::string generated;                    // when the report was made (ISO 8601), for the header
  std::size_t timeline_rows_total = 3000;   // shared by every failure timeline
  std::size_t timeline_rows_max = 80;       // one timeline at most
  std::size_t timeline_rows_min = 24;       // one timeline at least, whatever the budget
  std::size_t alignment_rows_total = 1600;  // shared by every aligned trace pair
  std::size_t alignment_rows_max = 36;
  std::size_t alignment_rows_min = 10;
  std::size_t message_bytes = 1500;         // longer messages are cut (and say so)
  std::size_t stderr_bytes = 4000;
  std::size_t open_failures = 3;            // failures shown expanded when the page opens
  std::size_t summary_items = 8;            // unexpected results listed on a run's card
};

std::string render_html(const ReportModel& model, const std::vector<RunDiff>& diffs, const HtmlOptions& options = {});

// Splits a checker message "... expected X, observed Y" into X and Y.
struct ExpectedObserved {
  std::string expected;
  std::string observed;
};
std::optional<ExpectedObserved> split_expected_observed(const std::string& message);

}  // namespace loopspec::reports
