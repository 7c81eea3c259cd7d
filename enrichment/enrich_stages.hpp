// The enrichment stages a job runs, as plain functions (no actors): each
// reads the session and the finished media, writes its results under
// `<session>/<output_dir>/enrichment/` crash-safely, reports progress and
// stops within a second when cancelled. The enrichment-worker actor calls
// them on a thread of its own. Results are cached by a hash of the stage's
// inputs, options and version (docs/enrichment.md).
#pragma once

#include "postroll/config.hpp"

#include "postroll/stages.hpp"

#include <filesystem>
#include <map>
#include <string>

#include "enrichment/audio_review.hpp"
#include "enrichment/chapters.hpp"
#include "net/external_command.hpp"
#include "enrichment/summary.hpp"

namespace postroll {


/// @returns true for the four built-in enrichment stages.
bool is_builtin_enrich_stage(const std::string& stage);

struct enrich_options {
  std::string output_dir = default_output_dir;  ///< relative to the session folder, as media's
  bool missing_audio_as_silence = false;
  audio_review_options audio;
  /// Share of the recogniser's language model given to the words on screen
  /// (chapters.json) around the speech; 0 = the transcript does not wait for chapters.
  double screen_vocabulary = 0.1;
  chapter_options chapters;
  summary_options summary;
  std::size_t canvas_max_tiles = 48;  ///< more chapters: evenly chosen ones get a tile
  std::string canvas_format = "jpg";  ///< "jpg" or "png"
  /// Stage name -> command. A built-in stage's name replaces its engine
  /// (the command must answer in the same schema); any other
  /// "enrich.<name>" is an extra stage writing <name>.json.
  std::map<std::string, external_command> commands;
  /// The session's seal key (from the stage order): cached results count
  /// only when their key was sealed with it (a planted result never does).
  std::string seal_key;
  std::string job_id;  ///< the job the stage runs for
  std::int64_t max_session_ms = 24LL * 3600 * 1000;
  std::size_t max_session_files = 20000;
};

/// `<session>/<output_dir>/enrichment`.
std::filesystem::path enrichment_dir(const std::filesystem::path& session_dir, const enrich_options& o);

/// Runs one enrichment stage for the session in `session_dir`.
/// @returns a compact JSON result for the job record (files written, counts,
///          the summary text, "cached" when nothing had to be redone), or an
///          error (`cancelled`, `bad_input` naming the file, `media`, ...).
result<std::string> run_enrich_stage(const std::string& stage, const std::filesystem::path& session_dir,
                                     const enrich_options& options, const cancel_token& cancel,
                                     const progress_fn& progress);

}  // namespace postroll
