// The example's conformance binary: loopspec's command with one more backend.
#include "example_backend.hpp"
#include "loopspec/conformance/builtin_backends.hpp"
#include "loopspec/conformance/cli.hpp"

int main(int argc, char** argv) {
  auto& registry = loopspec::BackendRegistry::instance();
  loopspec::register_builtin_backends(registry);  // reference and python:*, to compare against
  example::register_example_backend(registry);
  return loopspec::run_cli(argc, argv);
}
