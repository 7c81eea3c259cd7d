// enrich.audio_review: what was said and when — a timed transcript, speech
// vs silence, loudness per minute — of the session timeline's audio.
#pragma once

#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "enrichment/transcript/transcriber.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

struct audio_review_options {
  std::int64_t min_audio_ms = 10000;  ///< shorter audio is skipped (with a reason), not failed
  recognizer_options asr;
  int asr_threads = 0;  ///< decoders at once; 0 = the machine's cores
  /// The vocabulary to favour per stretch of the timeline (the screen's
  /// words: enrich_stages); null = none.
  decltype(transcriber_options::bias_for) bias_for;
  const piece_cache* cache = nullptr;  ///< recognised pieces to reuse and keep (null = none)
};

/// Hands the 16 kHz mono timeline to `on_chunk` in order (samples, count,
/// index of the first sample); returns an error or nothing at its end.
using analysis_source = std::function<maybe_error(
    const std::function<void(const std::int16_t*, std::size_t, std::int64_t)>& on_chunk)>;

/// Speech vs silence from 20 ms frame energies: a frame is speech when it
/// is 10 dB above the recording's noise floor (its 10th percentile, at
/// least -55 dBFS); pauses under 300 ms do not split speech, and bursts
/// under 150 ms (a click, a key) are not speech.
struct voice_span {
  std::int64_t start_ms = 0, end_ms = 0;
};
std::vector<voice_span> speech_spans(const std::vector<float>& frame_db, int frame_ms = 20);

/// Reviews the audio `source` hands over, about `duration_ms` long.
/// @returns transcript.json's content (docs/enrichment.md), or an error.
result<nlohmann::json> review_audio(const analysis_source& source, std::int64_t duration_ms,
                                    const audio_review_options& o, const cancel_token& cancel,
                                    const progress_fn& progress);

/// The same for a file (any GStreamer decodes).
result<nlohmann::json> review_audio(const std::filesystem::path& audio, std::int64_t duration_ms,
                                    const audio_review_options& o, const cancel_token& cancel,
                                    const progress_fn& progress);

}  // namespace postroll
