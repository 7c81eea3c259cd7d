// The postroll command's command groups, one file each: process (the
// embedded runtime in the foreground), node (a node until a signal), and the
// client commands that talk to a running node.
#pragma once

#include "apps/cli.hpp"
#include "apps/job_follower.hpp"

namespace postroll::cli {

int cmd_process(const args& a, signal_waiter& sig);
int cmd_node(const args& a, signal_waiter& sig);
/// The same as process for a recording being made (a live job).
int cmd_watch(const args& a, signal_waiter& sig);
/// submit, status, cancel, retry, delete, remove, nodes.
int cmd_client(const args& a, signal_waiter& sig);

}  // namespace postroll::cli
