// A growing manifest's audio segments placed on a timeline as the batch
// timeline places them (timeline_mixer), a segment at a time as they are
// listed: what is before the newest segment's start is final and handed
// out. Live work on the audio (the transcript's pieces, the AAC pieces)
// reads the timeline through it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pipelines/audio_timeline.hpp"
#include "pipelines/timeline_mixer.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

class live_segments {
public:
  /// The timeline at `rate` Hz with `channels`; nothing ends past `max_end_ms`.
  live_segments(int rate, int channels, std::int64_t max_end_ms, bool undecodable_as_silence);

  /// Whether `segments` begins with the segments taken so far, in order
  /// (else the timeline from the first difference on is not what was
  /// handed out: start over with a new reader).
  bool continues(const std::vector<timeline_segment>& segments) const;
  /// Why the reading stopped: a segment that cannot be decoded (the batch
  /// stage reports it, as for any session), or what `out` returned.
  struct stopped {
    std::filesystem::path file;  ///< the segment (empty when `out` failed)
    std::string message;
  };
  /// Decodes and places the segments not taken yet, handing out to `out`
  /// what they make final.
  std::optional<stopped> take(const std::vector<timeline_segment>& segments, const timeline_mixer::write_fn& out,
                              const cancel_token& cancel);
  /// Frames handed out so far (during `out`: where its samples start).
  std::int64_t flushed() const { return mixer_.flushed(); }
  /// Milliseconds of the timeline placed.
  std::int64_t end_ms() const { return mixer_.end() * 1000 / rate_; }
  int rate() const { return rate_; }
  int channels() const { return channels_; }

private:
  int rate_, channels_;
  std::int64_t max_end_ms_;
  bool as_silence_;
  timeline_mixer mixer_;
  std::vector<std::string> taken_;  // the segments' paths, in order
};

}  // namespace postroll
