// The compression pipeline: re-encodes the playable MP4's video (dropping
// frames that repeat the previous one, written as variable frame rate),
// copies its audio, and checks a result before anyone swaps it in.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "pipelines/encoder_presets.hpp"
#include "pipelines/frame_dedup.hpp"
#include "pipelines/gst_support.hpp"

namespace postroll {

struct compress_options {
  std::string encoder = "x264enc";  ///< element factory name (see encoder_choice)
  quality_preset preset = quality_preset::medium;
  int keyframe_seconds = 10;  ///< at most this long between keyframes (in source frames)
  bool drop_duplicates = true;
  /// A picture still on screen this long after it appeared is sent once
  /// more, so the encoder can refine it (0: never).
  int refine_after_ms = 500;
  dedup_options dedup;
};

struct compress_stats {
  std::int64_t frames_in = 0;   ///< decoded from the source
  std::int64_t frames_out = 0;  ///< handed to the encoder
  std::int64_t bytes_out = 0;
};

/// Writes `output` from `input` (an MP4 with H.264 video and optionally
/// AAC audio). `encoder_failed` is set when the error came from the encoding
/// side (the caller may retry with another encoder).
result<compress_stats> compress_video(const std::filesystem::path& input, const std::filesystem::path& output,
                                      const compress_options& options, const gst::cancel_token& cancel,
                                      const gst::progress_fn& progress, bool* encoder_failed = nullptr);

/// Whether `file` is fit to replace a playable file of `expected_ms`: it
/// decodes to the end without errors, its duration is within 50 ms, and
/// seeking to 8 points spread over it lands on decodable video frames.
/// @returns nothing if fit, else the reason (`errc::media`).
maybe_error check_playable(const std::filesystem::path& file, std::int64_t expected_ms,
                           const gst::cancel_token& cancel);

}  // namespace postroll
