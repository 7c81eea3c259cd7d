// Matroska/WebM (what Chromium's MediaRecorder writes) cut off inside a
// cluster by a killed recorder: everything up to the last complete cluster
// is kept, and the segment's size becomes "unknown" so demuxers read to
// the end of what is there.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "postroll/error.hpp"

namespace postroll {

struct matroska_scan {
  bool damaged = false;
  std::string reason;
  std::int64_t keep_bytes = 0;  ///< up to the end of the last complete cluster
};

/// Walks the EBML structure (element headers only; clusters of unknown
/// size are walked block by block).
matroska_scan scan_matroska(const std::filesystem::path& file);

/// Writes the first `keep_bytes` of `damaged` to `out` (atomically) with the
/// segment's size set to unknown.
maybe_error trim_matroska(const std::filesystem::path& damaged, const std::filesystem::path& out,
                          std::int64_t keep_bytes);

}  // namespace postroll
