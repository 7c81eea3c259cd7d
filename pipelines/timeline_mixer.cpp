#include "pipelines/timeline_mixer.hpp"

#include <algorithm>

namespace postroll {

maybe_error timeline_mixer::flush_to(std::int64_t target, const write_fn& out) {
  while (flushed_ < target) {
    auto avail = std::int64_t(pending_.size()) / channels_;
    if (avail > 0) {
      auto n = std::min(avail, target - flushed_);
      if (auto err = out(pending_.data(), n))
        return err;
      pending_.erase(pending_.begin(), pending_.begin() + n * channels_);
      flushed_ += n;
    } else {
      if (auto err = out(nullptr, target - flushed_))
        return err;
      flushed_ = target;
    }
  }
  return std::nullopt;
}

void timeline_mixer::mix_in(const pcm_audio& pcm, std::int64_t start) {
  auto at = std::size_t(start - flushed_) * std::size_t(channels_);
  if (pending_.size() < at + pcm.samples.size())
    pending_.resize(at + pcm.samples.size(), 0);
  for (std::size_t k = 0; k < pcm.samples.size(); ++k) {
    int v = int(pending_[at + k]) + int(pcm.samples[k]);
    pending_[at + k] = std::int16_t(std::clamp(v, -32768, 32767));
  }
}

}  // namespace postroll
