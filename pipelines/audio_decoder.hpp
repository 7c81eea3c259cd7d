// Decodes one audio file to interleaved S16 PCM at a chosen rate and channel
// count, with the start delays GStreamer leaves in place removed (MP3).
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

struct pcm_audio {
  int rate = 0;
  int channels = 0;
  std::vector<std::int16_t> samples;  ///< interleaved
  std::int64_t frames() const { return channels ? std::int64_t(samples.size()) / channels : 0; }
};

/// Decodes `file`. `rate`/`channels` of 0 keep the file's own.
/// @returns PCM, or an error naming the file: `errc::bad_input` when it
///          cannot be decoded, `errc::cancelled` when cancelled.
/// A file longer than `max_ms` (0: no limit) is refused while it decodes,
/// before its samples can fill memory (a tiny file may hold hours of silence).
result<pcm_audio> decode_audio(const std::filesystem::path& file, int rate, int channels,
                               const cancel_token& cancel, std::int64_t max_ms = 0);

}  // namespace postroll
