// A run interrupted by SIGINT or SIGTERM ends with what it has, not with nothing.
//
// Promises: after watch_for_interruption(), the first SIGINT or SIGTERM does not
// end the process: interruption_signal() returns it from then on, and the
// blocking call it lands in returns EINTR (no SA_RESTART), so the runner
// notices it at once, stops the scenario in flight and writes what completed.
// A second SIGINT or SIGTERM ends the process the default way (someone who
// presses ^C twice means it). forget_interruption_handlers() restores the
// default actions (in a scenario's own process).
#pragma once

namespace loopspec {

void watch_for_interruption();
int interruption_signal();  // 0 until a watched signal arrives
void forget_interruption_handlers();

}  // namespace loopspec
