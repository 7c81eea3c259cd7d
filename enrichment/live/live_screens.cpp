#include "enrichment/live/live_screens.hpp"

#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

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

  // The thread's own state.
  std::optional<screen_reader> reader;  // one engine: the recording has the cores
  std::set<std::string> taken;
  bool given_up = false;

  impl(const live_options& opts, fs::path dir)
    : o(opts), cache(std::move(dir), opts.seal_key, opts.enrich.chapters.ocr_language) {}

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
  }

  void run() {
    while (auto m = inbox.take())
      if (!m->has_video())
        take(*m);
  }
};

live_screens::live_screens(const live_options& o, fs::path cache_dir)
  : impl_(std::make_unique<impl>(o, std::move(cache_dir))) {
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
