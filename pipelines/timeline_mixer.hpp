// Places decoded audio segments on the session timeline, in offset order,
// and hands the timeline out as far as it is final: gaps as silence,
// overlaps summed (clipped). The batch timeline and a live job's follower
// share it, so both hear the same samples at the same places.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "pipelines/audio_decoder.hpp"
#include "postroll/error.hpp"

namespace postroll {

class timeline_mixer {
public:
  /// Receives `frames` frames: `samples` interleaved, or null for silence.
  using write_fn = std::function<maybe_error(const std::int16_t* samples, std::int64_t frames)>;

  timeline_mixer(int rate, int channels) : rate_(rate), channels_(channels) {}

  /// The timeline frame where `offset_ms` falls (rounded to the nearest).
  std::int64_t frame_at(std::int64_t offset_ms) const { return (offset_ms * rate_ + 500) / 1000; }
  /// Hands everything before `frame` to `out` (nothing placed later may
  /// start before it).
  maybe_error flush_to(std::int64_t frame, const write_fn& out);
  /// Hands out everything placed.
  maybe_error flush_all(const write_fn& out) { return flush_to(end(), out); }
  /// Mixes `pcm` in from frame `start` (>= flushed()).
  void mix_in(const pcm_audio& pcm, std::int64_t start);
  std::int64_t flushed() const { return flushed_; }
  /// One past the last frame placed (or flushed).
  std::int64_t end() const { return flushed_ + std::int64_t(pending_.size()) / channels_; }

private:
  int rate_, channels_;
  std::int64_t flushed_ = 0;          // frames handed out
  std::vector<std::int16_t> pending_; // mixed frames from flushed_ on
};

}  // namespace postroll
