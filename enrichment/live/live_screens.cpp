#include "enrichment/live/live_screens.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "enrichment/chapters.hpp"
#include "enrichment/live/manifest_inbox.hpp"
#include "enrichment/screen_text_cache.hpp"
#include "pipelines/gst_support.hpp"
#include "pipelines/video_frames.hpp"

namespace postroll {

namespace fs = std::filesystem;

struct live_screens::impl {
  live_options o;
  screen_text_cache cache;
  cancel_token cancel;  // its own: the end of the recording stops it
  manifest_inbox inbox;
  mutable std::mutex mtx;
  std::size_t count = 0;
  std::thread thread;

  std::shared_ptr<live_screen_words> words;

  // The thread's own state.
  std::optional<screen_reader> reader;  // one engine: the recording has the cores
  std::set<std::string> taken;
  bool given_up = false;
  // The chapters the screenshots make so far, as enrich.chapters makes
  // them (their words are in the cache by then), for the transcript.
  std::mutex publishing;  // chapters as publish() reads it (an OCR thread may, during the reset)
  std::optional<chapter_builder> chapters;
  std::vector<std::pair<std::int64_t, std::string>> placed;  // (offset, path) pushed, in time order

  impl(const live_options& opts, fs::path dir, std::shared_ptr<live_screen_words> w)
    : o(opts), cache(std::move(dir), opts.seal_key, opts.enrich.chapters.ocr_language), words(std::move(w)) {}

  // Feeds the chapters every screenshot listed, in the order the stage
  // takes them (by offset, the manifest's order among equals).
  void place(const manifest& m) {
    std::vector<std::pair<std::int64_t, std::string>> order;
    for (const auto& s : m.screenshots)
      order.emplace_back(s.offset_ms, s.path);
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    bool continues = order.size() >= placed.size() && std::equal(placed.begin(), placed.end(), order.begin());
    if (!chapters || !continues) {
      std::optional<chapter_builder> old;
      {
        // The old builder's reads still running must not publish through
        // `chapters` while it is replaced: they find none, and it goes
        // (waiting for them) outside the lock they take.
        std::lock_guard<std::mutex> g{publishing};
        old = std::move(chapters);
        chapters.reset();
      }
      old.reset();
      // One listed before those placed: the chapters start over (the words
      // are in the cache: only the pictures are decoded again).
      auto co = o.enrich.chapters;
      co.ocr_threads = 1;
      co.ocr_cache = &cache;
      auto b = chapter_builder::open({}, co, cancel);
      if (!b) {
        words->give_up();
        given_up = true;
        return;
      }
      chapters.emplace(std::move(*b));
      // A chapter closed by the newest screenshot is read on the OCR
      // thread: its words count from then, not from the next screenshot.
      chapters->on_read([this] { publish(); });
      placed.clear();
    }
    for (std::size_t i = placed.size(); i < order.size() && !cancel.is_cancelled(); ++i) {
      const media_ref* ref = nullptr;
      for (const auto& s : m.screenshots)
        if (s.path == order[i].second && s.offset_ms == order[i].first)
          ref = &s;
      auto file = ref ? ref->open() : result<opened_file>{error{errc::bad_input, "gone"}};
      auto pic = file ? read_image(file->path()) : result<gst::sample_ptr>{file.err()};
      if (!pic) {
        // The stage reports it (and fails): the transcript waits for the end.
        words->give_up();
        given_up = true;
        return;
      }
      maybe_error failed;
      with_luma(pic->get(), [&](const luma_view& l) { failed = chapters->push(pic->get(), l, order[i].first, true); });
      if (failed) {
        words->give_up();
        given_up = true;
        return;
      }
      placed.push_back(order[i]);
    }
    publish();
  }

  void publish() {
    std::lock_guard<std::mutex> g{publishing};
    if (chapters)
      words->publish(*chapters);
  }

  void take(const manifest& m) {
    for (const auto& s : m.screenshots) {
      if (given_up || cancel.is_cancelled())
        return;
      if (!taken.insert(s.path).second)
        continue;
      if (!reader) {
        auto r = screen_reader::open(o.enrich.chapters.ocr_language);
        if (!r) {
          spdlog::warn("live: screenshots are read at the end: {}", r.err().message);
          given_up = true;
          return;
        }
        reader.emplace(std::move(*r));
      }
      // A picture that cannot be read is the chapters stage's to report.
      auto file = s.open();
      if (!file)
        continue;
      auto pic = read_image(file->path());
      if (!pic)
        continue;
      with_luma(pic->get(), [&](const luma_view& l) { read_screen_page(*reader, l, &cache, cancel); });
      if (cancel.is_cancelled())
        return;
      std::lock_guard<std::mutex> g{mtx};
      ++count;
    }
    if (!given_up && !cancel.is_cancelled())
      place(m);
  }

  void run() {
    while (auto m = inbox.take())
      if (!m->has_video())
        take(*m);
  }
};

live_screens::live_screens(const live_options& o, fs::path cache_dir, std::shared_ptr<live_screen_words> words)
  : impl_(std::make_unique<impl>(o, std::move(cache_dir), std::move(words))) {
  gst::ensure_init();
  impl_->thread = std::thread([p = impl_.get()] { p->run(); });
}

live_screens::~live_screens() {
  impl_->cancel.cancel();
  impl_->inbox.close();
  impl_->thread.join();
}

void live_screens::update(std::shared_ptr<const manifest> m) { impl_->inbox.put(std::move(m)); }

std::size_t live_screens::read() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->count;
}

}  // namespace postroll
