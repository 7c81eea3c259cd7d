// External enrichers: a command (argv, no shell) reads one JSON request on
// stdin and writes one JSON object on stdout. This is how whisper.cpp, a
// cloud model or any script replaces or adds a stage. The contract is in
// docs/enrichment.md.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

struct external_command {
  std::vector<std::string> argv;       ///< argv[0] is the program (PATH is searched)
  std::int64_t timeout_ms = 600000;    ///< killed (with its process group) after this long
  /// The enrichment stages whose results its request carries ("inputs"):
  /// the stages it runs after.
  std::vector<std::string> inputs;
};

/// What a finished command printed.
struct command_output {
  std::string out;  ///< stdout
};

/// Runs `argv` (no shell, own process group) with `input` on stdin until it
/// exits, `timeout_ms` passes or `cancel` is set (both kill the group).
/// Lines "progress <0..1>" on stderr go to `progress` (until the first,
/// progress is the share of the timeout used); the rest of stderr is kept
/// for the error message. `who` names the command in messages.
/// @returns its stdout when it exited with status 0, else an error saying
///          why (status and stderr, signal, timeout, cancelled).
result<command_output> run_command(const std::string& who, const std::vector<std::string>& argv,
                                   const std::string& input, std::int64_t timeout_ms,
                                   const cancel_token& cancel, const progress_fn& progress);

/// Runs `cmd` with `request` on stdin. Lines "progress <0..1>" on its
/// stderr are forwarded to `progress` (until the first one, progress is
/// the share of the timeout used); other stderr lines are kept for the
/// error message. The process group is killed on cancel and on timeout.
/// @returns the JSON object it printed, or an error naming `name` and why
///          (exit status, timeout, invalid JSON, not an object).
result<nlohmann::json> run_external(const std::string& name, const external_command& cmd,
                                    const nlohmann::json& request, const cancel_token& cancel,
                                    const progress_fn& progress);

}  // namespace postroll
