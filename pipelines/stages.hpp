// The media stages a job runs, as plain functions: read the session, write
// outputs crash-safely, report progress, stop when cancelled. No actors here:
// the media-processor actor calls these on a thread of its own.
#pragma once

#include "postroll/config.hpp"

#include "postroll/stages.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {


/// Options a media stage needs; filled from the node's config.
struct media_options {
  std::string output_dir = default_output_dir;  ///< relative to the session folder
  bool undecodable_as_silence = false;  ///< missing or undecodable audio segments become silence
  int decode_threads = 2;
  /// media.compress: the encoder chosen at start-up (see encoder_choice),
  /// the ranking it came from (for the fallback) and the quality preset.
  std::string encoder = "x264enc";
  std::vector<std::string> encoder_ranking;
  std::string quality = "medium";
  /// What media.merge writes: "fast" (video copied where it can be, the
  /// playable file in seconds; media.compress makes it small later) or
  /// "compressed" (encoded once at the compression preset, no intermediate
  /// file: the least disk, the slowest start).
  std::string playable = "fast";
  std::string video_gaps = "hold";  ///< between video files: "hold" the last frame, or "black"
  int max_video_width = 3840, max_video_height = 2160;  ///< larger pictures are scaled down when encoded
  int audio_rate = 0;  ///< the audio timeline's rate (0: the highest input rate, up to 48 kHz)
  /// media.repair: a complete recording of the same recorder, whose codec
  /// configuration rebuilds a file without index ("" = the stream's own).
  std::string repair_reference;
  /// The session's seal key (from the stage order): postroll's own records
  /// in the session folder are sealed with it (session/seal.hpp).
  std::string seal_key;
  std::string job_id;  ///< the job the stage runs for (the retention journal names it)
  /// The longest session taken (manifest offsets, files' ends).
  std::int64_t max_session_ms = 24LL * 3600 * 1000;
  std::size_t max_session_files = 20000;
};

/// Where a session's outputs go.
std::filesystem::path output_dir(const std::filesystem::path& session_dir,
                                 const media_options& options);

/// Runs one media stage for the session in `session_dir`.
/// @returns the stage's result as a JSON object (outputs, facts measured), or
///          an error (`bad_input` names the file; `cancelled`; `media`; `io`).
result<std::string> run_media_stage(const std::string& stage,
                                    const std::filesystem::path& session_dir,
                                    const media_options& options,
                                    const cancel_token& cancel,
                                    const progress_fn& progress);

}  // namespace postroll
