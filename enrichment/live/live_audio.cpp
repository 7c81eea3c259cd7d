#include "enrichment/live/live_audio.hpp"

#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "enrichment/live/live_segments.hpp"
#include "enrichment/live/manifest_inbox.hpp"
#include "pipelines/aac_encoder.hpp"
#include "pipelines/aac_pieces.hpp"
#include "pipelines/audio_timeline.hpp"

namespace postroll {

namespace fs = std::filesystem;

struct live_audio::impl {
  live_options o;
  aac_piece_store store;
  cancel_token cancel;  // its own: the end of the recording stops it, not the stage's cancel
  mutable std::mutex mtx;
  manifest_inbox inbox;
  std::int64_t done_before = 0;  // pieces of encoders replaced by a restart
  std::thread thread;

  // The thread's own state.
  timeline_options topt;
  int max_rate = 0, max_channels = 0;
  // Segments whose headers were read, by path: one listed out of order
  // lands before others, so a count of them would skip it.
  std::set<std::string> sniffed;
  std::optional<live_segments> timeline;
  std::optional<aac_encoder> encoder;  // guarded by mtx where it is replaced
  bool given_up = false;

  impl(const live_options& opts, fs::path dir) : o(opts), store(std::move(dir), opts.seal_key) {
    topt.rate = o.media.audio_rate;
    topt.max_duration_ms = o.media.max_session_ms;
  }

  void restart(int rate, int channels) {
    std::lock_guard<std::mutex> g{mtx};
    if (encoder)
      done_before += encoder->pieces_done();
    encoder.reset();
    timeline.emplace(rate, channels, o.media.max_session_ms, o.media.undecodable_as_silence);
    // One encoder: the recording has the cores, not the follower.
    encoder.emplace(rate, channels, timeline_bitrate(rate, channels), 1, cancel, &store);
  }

  void take(const manifest& m) {
    if (given_up)
      return;
    auto segments = timeline_segments_of(m);
    for (const auto& seg : segments) {
      if (!sniffed.insert(seg.ref ? seg.ref->path : seg.file.string()).second)
        continue;
      auto f = timeline_segment_format(seg);
      max_rate = std::max(max_rate, f.rate);
      max_channels = std::max(max_channels, f.channels);
    }
    auto [rate, channels] = timeline_format_for(max_rate, max_channels, topt);
    if (rate <= 0 || channels <= 0)
      return;  // not known yet: the next segment may say
    if (!timeline || timeline->rate() != rate || timeline->channels() != channels) {
      if (timeline)
        spdlog::info("live: {}: the audio timeline is {} Hz, {} channels now; its pieces start over",
                     m.dir.string(), rate, channels);
      restart(rate, channels);
    } else if (!timeline->continues(segments)) {
      spdlog::info("live: {}: the audio segments changed order; the audio pieces start over", m.dir.string());
      restart(rate, channels);
    }
    auto write = [this](const std::int16_t* s, std::int64_t frames) {
      return s ? encoder->push(s, frames) : encoder->silence(frames);
    };
    if (auto bad = timeline->take(segments, write, cancel)) {
      if (cancel.is_cancelled())
        return;
      spdlog::warn("live: {}; the audio is encoded at the end", bad->message);
      given_up = true;
    }
  }

  void run() {
    while (auto m = inbox.take()) {
      if (m->has_audio())
        take(*m);
    }
  }
};

live_audio::live_audio(const live_options& o, fs::path pieces_dir)
  : impl_(std::make_unique<impl>(o, std::move(pieces_dir))) {
  impl_->thread = std::thread([p = impl_.get()] { p->run(); });
}

live_audio::~live_audio() {
  impl_->cancel.cancel();
  impl_->inbox.close();
  impl_->thread.join();
}

void live_audio::update(std::shared_ptr<const manifest> m) { impl_->inbox.put(std::move(m)); }

std::int64_t live_audio::pieces() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->done_before + (impl_->encoder ? impl_->encoder->pieces_done() : 0);
}


}  // namespace postroll
