#include "enrichment/live/live_segments.hpp"

#include <spdlog/spdlog.h>

namespace postroll {

namespace {
std::string path_of(const timeline_segment& s) { return s.ref ? s.ref->path : s.file.string(); }
}  // namespace

live_segments::live_segments(int rate, int channels, std::int64_t max_end_ms, bool undecodable_as_silence)
  : rate_(rate), channels_(channels), max_end_ms_(max_end_ms), as_silence_(undecodable_as_silence),
    mixer_(rate, channels) {}

bool live_segments::continues(const std::vector<timeline_segment>& segments) const {
  if (taken_.size() > segments.size())
    return false;
  for (std::size_t i = 0; i < taken_.size(); ++i)
    if (path_of(segments[i]) != taken_[i])
      return false;
  return true;
}

std::optional<live_segments::stopped> live_segments::take(const std::vector<timeline_segment>& segments,
                                               const timeline_mixer::write_fn& out, const cancel_token& cancel) {
  for (auto next = taken_.size(); next < segments.size() && !cancel.is_cancelled(); ++next) {
    const auto& seg = segments[next];
    auto start = mixer_.frame_at(seg.offset_ms);
    auto pcm = decode_timeline_segment(seg, rate_, channels_, cancel, max_end_ms_);
    if (!pcm && cancel.is_cancelled())
      return std::nullopt;
    if (!pcm && !(pcm.err().code == errc::bad_input && as_silence_))
      return stopped{seg.file, pcm.err().message};
    if (auto err = mixer_.flush_to(start, out))
      return stopped{{}, err->message};
    if (pcm)
      mixer_.mix_in(*pcm, start);
    taken_.push_back(path_of(seg));
  }
  return std::nullopt;
}

}  // namespace postroll
