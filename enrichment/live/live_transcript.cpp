#include "enrichment/live/live_transcript.hpp"

#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "enrichment/transcript/piece_cache.hpp"
#include "enrichment/transcript/transcriber.hpp"
#include "pipelines/audio_samples.hpp"
#include "pipelines/audio_timeline.hpp"
#include "enrichment/live/live_segments.hpp"
#include "enrichment/live/manifest_inbox.hpp"
#include "enrichment/screen_vocabulary.hpp"

namespace postroll {

namespace fs = std::filesystem;

struct live_transcript::impl {
  live_options o;
  piece_cache cache;
  cancel_token cancel;  // its own: the end of the recording stops it, not the stage's cancel
  mutable std::mutex mtx;
  manifest_inbox inbox;
  std::string waiting;                     // why it does not transcribe ("" = it does)
  std::int64_t known_ms = 0, emitted_ms = 0;  // timeline placed, and cut into pieces
  std::size_t pieces = 0;
  std::thread thread;
  std::shared_ptr<live_screen_words> words;

  // The thread's own state.
  std::unique_ptr<transcriber> pool;
  std::optional<live_segments> timeline;
  std::optional<piece_cutter> cutter;
  bool given_up = false;  // a segment could not be decoded: the rest is the end's
  // With pictures and the screen vocabulary on, a piece waits until the
  // screen's words before its end are final (live_screen_words): then it
  // gets the bias the batch gives it.
  bool biased = false;
  std::deque<speech_piece> pending;
  std::optional<screen_vocabulary> vocabulary;

  impl(const live_options& opts, fs::path dir, std::shared_ptr<live_screen_words> w)
    : o(opts), cache(std::move(dir), opts.seal_key, opts.enrich.audio.asr), words(std::move(w)) {}

  // Hands the pool every waiting piece whose bias is final.
  void flush() {
    std::int64_t final_ms = std::numeric_limits<std::int64_t>::max();
    if (biased) {
      auto now = words->get();
      if (now.given_up) {
        // The screen's words come at the end (a video that cannot be read
        // while it grows): so do the pieces that need them.
        pending.clear();
        given_up = true;
        set_waiting("transcript at the end (it needs the screen's words, read at the end)");
        return;
      }
      final_ms = now.final_ms;
      // Bounded: beyond 20 minutes of speech waiting for a chapter to
      // close, the oldest is left to the end (~1 MB per 30 s held).
      std::int64_t held = 0;
      for (const auto& p : pending)
        held += std::int64_t(p.samples.size());
      while (!pending.empty() && held > std::int64_t(analysis_rate) * 1200) {
        held -= std::int64_t(pending.front().samples.size());
        pending.pop_front();
      }
      if (!pending.empty() && end_of(pending.front()) <= final_ms)
        vocabulary = screen_vocabulary::of(now.spans, o.enrich.screen_vocabulary);
    }
    while (!pending.empty() && end_of(pending.front()) <= final_ms) {
      {
        std::lock_guard<std::mutex> g{mtx};
        emitted_ms = end_of(pending.front());
        ++pieces;
      }
      pool->add(std::move(pending.front()));
      pending.pop_front();
    }
  }

  static std::int64_t end_of(const speech_piece& p) {
    return (p.first_sample + std::int64_t(p.samples.size())) * 1000 / analysis_rate;
  }

  void reset() {
    // The cutter's pieces go to the pool; recognition of what was cut
    // before is found in the cache when the same piece comes again.
    timeline.emplace(analysis_rate, 1, o.enrich.max_session_ms, o.enrich.missing_audio_as_silence);
    pending.clear();
    cutter.emplace([this](speech_piece&& p) { pending.push_back(std::move(p)); }, analysis_rate);
  }

  void set_waiting(std::string why) {
    std::lock_guard<std::mutex> g{mtx};
    waiting = std::move(why);
  }

  // Takes the segments `m` lists beyond those already placed.
  void take(const manifest& m) {
    biased = (m.has_video() || !m.screenshots.empty()) && o.enrich.screen_vocabulary > 0;
    if (given_up)
      return;
    auto segments = timeline_segments_of(m);
    if (!timeline->continues(segments)) {
      spdlog::info("live: {}: the audio segments changed order; the live transcript starts over", m.dir.string());
      reset();
    }
    auto write = [this](const std::int16_t* s, std::int64_t frames) -> maybe_error {
      auto at = timeline->flushed();
      if (s) {
        cutter->feed(s, std::size_t(frames), at);
        return std::nullopt;
      }
      // Silence as the batch hands it over: zeros in bounded chunks.
      std::vector<std::int16_t> zeros(std::size_t(std::min<std::int64_t>(frames, analysis_rate)), 0);
      for (std::int64_t left = frames; left > 0;) {
        auto n = std::min<std::int64_t>(left, analysis_rate);
        cutter->feed(zeros.data(), std::size_t(n), at);
        at += n;
        left -= n;
      }
      return std::nullopt;
    };
    if (!segments.empty()) {
      // Listed but not decoded yet counts as behind too (to its start: its
      // length is known once it is read).
      std::lock_guard<std::mutex> g{mtx};
      known_ms = std::max(known_ms, segments.back().offset_ms);
    }
    if (auto bad = timeline->take(segments, write, cancel)) {
      // The transcript stage reports it, as for any session.
      spdlog::warn("live: {}; the transcript is made at the end", bad->message);
      set_waiting("transcript at the end (" +
                  (bad->file.empty() ? bad->message : bad->file.filename().string() + " cannot be decoded") + ")");
      given_up = true;
      return;
    }
    {
      std::lock_guard<std::mutex> g{mtx};
      known_ms = std::max(known_ms, timeline->end_ms());
    }
    flush();
    if (!given_up)
      set_waiting({});
  }

  void run() {
    transcriber_options to;
    to.asr = o.enrich.audio.asr;
    to.threads = o.enrich.audio.asr_threads;
    to.cache = &cache;
    // Called from add(), on this thread, with `vocabulary` as flush() set it.
    to.bias_for = [this](std::int64_t start_ms, std::int64_t end_ms, std::string& key) {
      if (biased && vocabulary)
        return (*vocabulary)(start_ms, end_ms, key);
      return vocabulary_bias{};
    };
    while (auto m = inbox.take()) {
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

live_transcript::live_transcript(const live_options& o, fs::path pieces_dir, std::shared_ptr<live_screen_words> words)
  : impl_(std::make_unique<impl>(o, std::move(pieces_dir), std::move(words))) {
  impl_->thread = std::thread([p = impl_.get()] { p->run(); });
}

live_transcript::~live_transcript() {
  impl_->cancel.cancel();
  impl_->inbox.close();
  impl_->thread.join();
  impl_->cutter.reset();
  impl_->pool.reset();  // joins its decoders: each drops its piece (cancelled)
}

void live_transcript::update(std::shared_ptr<const manifest> m) {
  {
    std::lock_guard<std::mutex> g{impl_->mtx};
    // What is listed is behind until the thread has taken it: the line
    // never says "0 s behind" for a manifest not read yet.
    if (!m->audio.empty())
      impl_->known_ms = std::max(impl_->known_ms, m->audio.back().offset_ms);
  }
  impl_->inbox.put(std::move(m));
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
