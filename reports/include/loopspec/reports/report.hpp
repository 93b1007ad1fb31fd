// A report directory: index.html, junit.xml and summary.md, rendered from
// results.json files.
//
// Promises: read_report_inputs reads every file with read_results, so a
// malformed or foreign file throws ResultsError naming the file and the JSON
// path of the field; a catalogue that cannot be loaded is no error (the
// report says so); each output file is written atomically (temporary file,
// then rename), so a reader never sees half a report file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/reports/html_report.hpp"
#include "loopspec/reports/report_model.hpp"
#include "loopspec/rules.hpp"

namespace loopspec::reports {

struct ReportFiles {
  std::filesystem::path index;    // index.html
  std::filesystem::path junit;    // junit.xml
  std::filesystem::path summary;  // summary.md
};

// The catalogue, or why it could not be loaded.
struct LoadedCatalogue {
  std::optional<RuleCatalogue> catalogue;
  std::string problem;
  const RuleCatalogue* get() const { return catalogue ? &*catalogue : nullptr; }
};
LoadedCatalogue load_catalogue(const std::filesystem::path& directory);

std::vector<ReportInput> read_report_inputs(const std::vector<std::filesystem::path>& files);

ReportFiles write_report(const ReportModel& model, const std::filesystem::path& directory, HtmlOptions options = {});

// Now, as ISO 8601 UTC ("2026-11-21T20:00:00Z").
std::string utc_now();

}  // namespace loopspec::reports
