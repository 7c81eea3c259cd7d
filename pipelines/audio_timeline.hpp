// The session's audio timeline: every segment decoded, placed at its offset,
// gaps filled with silence, overlaps mixed, encoded once to AAC (an ADTS
// stream, muxed into the final MP4 by the merge). Segments decode in parallel while the encoder runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "pipelines/aac_pieces.hpp"
#include "pipelines/audio_decoder.hpp"
#include "pipelines/audio_format.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"
#include "session/manifest.hpp"

namespace postroll {

struct timeline_segment {
  std::filesystem::path file;  ///< read by name when `ref` is null (tests, postroll's own files)
  std::int64_t offset_ms = 0;
  /// The manifest entry: opened through the session folder when decoded.
  const media_ref* ref = nullptr;
};

struct timeline_options {
  int rate = 0;      ///< output rate; 0 = the highest of the segments' rates, up to 48 kHz
  int channels = 0;  ///< output channels (1 or 2); 0 = the most the segments have, up to 2
  /// A segment that cannot be decoded becomes silence with a warning instead
  /// of failing the timeline.
  bool undecodable_as_silence = false;
  /// The timeline is padded with silence to at least this length (the video's).
  std::int64_t min_duration_ms = 0;
  int decode_threads = 2;  ///< segments decoded at once
  int encode_threads = 2;  ///< AAC pieces encoded at once
  /// Where encoded pieces are looked up and kept (null: none): what a live
  /// job's follower encoded is only joined.
  const aac_piece_store* pieces = nullptr;
  /// Nothing may end beyond this on the timeline (the longest session).
  std::int64_t max_duration_ms = 24LL * 3600 * 1000;
};

struct timeline_result {
  int rate = 0;
  int channels = 0;
  int bitrate = 0;
  std::int64_t duration_ms = 0;          ///< timeline length
  std::int64_t priming_compensated = 0;  ///< samples cut for the AAC encoder's priming
  std::int64_t pieces = 0, pieces_reused = 0;  ///< AAC pieces, and those found encoded
  std::vector<std::string> warnings;     ///< segments replaced by silence, and why
};

/// Builds the timeline into `out_file` (written as-is; callers pass a
/// `.partial` path). `segments` must be sorted by offset.
/// @param progress called with the share of the timeline done, at least every 100 ms
result<timeline_result> build_audio_timeline(const std::vector<timeline_segment>& segments,
                                             const std::filesystem::path& out_file,
                                             const timeline_options& options,
                                             const cancel_token& cancel,
                                             const progress_fn& progress);

/// The AAC bitrate of a timeline at `rate` with `channels`.
int timeline_bitrate(int rate, int channels);
/// One segment's format as its header states it (0s when unknown).
audio_format timeline_segment_format(const timeline_segment& s);
/// The format (rate, channels) a timeline takes whose segments have at most
/// `max_rate` and `max_channels`: the highest up to 48 kHz and 2 channels,
/// unless `options` sets them; 0 where nothing is known.
std::pair<int, int> timeline_format_for(int max_rate, int max_channels, const timeline_options& options);
/// The same for `segments`, read from their headers.
std::pair<int, int> timeline_format(const std::vector<timeline_segment>& segments, const timeline_options& options);

/// One segment decoded as the timeline takes it (`rate`, `channels`),
/// opened through its session folder; nothing may end past `max_end_ms`.
result<pcm_audio> decode_timeline_segment(const timeline_segment& s, int rate, int channels,
                                          const cancel_token& cancel, std::int64_t max_end_ms);

/// The manifest's audio segments as the timeline places them (sorted as the
/// manifest is: by offset). Segments media.repair found empty are left out,
/// each with a line in `skipped`.
std::vector<timeline_segment> timeline_segments_of(const manifest& m, std::vector<std::string>* skipped = nullptr);

/// Consecutive runs of interleaved samples: `count` samples starting at
/// frame `first` of the timeline.
using timeline_chunk_fn = std::function<void(const std::int16_t* samples, std::size_t count, std::int64_t first)>;

/// The same timeline (same placement, gaps and mixing) handed over as PCM
/// instead of encoded: what analysis reads, so that speech recognition
/// hears the recorder's segments and not the lossy AAC made from them.
/// `bitrate` and `priming_compensated` of the result stay 0.
result<timeline_result> read_audio_timeline(const std::vector<timeline_segment>& segments,
                                            const timeline_options& options, const cancel_token& cancel,
                                            const progress_fn& progress, const timeline_chunk_fn& on_chunk);

}  // namespace postroll
