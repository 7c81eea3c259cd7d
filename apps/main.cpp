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
    std::cerr << usage;
    return exit_bad_input;
  }
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
  std::cerr << "postroll: unknown command " << a->command << "\n" << usage;
  return exit_bad_input;
}
