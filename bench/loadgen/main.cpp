// loadgen: the one load generator for every echo server under bench/.
//
//   loadgen echo   --port P --server-pid PID --size BYTES --connections N [--warmup S] [--duration S] [--requests R] [--verify]
//   loadgen stream --port P --server-pid PID [--warmup S] [--duration S]
//   loadgen idle   --port P --server-pid PID [--connections N] [--size BYTES] [--idle S]
//
// Each prints one JSON object on stdout (the fields are listed in
// echo_load.hpp, stream_load.hpp, idle_load.hpp) and exits 0, or prints the
// error on stderr and exits 1.
#include <cstdio>
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "echo_load.hpp"
#include "idle_load.hpp"
#include "stream_load.hpp"

namespace {

void add_target(CLI::App* command, bench::ServerTarget& target) {
  command->add_option("--port", target.port, "the server listens on 127.0.0.1:PORT")->required();
  command->add_option("--server-pid", target.pid, "the server's process, for its CPU and memory")->required();
}

void add_window(CLI::App* command, double& warmup_s, double& duration_s) {
  command->add_option("--warmup", warmup_s, "seconds of load before the window opens");
  command->add_option("--duration", duration_s, "seconds the window lasts");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"loadgen: closed-loop echo, one-way stream and idle+burst loads"};
  app.require_subcommand(1);

  bench::EchoLoad echo;
  auto* echo_cmd = app.add_subcommand("echo", "closed loop, one message in flight per connection");
  add_target(echo_cmd, echo.server);
  add_window(echo_cmd, echo.warmup_s, echo.duration_s);
  echo_cmd->add_option("--size", echo.size);
  echo_cmd->add_option("--connections", echo.connections);
  echo_cmd->add_option("--requests", echo.requests, "a fixed number of requests instead of a timed window");
  echo_cmd->add_flag("--verify", echo.verify, "compare every echoed byte");

  bench::StreamLoad stream;
  auto* stream_cmd = app.add_subcommand("stream", "one-way throughput to a sink server");
  add_target(stream_cmd, stream.server);
  add_window(stream_cmd, stream.warmup_s, stream.duration_s);

  bench::IdleLoad idle;
  auto* idle_cmd = app.add_subcommand("idle", "many idle connections, then one burst");
  add_target(idle_cmd, idle.server);
  idle_cmd->add_option("--connections", idle.connections);
  idle_cmd->add_option("--size", idle.size);
  idle_cmd->add_option("--idle", idle.idle_s);

  CLI11_PARSE(app, argc, argv);
  try {
    nlohmann::json result;
    if (*echo_cmd) result = bench::run_echo(echo);
    if (*stream_cmd) result = bench::run_stream(stream);
    if (*idle_cmd) result = bench::run_idle(idle);
    std::cout << result.dump() << '\n';
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadgen: %s\n", e.what());
    return 1;
  }
}
