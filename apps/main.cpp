// The postroll command: process a session in the foreground, run a node, and
// talk to a running node (submit, status, cancel, retry, ...).
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "apps/commands.hpp"

using namespace postroll::cli;

int main(int argc, char** argv) {
  // Logs go to stderr: stdout carries results (paths, JSON).
  spdlog::set_default_logger(spdlog::stderr_color_mt("postroll"));
  auto a = parse_args(argc, argv);
  if (!a) {
    // Bare `postroll`: the usage; a wrong option was named on its own line.
    if (argc > 1)
      std::cerr << "postroll --help lists the commands and options\n";
    else
      std::cerr << usage;
    return exit_bad_input;
  }
  if (a->command == "help") {
    std::cout << usage;
    return exit_ok;
  }
  if (a->command == "version")
    return cmd_version(*a);
  if (a->command == "doctor")
    return cmd_doctor(*a);
  signal_waiter sig;
  if (a->command == "process")
    return cmd_process(*a, sig);
  if (a->command == "watch")
    return cmd_watch(*a, sig);
  if (a->command == "node")
    return cmd_node(*a, sig);
  if (a->command == "submit" || a->command == "status" || a->command == "cancel" ||
      a->command == "retry" || a->command == "delete" || a->command == "remove" || a->command == "nodes")
    return cmd_client(*a, sig);
  std::cerr << "postroll: unknown command " << a->command << " (postroll --help lists them)\n";
  return exit_bad_input;
}
