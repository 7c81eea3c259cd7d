// Where a file's streams begin and end on its own timeline, read by demuxing
// (no decoding): the first presentation time and the end (the latest
// presentation time plus duration), as the demuxer presents them (edit lists
// and composition delay applied). Headers of a file may claim anything; this
// is what a player shows.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "postroll/error.hpp"

namespace postroll {

struct track_span {
  bool present = false;
  std::int64_t first_ms = 0;  ///< first presentation time
  std::int64_t end_ms = 0;    ///< end of the last presentation
  std::int64_t samples = 0;
};

struct stream_span {
  track_span video;
  track_span audio;
};

/// Demuxes `file` to its end. @returns the spans, or `media` naming the file.
result<stream_span> measure_span(const std::filesystem::path& file);

/// Where `file`'s video (else audio) presentation ends on its own timeline:
/// the container's duration, or, for Matroska/WebM (a browser's
/// MediaRecorder writes no duration) and files that state none, measured by
/// demuxing. `container` and `duration_ms` are what the probe said.
std::int64_t presented_end_ms(const std::filesystem::path& file, const std::string& container,
                              std::int64_t duration_ms);

}  // namespace postroll
