// A WAV whose header a killed recorder never finalised: the RIFF and data
// sizes are 0, 0xFFFFFFFF or larger than the file. GStreamer 1.22's
// wavparse reads the first two to the end of the file by itself; the
// repair writes a copy whose sizes match the bytes there, so every reader
// (and the last partial sample frame) agrees.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "postroll/error.hpp"

namespace postroll {

struct wav_scan {
  bool damaged = false;
  std::string reason;
  std::int64_t data_offset = 0;   ///< first byte of the samples
  std::int64_t data_bytes = 0;    ///< whole sample frames present
  int block_align = 0;
  int bytes_per_second = 0;
};

wav_scan scan_wav(const std::filesystem::path& file);

/// Copies `damaged` to `out` (atomically) with correct RIFF and data sizes.
maybe_error fix_wav(const std::filesystem::path& damaged, const std::filesystem::path& out, const wav_scan& scan);

}  // namespace postroll
