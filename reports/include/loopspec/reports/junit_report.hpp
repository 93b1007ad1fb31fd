// JUnit XML for CI systems: one <testsuite> per run, one <testcase> per
// (rule, scenario run) with classname = rule id and name = SCENARIO[VARIANT].
//
// Outcomes follow `loopspec run`'s exit status, so the CI view and the exit
// status agree: an unexpected FAIL is a <failure>, an unexpected ERROR an
// <error>, both carrying the message; a known deviation, UNSUPPORTED and
// UNTESTED are <skipped> with the reason; PASS, INFO and NON-STRICT pass, the
// last two with what was observed in the suite's <system-out>. A rule no
// scenario exercised is one test case named "(no scenario)".
// Promises: well-formed XML 1.0 in UTF-8 whatever the results hold (text.hpp),
// valid under both common JUnit schemas (Apache Ant's and Jenkins'
// junit-10; reports/tests/junit.xsd is their intersection); each suite's
// counts add up. Format: spec/report-format.md.
#pragma once

#include <string>

#include "loopspec/reports/report_model.hpp"

namespace loopspec::reports {

std::string render_junit(const ReportModel& model);

}  // namespace loopspec::reports
