#include "enrichment/chapters.hpp"
#include "pipelines/gst_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <future>
#include <mutex>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <thread>

#include "enrichment/screen_text.hpp"
#include "session/cache_key.hpp"
#include "pipelines/video_frames.hpp"

namespace postroll {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

gst::sample_ptr copy_frame(GstSample* s) {
  // A deep copy: holding the decoder's own buffer could starve its pool.
  gst::buffer_ptr copy{gst_buffer_copy_deep(gst_sample_get_buffer(s))};
  return gst::sample_ptr{gst_sample_new(copy.get(), gst_sample_get_caps(s), nullptr, nullptr)};
}

// Tesseract engines for the chapter pictures, each on its own thread:
// reading a picture (~2.5 s for a 1080p editor screen) is most of the
// stage, and the decoder must not wait for it.
class ocr_pool {
public:
  ocr_pool(std::vector<screen_reader> readers, const screen_text_cache* cache, const cancel_token& cancel)
    : readers_(std::move(readers)), cache_(cache), cancel_(cancel) {
    for (std::size_t i = 0; i < readers_.size(); ++i)
      free_.push_back(i);
  }
  ~ocr_pool() { wait_all(); }

  // Reads `pic` on a free engine (waits for one); `done` gets its words.
  void read(gst::sample_ptr pic, std::function<void(const screen_page&)> done) {
    std::size_t reader = 0;
    {
      std::unique_lock lock{m_};
      cv_.wait(lock, [&] { return !free_.empty(); });
      reader = free_.back();
      free_.pop_back();
    }
    // Finished reads leave their futures: those hold the task (and so its
    // picture, ~3 MB at 1080p) until dropped.
    running_.erase(std::remove_if(running_.begin(), running_.end(),
                                  [](const std::future<void>& f) {
                                    return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
                                  }),
                   running_.end());
    running_.push_back(std::async(std::launch::async, [this, reader, pic = std::move(pic), done = std::move(done)]() mutable {
      with_luma(pic.get(), [&](const luma_view& l) { done(read_screen_page(readers_[reader], l, cache_, cancel_)); });
      pic.reset();  // the picture goes now, not with the future
      std::lock_guard lock{m_};
      free_.push_back(reader);
      cv_.notify_one();
    }));
  }

  void wait_all() {
    for (auto& f : running_)
      f.wait();
    running_.clear();
  }

private:
  std::vector<screen_reader> readers_;
  const screen_text_cache* cache_;
  const cancel_token& cancel_;
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::size_t> free_;
  std::vector<std::future<void>> running_;
};

}  // namespace

struct chapter_builder::impl {
  impl(const fs::path& thumbs, const chapter_options& o, std::vector<screen_reader> readers, const cancel_token& cancel)
      : thumbs_(thumbs), o_(o), cancel_(cancel), detector_(o.scene),
        ocr_(std::make_unique<ocr_pool>(std::move(readers), o.ocr_cache, cancel)) {}

  ~impl() {
    // Reads still running finish without telling anyone: whoever listens
    // is going away with the builder.
    {
      std::lock_guard lock{read_mtx_};
      closing_ = true;
    }
    ocr_->wait_all();
  }

  maybe_error push(GstSample* frame, const luma_view& luma, std::int64_t t, bool settled) {
    change_score score;
    bool cut = detector_.push(luma, &score);
    if (!open_) {
      start(0, 0, score.fraction);
    } else if (cut) {
      if (t - start_ms_ >= o_.min_chapter_ms) {
        if (auto err = close(t))
          return err;
        start(t, t, score.fraction);
      } else {
        last_change_ = t;  // joins this chapter; its picture is taken after it
        picture_.reset();
      }
    }
    if (!picture_ && (settled || t >= last_change_ + o_.settle_ms)) {
      picture_ = copy_frame(frame);
      picture_ms_ = t;
      latest_.reset();
    } else if (!picture_ && t >= latest_ms_ + 1000) {
      // In case the chapter ends before it settles: a recent frame (one a
      // second is recent enough, and spares a deep copy of every sample).
      latest_ = copy_frame(frame);
      latest_ms_ = t;
    }
    return std::nullopt;
  }

