// How the postroll command prints jobs and nodes: one record per block for
// people, JSON with --json.
#pragma once

#include <ostream>
#include <string>

#include "postroll/runtime.hpp"

namespace postroll::cli {

/// What media.repair recovered and lost, one line per file.
void print_repairs(const job_record& j, std::ostream& out);
/// " (not compressed: REASON)" when media.compress left the playable file
/// as it was merged (an optimisation that did not happen is said, not hidden).
std::string compression_note(const job_record& j);
void print_record(const job_record& j, bool as_json);
/// `postroll nodes`: one block per node. @returns the exit code.
int print_nodes(runtime& r, bool as_json);
/// `postroll status JOB --history`.
void print_history(const std::vector<journal_entry>& entries, bool as_json);
/// completed 0, failed for bad input 2, anything else 1.
int exit_code_for(const job_record& j);

}  // namespace postroll::cli
