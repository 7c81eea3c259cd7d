// live.record: the stage a live job runs while its recording is made. It
// follows the session folder's session.json (inotify on the folder: the
// recorder, or postroll's append, replaces it by rename), does per-file
// work as files are listed, and completes when the manifest carries
// `endedAt` — or, when nothing new was listed for `idle_timeout_ms`, with
// a warning that the recorder went away. It never fails on a bad file:
// that is the batch stages' to report, as for any session.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "enrichment/enrich_stages.hpp"
#include "pipelines/stages.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

struct live_options {
  /// The engines of the batch stages: what is done live is their work,
  /// cached where they look for it.
  enrich_options enrich;
  media_options media;
  std::int64_t idle_timeout_ms = 600000;  ///< no new file this long: the recorder went away
  std::string output_dir = default_output_dir;
  std::string seal_key;  ///< set per order
  std::string job_id;
  /// Whether the job runs the enrich.* stages: the follower transcribes
  /// only then (set per order from the job's choices; the node's default).
  bool transcribe = true;
};

/// Runs live.record for the session in `session_dir`.
/// @returns the stage's JSON result ("ended": "recorder" or "idle", a
///          "warning" for the latter, what was done live), or `cancelled`.
result<std::string> run_live_stage(const std::string& stage, const std::filesystem::path& session_dir,
                                   const live_options& options, const cancel_token& cancel,
                                   const progress_fn& progress);

}  // namespace postroll
