// Decodes a file's audio to 16 kHz mono 16-bit samples for analysis
// (speech recognition, speech/silence, loudness).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

/// The rate analysis works at: what speech models expect.
inline constexpr int analysis_rate = 16000;

/// Calls `on_chunk` with consecutive runs of samples (first sample index
/// on the file's timeline, count) until the end, cancellation or an error.
/// `progress` gets the fraction of `duration_ms` read (when > 0).
maybe_error read_audio_samples(const std::filesystem::path& file, std::int64_t duration_ms,
                               const cancel_token& cancel, const progress_fn& progress,
                               const std::function<void(const std::int16_t* samples, std::size_t count,
                                                        std::int64_t first_index)>& on_chunk);

}  // namespace postroll
