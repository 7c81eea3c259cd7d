// MP4/MOV files a killed recorder left behind (docs/recovery.md):
//  - no `moov` (the index is written last): the H.264 frames in `mdat` are
//    walked and muxed again, with the codec configuration from a reference
//    recording of the same recorder or from parameter sets in the stream;
//  - fragmented MP4 cut inside a fragment: everything up to the last
//    complete `moof`+`mdat` pair is kept.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "session/cancel_token.hpp"
#include "postroll/error.hpp"

namespace postroll {

/// One top-level box as found in the file.
struct mp4_box {
  std::string type;
  std::int64_t offset = 0;
  std::int64_t size = 0;    ///< as declared (to the end of the file for size 0)
  int header = 8;           ///< 8, or 16 with a 64-bit size
  bool complete = true;     ///< the file holds all of it
};

/// The top-level boxes of `file`, in order. Stops at bytes that cannot be
/// a box header; the last box may be incomplete.
std::vector<mp4_box> top_level_boxes(const std::filesystem::path& file);

enum class mp4_damage {
  none,          ///< not damaged in a way we repair (or not an MP4)
  no_moov,       ///< an `mdat` without an index
  fragment_cut,  ///< fragmented, the last fragment incomplete
};

struct mp4_scan {
  mp4_damage damage = mp4_damage::none;
  std::string reason;          ///< what is wrong, for people
  std::int64_t keep_bytes = 0; ///< fragment_cut: bytes up to the last complete fragment
};

/// Looks at the box structure only (a few reads, no decoding).
mp4_scan scan_mp4(const std::filesystem::path& file);

struct rebuild_options {
  std::filesystem::path reference;  ///< a complete recording from the same recorder ("" = none)
  double default_fps = 30;          ///< when neither the reference nor the stream says
};

struct rebuild_report {
  std::int64_t frames = 0;
  double fps = 0;
  std::string fps_from;           ///< "reference", "stream" or "assumed"
  std::string config_from;        ///< "reference" or "stream"
  std::int64_t bytes_recovered = 0;
  std::int64_t bytes_lost = 0;    ///< of the mdat payload
  std::int64_t duration_ms = 0;
  std::string stopped_because;    ///< why the walk ended early ("" = at the end of the data)
};

/// Rebuilds `damaged` (no moov) into a playable MP4 at `out`.
/// @returns what was recovered, or `bad_input` saying why nothing could be
///          (no H.264 found, no codec configuration and no reference).
result<rebuild_report> rebuild_mp4(const std::filesystem::path& damaged, const std::filesystem::path& out,
                                   const rebuild_options& options, const cancel_token& cancel,
                                   const progress_fn& progress);

}  // namespace postroll
