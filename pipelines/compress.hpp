// The compression pipeline: re-encodes the playable MP4's video once
// (dropping frames that repeat the previous one, written as variable frame
// rate; every frame at its presentation time: pipelines/video_writer),
// copies its audio, and checks a result before anyone swaps it in.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pipelines/encoder_presets.hpp"
#include "pipelines/frame_dedup.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"
#include "pipelines/stream_span.hpp"

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
  int max_width = 3840, max_height = 2160;  ///< larger pictures are scaled down (aspect kept)
  /// The audio to copy: an ADTS file (the timeline) instead of the input's
  /// own audio track ("" = the input's).
  std::filesystem::path audio_adts;
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
                                      const compress_options& options, const cancel_token& cancel,
                                      const progress_fn& progress, bool* encoder_failed = nullptr);

/// What a replacement must match: the playable file's spans and length.
struct playable_facts {
  std::int64_t duration_ms = 0;
  stream_span span;
  double frame_rate = 30;  ///< one frame of it is the tolerance
  std::vector<std::string> tags;  ///< the file's tags ("encoder=...")
};

/// Measures `file` as check_playable compares it.
result<playable_facts> playable_facts_of(const std::filesystem::path& file);

/// Whether `file` is fit to replace a playable file with `expected` facts:
/// its video starts and ends, and its audio ends, within one frame of the
/// original's, its duration too; it decodes to the end without errors; and
/// seeking to 8 points spread over it lands on decodable video frames.
/// @returns nothing if fit, else the reason (`errc::media`).
maybe_error check_playable(const std::filesystem::path& file, const playable_facts& expected,
                           const cancel_token& cancel);

}  // namespace postroll
