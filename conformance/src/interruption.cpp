#include "loopspec/conformance/interruption.hpp"

#include <signal.h>

namespace loopspec {

namespace {

volatile sig_atomic_t received = 0;

void on_signal(int sig) {
  if (received == 0) {
    received = sig;
    return;
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

void watch_for_interruption() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: the runner's poll() must return
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

int interruption_signal() { return received; }

void forget_interruption_handlers() {
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
}

}  // namespace loopspec
