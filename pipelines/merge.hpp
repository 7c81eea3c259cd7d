// The playable file: the screen video and the audio timeline muxed into one
// MP4 with the index at the front (faststart). H.264/HEVC video is parsed and
// remuxed, never re-encoded; other video is encoded with x264enc.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "pipelines/gst_support.hpp"

namespace postroll {

struct merge_inputs {
  std::optional<std::filesystem::path> video;
  std::int64_t video_offset_ms = 0;
  std::optional<std::filesystem::path> audio;  ///< the timeline: AAC in ADTS
  /// Room for the index, in bytes per second of media and track; 0 = estimated
  /// from the packet rates. Too little makes the merge fall back to the slower
  /// two-pass faststart layout (tests use that to exercise the fallback).
  unsigned index_bytes_per_second = 0;
};

struct merge_result {
  bool video_remuxed = false;  ///< false when the video had to be encoded
  std::string video_codec;     ///< of the input
  std::int64_t duration_ms = 0;
};

/// Writes `out_file` (callers pass a `.partial` path). Streams with bounded
/// memory: the muxer interleaves by time and blocks whichever input is ahead.
result<merge_result> merge_media(const merge_inputs& in, const std::filesystem::path& out_file,
                                 const gst::cancel_token& cancel, const gst::progress_fn& progress);

}  // namespace postroll
