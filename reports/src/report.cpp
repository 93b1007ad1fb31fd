#include "loopspec/reports/report.hpp"

#include <unistd.h>

#include <ctime>
#include <fstream>

#include "loopspec/reports/junit_report.hpp"
#include "loopspec/reports/markdown_summary.hpp"
#include "loopspec/reports/run_diff.hpp"

namespace loopspec::reports {

namespace fs = std::filesystem;

LoadedCatalogue load_catalogue(const fs::path& directory) {
  LoadedCatalogue loaded;
  try {
    loaded.catalogue = RuleCatalogue::load(directory);
  } catch (const std::exception& e) {
    loaded.problem = e.what();
  }
  return loaded;
}

std::vector<ReportInput> read_report_inputs(const std::vector<fs::path>& files) {
  std::vector<ReportInput> inputs;
  for (const auto& file : files) inputs.push_back(ReportInput{file.string(), read_results(file)});
  return inputs;
}

namespace {

void write_atomically(const fs::path& path, const std::string& content) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw std::runtime_error(tmp.string() + ": cannot write");
    out << content;
    if (!out.flush()) throw std::runtime_error(tmp.string() + ": write failed");
  }
  fs::rename(tmp, path);
}

}  // namespace

ReportFiles write_report(const ReportModel& model, const fs::path& directory, HtmlOptions options) {
  if (options.generated.empty()) options.generated = utc_now();
  fs::create_directories(directory);
  ReportFiles files{directory / "index.html", directory / "junit.xml", directory / "summary.md"};
  write_atomically(files.index, render_html(model, compare_runs(model), options));
  write_atomically(files.junit, render_junit(model));
  write_atomically(files.summary, render_markdown_summary(model));
  return files;
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace loopspec::reports
