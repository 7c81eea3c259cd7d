#include "enrichment/live/live_video.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "enrichment/chapters.hpp"
#include "enrichment/chapters_cache.hpp"
#include "enrichment/live/manifest_inbox.hpp"
#include "enrichment/screen_text_cache.hpp"
#include "pipelines/growing_file.hpp"
#include "pipelines/gst_support.hpp"
#include "pipelines/video_frames.hpp"

namespace postroll {

namespace fs = std::filesystem;

struct live_video::impl {
  live_options o;
  fs::path dir;
  std::shared_ptr<live_screen_words> words;
  screen_text_cache ocr;
  cancel_token cancel;  // its own: the job's cancel, or a stop, ends it
  manifest_inbox inbox;
  std::atomic<bool> ended{false}, abandon{false};
  mutable std::mutex mtx;
  std::string note;              // why it does not follow ("" = it does, or has not started)
  std::int64_t read_ms = -1;     // session time of the last frame read
  std::int64_t known_ms = 0;     // the recording's latest listed offset
  std::string following;         // the file followed (its path in the manifest)
  std::thread thread;

  impl(const live_options& opts, fs::path d, fs::path ocr_dir, std::shared_ptr<live_screen_words> w)
    : o(opts), dir(std::move(d)), words(std::move(w)), ocr(std::move(ocr_dir), opts.seal_key, opts.enrich.chapters.ocr_language) {}

  void stop_following(const std::string& why) {
    spdlog::info("live: {}", why);
    words->give_up();
    std::lock_guard<std::mutex> g{mtx};
    note = why;
  }

  void run() {
    std::shared_ptr<const manifest> m;
    for (;;) {
      // A header not written yet is looked at again as the file grows
      // (a recorder may list nothing more for a while).
      auto newer = m ? inbox.take_for(std::chrono::milliseconds(200)) : inbox.take();
      if (inbox.closed())
        return;
      if (newer)
        m = std::move(newer);
      if (!m)
        continue;
      if (m->video.size() > 1) {
        stop_following("chapters at the end (the recording has several screen videos)");
        return;
      }
      if (m->video.empty())
        continue;
      auto file = m->video.front().open();
      if (!file)
        continue;  // the end reports it
      switch (growing_form_of(file->path())) {
        case growing_form::too_early:
          continue;  // its header is not written yet: the next manifest looks again
        case growing_form::not_readable:
          stop_following("chapters at the end (the screen video's index is written when it ends)");
          return;
        case growing_form::readable:
          follow(*m, *file);
          return;
      }
    }
  }

  void follow(const manifest& m, const opened_file& file) {
    const auto& v = m.video.front();
    {
      std::lock_guard<std::mutex> g{mtx};
      following = v.path;
    }
    chapters_in_progress making{m.dir};
    // Published on each frame and each picture read (the demuxer may hold
    // the last frames until the file ends: a read chapter still counts).
    chapter_builder* live = nullptr;
    auto publish = [&] { words->publish(*live); };
    auto co = o.enrich.chapters;
    co.ocr_threads = 1;  // the recording has the cores
    co.ocr_cache = &ocr;
    auto builder = chapter_builder::open(dir / "thumbs", co, cancel);
    if (!builder) {
      stop_following("chapters at the end (" + builder.err().message + ")");
      return;
    }
    live = &*builder;
    builder->on_read(publish);
    std::int64_t last_t = 0;
    maybe_error failed;
    frame_source source{file.path(), v.resolved.string(), v.offset_ms,
                        [this] { return ended.load() || abandon.load() || cancel.is_cancelled(); }};
    auto err = read_video_frames(source, co.sample_ms, 0, cancel, {}, [&](GstSample* frame, const luma_view& l, std::int64_t t) {
      if (abandon)
        return false;
      if ((failed = builder->push(frame, l, t, false)))
        return false;
      last_t = t;
      publish();
      std::lock_guard<std::mutex> g{mtx};
      read_ms = t;
      return true;
    });
    if (cancel.is_cancelled())
      return;
    if (abandon) {
      stop_following("chapters at the end (the recording has several screen videos)");
      return;
    }
    if (err || failed) {
      // Not this stage's to report: the chapters stage reads it again and says why.
      stop_following("chapters at the end (" + (err ? err->message : failed->message) + ")");
      return;
    }
    if (!ended) {
      stop_following("chapters at the end (the screen video stopped before the recording ended)");
      return;
    }
    // The last chapter's end is the playable file's length: the stage sets it.
    auto out = builder->finish(last_t);
    if (!out) {
      stop_following("chapters at the end (" + out.err().message + ")");
      return;
    }
    store_chapters(dir, video_chapters_key(v, file.path(), o.enrich.chapters), *out, o.seal_key);
    publish();
  }
};

live_video::live_video(const live_options& o, fs::path enrichment_dir, fs::path ocr_dir,
                       std::shared_ptr<live_screen_words> words)
  : impl_(std::make_unique<impl>(o, std::move(enrichment_dir), std::move(ocr_dir), std::move(words))) {
  gst::ensure_init();
  impl_->thread = std::thread([p = impl_.get()] { p->run(); });
}

live_video::~live_video() {
  impl_->cancel.cancel();
  impl_->inbox.close();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

void live_video::update(std::shared_ptr<const manifest> m) {
  {
    std::lock_guard<std::mutex> g{impl_->mtx};
    for (const auto* list : {&m->audio, &m->video, &m->screenshots})
      for (const auto& r : *list)
        impl_->known_ms = std::max(impl_->known_ms, r.offset_ms);
    // A second file, or another one, ends the reading of the first.
    if (!impl_->following.empty() && (m->video.size() != 1 || m->video.front().path != impl_->following))
      impl_->abandon = true;
  }
  impl_->inbox.put(std::move(m));
}

void live_video::finish() {
  impl_->ended = true;
  impl_->inbox.close();  // one still waiting for a readable header gives up
  if (impl_->thread.joinable())
    impl_->thread.join();
}

std::string live_video::status() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  if (!impl_->note.empty())
    return impl_->note;
  if (impl_->read_ms < 0)
    return {};
  return "screen " + std::to_string(std::max<std::int64_t>(0, impl_->known_ms - impl_->read_ms) / 1000) + " s behind";
}

}  // namespace postroll