  std::vector<screen_span> spans(std::int64_t& final_ms) const {
    std::lock_guard lock{read_mtx_};
    std::vector<screen_span> out;
    final_ms = open_ ? start_ms_ : std::numeric_limits<std::int64_t>::max();
    for (std::size_t i = 0; i < chapters_.size(); ++i) {
      if (!read_[i].done) {
        final_ms = std::min(final_ms, chapters_[i].value("startMs", std::int64_t{0}));
        break;
      }
      out.push_back({chapters_[i].value("startMs", std::int64_t{0}), chapters_[i].value("endMs", std::int64_t{0}),
                     read_[i].text});
    }
    return out;
  }

  result<json> finish(std::int64_t end_ms) {
    if (open_)
      if (auto err = close(std::max(end_ms, start_ms_)))
        return *err;
    ocr_->wait_all();
    if (cancel_.is_cancelled())
      return error{errc::cancelled, "cancelled"};
    json chapters = json::array();
    std::lock_guard lock{read_mtx_};
    for (std::size_t i = 0; i < chapters_.size(); ++i) {
      auto c = chapters_[i];
      c["title"] = read_[i].title;
      c["screenText"] = read_[i].text;
      chapters.push_back(std::move(c));
    }
    return json{{"chapters", chapters}, {"count", chapters.size()}};
  }

  struct screen_words {
    std::string title, text;
    bool done = false;
  };

  void start(std::int64_t at, std::int64_t change, double score) {
    {
      std::lock_guard lock{read_mtx_};
      open_ = true;
      start_ms_ = at;
    }
    last_change_ = change;
    score_ = score;
    picture_.reset();
    latest_.reset();
    latest_ms_ = std::numeric_limits<std::int64_t>::min() / 2;
  }

  maybe_error close(std::int64_t end) {
    auto& pic = picture_ ? picture_ : latest_;
    auto pic_ms = picture_ ? picture_ms_ : latest_ms_;
    char name[32];
    std::snprintf(name, sizeof name, "chapter-%02zu.jpg", chapters_.size() + 1);
    json c = {{"index", chapters_.size() + 1}, {"startMs", start_ms_}, {"endMs", end}, {"changeScore", std::round(score_ * 1000) / 1000}};
    screen_words* slot = nullptr;
    {
      std::lock_guard lock{read_mtx_};
      read_.emplace_back();
      slot = &read_.back();  // a deque: slots stay put as chapters are added
      if (!pic)
        slot->done = true;
    }
    if (pic) {
      if (cancel_.is_cancelled())
        return error{errc::cancelled, "cancelled"};
      if (!thumbs_.empty()) {
        if (auto err = write_jpeg(pic.get(), o_.thumbnail_width, thumbs_ / name))
          return err;
        c["thumbnail"] = std::string{"thumbs/"} + name;
      } else {
        c["thumbnail"] = nullptr;
      }
      c["pictureMs"] = pic_ms;
      {
        std::lock_guard lock{read_mtx_};
        chapters_.push_back(std::move(c));
      }
      ocr_->read(std::move(pic), [this, slot](const screen_page& page) {
        bool tell = false;
        {
          std::lock_guard lock{read_mtx_};
          slot->title = page.title;
          slot->text = page.text;
          slot->done = true;
          tell = !closing_ && on_read_;
        }
        if (tell)
          on_read_();
      });
    } else {
      c["thumbnail"] = nullptr;
      std::lock_guard lock{read_mtx_};
      chapters_.push_back(std::move(c));
    }
    std::lock_guard lock{read_mtx_};
    open_ = false;
    return std::nullopt;
  }

  fs::path thumbs_;
  chapter_options o_;
  const cancel_token& cancel_;
  scene_detector detector_;
  std::function<void()> on_read_;
  bool closing_ = false;
  mutable std::mutex read_mtx_;  // chapters_, read_, open_, start_ms_: the OCR threads and spans() look at them
  std::vector<json> chapters_;
  std::deque<screen_words> read_;  // by chapter
  bool open_ = false;
  std::int64_t start_ms_ = 0, last_change_ = 0, picture_ms_ = 0, latest_ms_ = 0;
  double score_ = 0;
  gst::sample_ptr picture_, latest_;
  std::unique_ptr<ocr_pool> ocr_;  // last: its threads finish before the slots go
};

