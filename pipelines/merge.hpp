// The playable file: the session's video files and the audio timeline muxed
// into one MP4 with the index at the front, everything on the session
// timeline (pipelines/video_writer). H.264 (and HEVC) that players take as
// it is and that joins without re-encoding is remuxed, packets untouched;
// anything else is encoded once, straight at the compression preset, so no
// intermediate file is made (docs/compression.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pipelines/video_writer.hpp"

namespace postroll {

struct merge_inputs {
  /// The session's video files (what GStreamer opens, names, offsets).
  std::vector<video_piece> videos;
  std::optional<std::filesystem::path> audio;  ///< the timeline: AAC in ADTS
  /// Room for the index, in bytes per second of media and track; 0 = estimated
  /// from the packet rates. Too little makes the merge fall back to the slower
  /// two-pass faststart layout (tests use that to exercise the fallback).
  unsigned index_bytes_per_second = 0;
  /// Encode even what could be remuxed (media.playable = "compressed").
  bool force_encode = false;
  /// How an encode is done: the compression stage's encoder and preset.
  video_write_options encode;
  /// Pictures larger than this are scaled down (aspect kept) when encoded;
  /// larger H.264 is encoded rather than remuxed.
  int max_width = 3840, max_height = 2160;
};

struct merge_result {
  bool video_remuxed = false;  ///< false when the video was encoded
  std::string video_codec;     ///< of the (first) input
  std::string encode_reason;   ///< why it was encoded ("" when remuxed)
  bool encoded_at_preset = false;  ///< encoded with the compression stage's encoder and preset
  int width = 0, height = 0;   ///< of the output's video
  std::int64_t duration_ms = 0;
  std::int64_t video_first_ms = -1;  ///< session time of the first frame
  std::int64_t video_end_ms = 0;
  std::size_t videos = 0;
};

/// The file tag a merge that encoded at the compression preset writes:
/// "postroll <encoder> <preset>" (the compress stage then has nothing to do).
std::string preset_tag(const std::string& encoder, quality_preset preset);

/// Writes `out_file` (callers pass a `.partial` path). Streams with bounded
/// memory: the muxer interleaves by time and blocks whichever input is ahead.
result<merge_result> merge_media(const merge_inputs& in, const std::filesystem::path& out_file,
                                 const cancel_token& cancel, const progress_fn& progress);

}  // namespace postroll
