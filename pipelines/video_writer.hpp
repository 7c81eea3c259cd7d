// The session's video written once, on the session timeline: one or more
// video files, each at its manifest offset, muxed with an audio track into
// one MP4 — either by copying their samples (remux: H.264/HEVC that players
// take as it is) or by decoding and encoding them once (encode: anything
// else, and the compress stage). Every timestamp is the file's presentation
// time as its demuxer gives it (stream time: edit lists, empty edits and a
// B-frame stream's composition delay included) plus the file's offset, so
// what a recorder shows at time t plays at session time t. The last frame
// holds until `end_ms` (the session's end) and across gaps between files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pipelines/encoder_presets.hpp"
#include "pipelines/frame_dedup.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

/// One video file on the session timeline.
struct video_piece {
  std::string path;            ///< what GStreamer opens (a /proc/self/fd/N of the session folder)
  std::filesystem::path name;  ///< for messages
  std::int64_t offset_ms = 0;  ///< session time of the file's time 0
  std::string container;       ///< caps name ("video/quicktime", "video/webm", ...): picks the demuxer
  std::string codec;           ///< caps name of its video ("video/x-h264", ...)
};

/// The audio track that goes into the file as it is (no re-encoding).
struct audio_track {
  std::string path;
  bool adts = true;  ///< an ADTS AAC stream (the timeline); false: the audio of an MP4
};

enum class gap_fill { hold, black };

struct video_write_options {
  bool encode = false;  ///< decode and encode (else copy the samples)
  /// encode: the encoder element and its settings.
  std::string encoder = "x264enc";
  quality_preset preset = quality_preset::medium;
  int keyframe_seconds = 10;
  bool drop_duplicates = true;  ///< a frame repeating the previous one is not encoded (variable frame rate)
  int refine_after_ms = 500;    ///< a picture still on screen this long is sent once more (0: never)
  dedup_options dedup;
  int width = 0, height = 0;    ///< encode: the picture (each file scaled to fit, padded with black)
  double frame_rate = 30;       ///< encode: the nominal rate written in the caps (timestamps carry the real timing)
  gap_fill gaps = gap_fill::hold;
  std::int64_t end_ms = 0;      ///< the video lasts at least until here (its last frame held)
  /// The index at the front: room reserved for it (one pass, estimated from
  /// `packets_per_second`), or mp4mux's faststart (two passes, always fits).
  bool faststart = false;
  double packets_per_second = 30;
  unsigned index_bytes_per_second = 0;  ///< 0 = from packets_per_second
  std::string encoder_tag;  ///< written as the file's encoder tag ("" = none)
};

struct video_write_stats {
  std::int64_t frames_in = 0;   ///< samples read from the files
  std::int64_t frames_out = 0;  ///< samples muxed (encode: frames encoded)
  std::int64_t first_ms = -1;   ///< session time of the first frame
  std::int64_t end_ms = 0;      ///< session time the video ends
  std::int64_t bytes_out = 0;
  bool encoder_failed = false;  ///< the error came from the encoding side (another encoder may do)
  /// remux: two files' decode times overlap (a file starting within a
  /// reordering delay of the previous one's end): encode instead.
  bool remux_impossible = false;
};

/// Writes `out_file` (callers pass a `.partial` path): the pieces (sorted
/// by offset) and `audio`. Progress is the share of `end_ms` written.
/// @returns the facts, or an error naming the file that failed
///          (`cancelled` when cancelled; the stats' flags say what to try next).
result<video_write_stats> write_session_video(const std::vector<video_piece>& pieces,
                                              const std::optional<audio_track>& audio,
                                              const std::filesystem::path& out_file, const video_write_options& options,
                                              const cancel_token& cancel, const progress_fn& progress,
                                              video_write_stats* stats_on_error = nullptr);

}  // namespace postroll
