// The loopspec command (rules, run, report, check-trace, backends, scenarios)
// as a function, so a loop author's own conformance binary is the same command
// with their backend registered beside the built-in ones:
//
//   int main(int argc, char** argv) {
//     loopspec::register_builtin_backends(loopspec::BackendRegistry::instance());
//     my::register_my_backend(loopspec::BackendRegistry::instance());
//     return loopspec::run_cli(argc, argv);
//   }
//
// Promises: runs against whatever BackendRegistry::instance() holds and every
// scenario linked into the program (loopspec::runner links them all); returns
// the exit status: 0 clean, 1 unexpected FAIL/ERROR or trace violations, 2 bad
// usage or bad input (with a message on stderr naming what was wrong), 128 +
// the signal for a run interrupted by SIGINT or SIGTERM (results.json written
// with what completed, marked interrupted).
#pragma once

namespace loopspec {

int run_cli(int argc, char** argv);

}  // namespace loopspec