chapter_builder::chapter_builder(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
chapter_builder::chapter_builder(chapter_builder&&) noexcept = default;
chapter_builder& chapter_builder::operator=(chapter_builder&&) noexcept = default;
chapter_builder::~chapter_builder() = default;

result<chapter_builder> chapter_builder::open(const fs::path& thumbs, const chapter_options& o, const cancel_token& cancel) {
  if (!thumbs.empty()) {
    std::error_code ec;
    fs::create_directories(thumbs, ec);
    if (ec)
      return error{errc::io, thumbs.string() + ": cannot create: " + ec.message()};
  }
  // One engine per core (at most 4; ~40 MB each): while the pictures are
  // read, the decoder goes on.
  auto n = o.ocr_threads > 0 ? o.ocr_threads : int(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  std::vector<screen_reader> readers;
  for (int i = 0; i < n; ++i) {
    auto reader = screen_reader::open(o.ocr_language);
    if (!reader)
      return reader.err();
    readers.push_back(std::move(*reader));
  }
  return chapter_builder{std::make_unique<impl>(thumbs, o, std::move(readers), cancel)};
}

maybe_error chapter_builder::push(GstSample* frame, const luma_view& luma, std::int64_t t, bool settled) {
  return impl_->push(frame, luma, t, settled);
}
std::vector<screen_span> chapter_builder::spans(std::int64_t& final_ms) const { return impl_->spans(final_ms); }
void chapter_builder::on_read(std::function<void()> fn) { impl_->on_read_ = std::move(fn); }
result<json> chapter_builder::finish(std::int64_t end_ms) { return impl_->finish(end_ms); }

std::string chapter_options_key(const chapter_options& o) {
  return std::to_string(o.min_chapter_ms) + "|" + std::to_string(o.sample_ms) + "|" + std::to_string(o.settle_ms) + "|" +
         o.ocr_language + "|" + std::to_string(o.thumbnail_width) + "|" + std::to_string(o.scene.cut_fraction) + "|" +
         std::to_string(o.scene.tolerance);
}

std::string video_chapters_key(const media_ref& video, const fs::path& file, const chapter_options& o) {
  // The file as it is now: a file changed since the chapters were read
  // gets another key.
  auto state = cache_key::file_state(file);
  if (state.empty())
    return {};
  cache_key k;
  k.add("video-chapters-1").add(video.open_rel.empty() ? video.path : video.open_rel).add(std::to_string(video.offset_ms));
  k.add(chapter_options_key(o)).add(state);
  return k.hex();
}

result<json> video_chapters(const frame_source& video, std::int64_t duration_ms, const fs::path& thumbs_dir,
                            const chapter_options& o, const cancel_token& cancel,
                            const progress_fn& progress) {
  auto b = chapter_builder::open(thumbs_dir, o, cancel);
  if (!b)
    return b.err();
  maybe_error failed;
  auto err = read_video_frames(video, o.sample_ms, duration_ms, cancel, progress,
                               [&](GstSample* frame, const luma_view& luma, std::int64_t t) {
                                 failed = b->push(frame, luma, t, false);
                                 return !failed;
                               });
  if (failed)
    return *failed;
  if (err)
    return *err;
  auto out = b->finish(duration_ms);
  if (out)
    (*out)["source"] = "video";
  return out;
}

result<json> screenshot_chapters(const std::vector<timed_picture>& shots, std::int64_t duration_ms,
                                 const fs::path& thumbs_dir, const chapter_options& o,
                                 const cancel_token& cancel, const progress_fn& progress) {
  auto b = chapter_builder::open(thumbs_dir, o, cancel);
  if (!b)
    return b.err();
  std::int64_t last = 0;
  for (std::size_t i = 0; i < shots.size(); ++i) {
    if (cancel.is_cancelled())
      return error{errc::cancelled, "cancelled"};
    auto pic = read_image(shots[i].file);
    if (!pic)
      return pic.err();
    maybe_error failed;
    bool mapped = with_luma(pic->get(), [&](const luma_view& l) {
      failed = b->push(pic->get(), l, shots[i].offset_ms, true);
    });
    if (!mapped)
      return error{errc::bad_input, shots[i].file.string() + ": picture cannot be read"};
    if (failed)
      return *failed;
    last = std::max(last, shots[i].offset_ms);
    if (progress)
      progress(double(i + 1) / double(shots.size()));
  }
  auto out = b->finish(std::max(duration_ms, last));
  if (out)
    (*out)["source"] = "screenshots";
  return out;
}

}  // namespace postroll
