// The media stages a job runs, as plain functions: read the session, write
// outputs crash-safely, report progress, stop when cancelled. No actors here:
// the media-processor actor calls these on a thread of its own.
#pragma once

#include <filesystem>
#include <string>

#include "pipelines/gst_support.hpp"

namespace postroll {

/// Stage names as they appear in job records and events.
inline constexpr const char* stage_timeline = "media.timeline";
inline constexpr const char* stage_merge = "media.merge";

/// Options a media stage needs; filled from the node's config.
struct media_options {
  std::string output_dir = "postroll";  ///< relative to the session folder
  bool undecodable_as_silence = false;  ///< missing or undecodable audio segments become silence
  int decode_threads = 2;
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
                                    const gst::cancel_token& cancel,
                                    const gst::progress_fn& progress);

}  // namespace postroll
