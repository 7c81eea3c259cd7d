// What happens to a session's originals once its job has completed
// (docs/storage.md): kept (the default), moved to the session's trash
// folder, or deleted. Runs as the job's last stage, so never when a stage
// failed, and only after the final output is validated and fsynced.
//
// Crash-safe by a journal in the output folder (retention.json, rewritten
// atomically): the intent and the file list are persisted before the first
// file goes, progress after each, "done" at the end. A run after a crash
// (the stage is retried like any other) continues from the journal; files
// already moved or deleted are not looked for again. The journal is sealed
// with the session's key and names its job: one postroll did not write for
// this job is ignored, and every path in it must stay inside the session
// folder, outside postroll's output folder (docs/security.md).
#pragma once

#include "postroll/config.hpp"

#include "postroll/stages.hpp"

#include <filesystem>
#include <functional>
#include <string>

#include "session/cancel_token.hpp"
#include "postroll/error.hpp"

namespace postroll {


/// The retention stage for a policy ("trash", "delete"); "" for "keep".
std::string retention_stage_for(const std::string& policy);

/// Moves (stage_trash_originals) or deletes (stage_delete_originals) the
/// originals named in the manifest, after rewriting session.json to point
/// at the merged output (atomically), so the session still opens.
/// @returns the stage result: {"policy", "files", "bytes", "trash", "at"}.
struct retention_context {
  std::string output_dir = default_output_dir;  ///< relative to the session folder
  std::string seal_key;                 ///< the session's seal key (stage order)
  std::string job_id;                   ///< the job the journal belongs to
  /// Whether the final output plays with the streams the session has (the
  /// media layer probes it); nothing is retired unless it says so.
  std::function<maybe_error(const std::filesystem::path& output, bool needs_video, bool needs_audio)> check_output;
};

result<std::string> retire_originals(const std::string& stage, const std::filesystem::path& session_dir,
                                     const retention_context& rc, const cancel_token& cancel,
                                     const progress_fn& progress);

/// The session's trash folder (inside its output folder).
std::filesystem::path trash_dir(const std::filesystem::path& session_dir, const std::string& output_dir);

}  // namespace postroll
