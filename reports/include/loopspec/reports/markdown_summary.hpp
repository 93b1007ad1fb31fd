// A short Markdown summary, fit for a CI step summary (GitHub's
// $GITHUB_STEP_SUMMARY): one table row of counts per run, the unexpected
// results, the changes against the baseline, and a pointer to index.html.
// Promises: every string from the results is escaped (text.hpp:
// escape_markdown), so none becomes Markdown or HTML; lists are capped so
// the summary stays short whatever the run.
#pragma once

#include <cstddef>
#include <string>

#include "loopspec/reports/report_model.hpp"

namespace loopspec::reports {

std::string render_markdown_summary(const ReportModel& model, std::size_t max_items_per_run = 10);

}  // namespace loopspec::reports
