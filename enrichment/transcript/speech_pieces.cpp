#include "enrichment/transcript/speech_pieces.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace postroll {

piece_cutter::piece_cutter(emit_fn emit, int rate, piece_limits l)
  : emit_(std::move(emit)), frame_(std::size_t(std::max(1, rate / 100))) {
  auto frames = [](std::int64_t ms) { return std::size_t(std::max<std::int64_t>(1, ms / 10)); };
  max_frames_ = frames(l.max_ms);
  min_frames_ = std::min(frames(l.min_ms), max_frames_ / 2);
  dead_frames_ = frames(l.dead_ms);
  window_frames_ = std::min(frames(l.window_ms), max_frames_ / 4);
}

void piece_cutter::feed(const std::int16_t* s, std::size_t n, std::int64_t first) {
  auto expected = buf_start_ + std::int64_t(buf_.size());
  if (first > expected) {
    // A jump: what came before ends here, and the skipped part is silence.
    finish();
    buf_start_ = first;
  }
  for (std::size_t i = 0; i < n;) {
    auto room = frame_ - buf_.size() % frame_;
    auto take = std::min(room, n - i);
    buf_.insert(buf_.end(), s + i, s + i + take);
    i += take;
    if (buf_.size() % frame_ == 0)
      frame_done();
  }
}

void piece_cutter::frame_done() {
  const std::int16_t* f = buf_.data() + buf_.size() - frame_;
  double sum = 0;
  int peak = 0;
  for (std::size_t k = 0; k < frame_; ++k) {
    sum += double(f[k]) * f[k];
    peak = std::max(peak, std::abs(int(f[k])));
  }
  energy_.push_back(sum);
  if (peak <= 1) {
    ++dead_run_;
  } else {
    dead_run_ = 0;
    live_ = true;
  }
  if (dead_run_ >= dead_frames_) {
    // Digital silence (a gap between segments): the piece ends where it
    // began, and silence is dropped as it comes.
    if (live_)
      emit((energy_.size() - dead_run_) * frame_);
    drop(buf_.size());
    return;
  }
  if (energy_.size() < max_frames_)
    return;
  // Speech runs on: cut in the quietest stretch after min_frames_.
  double best = std::numeric_limits<double>::max();
  std::size_t best_at = energy_.size() - window_frames_;
  double window = 0;
  for (std::size_t k = min_frames_; k < min_frames_ + window_frames_; ++k)
    window += energy_[k];
  for (std::size_t at = min_frames_; at + window_frames_ <= energy_.size(); ++at) {
    if (window < best) {
      best = window;
      best_at = at;
    }
    if (at + window_frames_ < energy_.size())
      window += energy_[at + window_frames_] - energy_[at];
  }
  emit((best_at + window_frames_ / 2) * frame_);
}

void piece_cutter::emit(std::size_t end) {
  end = std::min(end, buf_.size());
  if (end == 0)
    return;
  speech_piece p;
  p.first_sample = buf_start_;
  p.samples.assign(buf_.begin(), buf_.begin() + std::ptrdiff_t(end));
  drop(end);
  // What stays may still hold speech.
  live_ = dead_run_ < energy_.size();
  emit_(std::move(p));
}

void piece_cutter::drop(std::size_t n) {
  buf_.erase(buf_.begin(), buf_.begin() + std::ptrdiff_t(n));
  buf_start_ += std::int64_t(n);
  auto frames = std::min(energy_.size(), n / frame_);
  energy_.erase(energy_.begin(), energy_.begin() + std::ptrdiff_t(frames));
  dead_run_ = std::min(dead_run_, energy_.size());
  if (energy_.empty())
    live_ = false;
}

void piece_cutter::finish() {
  if (live_)
    emit(buf_.size());
  else
    drop(buf_.size());
}

}  // namespace postroll
