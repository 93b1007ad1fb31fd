// The loopspec command of this build: every built-in backend, every scenario.
#include "loopspec/backend.hpp"
#include "loopspec/conformance/builtin_backends.hpp"
#include "loopspec/conformance/cli.hpp"

int main(int argc, char** argv) {
  loopspec::register_builtin_backends(loopspec::BackendRegistry::instance());
  return loopspec::run_cli(argc, argv);
}
