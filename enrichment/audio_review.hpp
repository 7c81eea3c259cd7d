// enrich.audio_review: what was said and when — a timed transcript, speech
// vs silence, loudness per minute — of the session timeline's audio.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "enrichment/speech_recognizer.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

struct audio_review_options {
  std::int64_t min_audio_ms = 10000;  ///< shorter audio is skipped (with a reason), not failed
  recognizer_options asr;
};

/// Speech vs silence from 20 ms frame energies: a frame is speech when it
/// is 10 dB above the recording's noise floor (its 10th percentile, at
/// least -55 dBFS); pauses under 300 ms do not split speech, and bursts
/// under 150 ms (a click, a key) are not speech.
struct voice_span {
  std::int64_t start_ms = 0, end_ms = 0;
};
std::vector<voice_span> speech_spans(const std::vector<float>& frame_db, int frame_ms = 20);

/// Reviews `audio` (any file GStreamer decodes) of `duration_ms`.
/// @returns transcript.json's content (docs/enrichment.md), or an error.
result<nlohmann::json> review_audio(const std::filesystem::path& audio, std::int64_t duration_ms,
                                    const audio_review_options& o, const cancel_token& cancel,
                                    const progress_fn& progress);

}  // namespace postroll
