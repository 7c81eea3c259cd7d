// The postroll command's command groups, one file each: process (the
// embedded runtime in the foreground), node (a node until a signal), and the
// client commands that talk to a running node.
#pragma once

#include "apps/cli.hpp"
#include "apps/job_follower.hpp"
#include "session/manifest.hpp"

namespace postroll::cli {

int cmd_process(const args& a, signal_waiter& sig);
int cmd_node(const args& a, signal_waiter& sig);
/// The same as process for a recording being made (a live job).
int cmd_watch(const args& a, signal_waiter& sig);
/// submit, status, cancel, retry, delete, remove, nodes: through a node,
/// else (status, cancel, retry, delete, remove) on this machine's database.
int cmd_client(const args& a, signal_waiter& sig);

/// --version: this binary, its libraries and the encoders found here.
int cmd_version(const args& a);
/// doctor: what this machine lacks to run postroll, and what to install.
int cmd_doctor(const args& a);

/// --resume: refuses (bad_input) when the session has no unfinished job.
maybe_error check_resumable(runtime& r, const manifest& m);
/// The refusal of --resume: "…/session.json: session id "X" has no unfinished job to resume".
error nothing_to_resume(const manifest& m);
/// Waits for `job` with a progress bar, prints its output path (or the
/// record with --json, or why it did not complete). @returns the exit code.
int follow_to_the_end(const args& a, runtime& r, job_follower& follower, const job_record& job, signal_waiter& sig);

}  // namespace postroll::cli
