#include "enrichment/live/live_transcript.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "enrichment/transcript/piece_cache.hpp"
#include "enrichment/transcript/transcriber.hpp"
#include "pipelines/audio_samples.hpp"
#include "pipelines/audio_timeline.hpp"
#include "pipelines/timeline_mixer.hpp"

namespace postroll {

namespace fs = std::filesystem;

struct live_transcript::impl {
  live_options o;
  piece_cache cache;
  cancel_token cancel;  // its own: the end of the recording stops it, not the stage's cancel
  mutable std::mutex mtx;
  std::condition_variable cv;
  std::shared_ptr<const manifest> latest;  // set by update(), taken by the thread
  bool stopping = false;
  std::string waiting;                     // why it does not transcribe ("" = it does)
  std::int64_t known_ms = 0, emitted_ms = 0;  // timeline placed, and cut into pieces
  std::size_t pieces = 0;
  std::thread thread;

  // The thread's own state.
  std::unique_ptr<transcriber> pool;
  std::optional<timeline_mixer> mixer;
  std::optional<piece_cutter> cutter;
  std::size_t next = 0;       // segments of the current manifest taken
  std::int64_t last_start = -1;
  std::vector<std::string> taken;  // their paths, in order: a change before them starts over

  impl(const live_options& opts, fs::path dir) : o(opts), cache(std::move(dir), opts.seal_key, opts.enrich.audio.asr) {}

  void reset() {
    // The cutter's pieces go to the pool; recognition of what was cut
    // before is found in the cache when the same piece comes again.
    mixer.emplace(analysis_rate, 1);
    cutter.emplace([this](speech_piece&& p) {
      {
        std::lock_guard<std::mutex> g{mtx};
        emitted_ms = (p.first_sample + std::int64_t(p.samples.size())) * 1000 / analysis_rate;
        ++pieces;
      }
      pool->add(std::move(p));
    }, analysis_rate);
    next = 0;
    last_start = -1;
    taken.clear();
  }

  void set_waiting(std::string why) {
    std::lock_guard<std::mutex> g{mtx};
    waiting = std::move(why);
  }

  // Takes the segments `m` lists beyond those already placed.
  void take(const manifest& m) {
    bool pictures = m.has_video() || !m.screenshots.empty();
    if (pictures && o.enrich.screen_vocabulary > 0) {
      set_waiting("transcript at the end (it waits for the screen's words)");
      return;
    }
    auto segments = timeline_segments_of(m);
    // A segment listed before one already placed (out of order, or the
    // list changed): the timeline from there is not what was placed.
    bool same = taken.size() <= segments.size();
    for (std::size_t i = 0; same && i < taken.size(); ++i)
      same = segments[i].ref && segments[i].ref->path == taken[i];
    if (!same) {
      spdlog::info("live: {}: the audio segments changed order; the live transcript starts over", m.dir.string());
      reset();
    }
    auto write = [this](const std::int16_t* s, std::int64_t frames) -> maybe_error {
      if (s) {
        cutter->feed(s, std::size_t(frames), mixer->flushed());
      } else {
        // Silence as the batch hands it over: zeros in bounded chunks.
        std::vector<std::int16_t> zeros(std::size_t(std::min<std::int64_t>(frames, analysis_rate)), 0);
        for (std::int64_t at = mixer->flushed(), left = frames; left > 0;) {
          auto n = std::min<std::int64_t>(left, analysis_rate);
          cutter->feed(zeros.data(), std::size_t(n), at);
          at += n;
          left -= n;
        }
      }
      return std::nullopt;
    };
    if (!segments.empty()) {
      // Listed but not decoded yet counts as behind too (to its start: its
      // length is known once it is read).
      std::lock_guard<std::mutex> g{mtx};
      known_ms = std::max(known_ms, segments.back().offset_ms);
    }
    for (; next < segments.size() && !cancel.is_cancelled(); ++next) {
      const auto& seg = segments[next];
      auto start = mixer->frame_at(seg.offset_ms);
      auto pcm = decode_timeline_segment(seg, analysis_rate, 1, cancel, o.enrich.max_session_ms);
      if (!pcm && cancel.is_cancelled())
        return;
      if (!pcm && !(pcm.err().code == errc::bad_input && o.enrich.missing_audio_as_silence)) {
        // The transcript stage reports it, as for any session.
        spdlog::warn("live: {}; the transcript is made at the end", pcm.err().message);
        set_waiting("transcript at the end (" + seg.file.filename().string() + " cannot be decoded)");
        next = segments.size();
        return;
      }
      mixer->flush_to(start, write);
      if (pcm)
        mixer->mix_in(*pcm, start);
      taken.push_back(seg.ref ? seg.ref->path : seg.file.string());
      std::lock_guard<std::mutex> g{mtx};
      known_ms = std::max(known_ms, mixer->end() * 1000 / analysis_rate);
    }
    set_waiting({});
  }

  void run() {
    transcriber_options to;
    to.asr = o.enrich.audio.asr;
    to.threads = o.enrich.audio.asr_threads;
    to.cache = &cache;
    std::shared_ptr<const manifest> m;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock{mtx};
        cv.wait(lock, [&] { return stopping || latest; });
        if (stopping)
          return;
        m = std::move(latest);
        latest.reset();
      }
      if (!pool) {
        // Decoders are loaded once there is audio to hear.
        if (!m->has_audio())
          continue;
        auto p = transcriber::open(to, cancel);
        if (!p) {
          spdlog::warn("live: no live transcript: {}", p.err().message);
          set_waiting("transcript at the end (" + p.err().message + ")");
          return;
        }
        pool = std::move(*p);
        reset();
      }
      take(*m);
    }
  }
};

live_transcript::live_transcript(const live_options& o, fs::path pieces_dir)
  : impl_(std::make_unique<impl>(o, std::move(pieces_dir))) {
  impl_->thread = std::thread([p = impl_.get()] { p->run(); });
}

live_transcript::~live_transcript() {
  {
    std::lock_guard<std::mutex> g{impl_->mtx};
    impl_->stopping = true;
  }
  impl_->cancel.cancel();
  impl_->cv.notify_all();
  impl_->thread.join();
  impl_->cutter.reset();
  impl_->pool.reset();  // joins its decoders: each drops its piece (cancelled)
}

void live_transcript::update(std::shared_ptr<const manifest> m) {
  {
    std::lock_guard<std::mutex> g{impl_->mtx};
    impl_->latest = std::move(m);
  }
  impl_->cv.notify_all();
}

std::int64_t live_transcript::behind_ms() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  auto queued = impl_->pool ? (impl_->pool->samples_added() - impl_->pool->samples_done()) * 1000 / analysis_rate : 0;
  return std::max<std::int64_t>(0, impl_->known_ms - impl_->emitted_ms) + queued;
}

std::string live_transcript::status() const {
  {
    std::lock_guard<std::mutex> g{impl_->mtx};
    if (!impl_->waiting.empty())
      return impl_->waiting;
    if (!impl_->pool)
      return {};
  }
  return "transcript " + std::to_string(behind_ms() / 1000) + " s behind";
}

std::size_t live_transcript::pieces() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->pieces;
}

}  // namespace postroll
