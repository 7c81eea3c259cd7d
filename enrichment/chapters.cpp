#include "enrichment/chapters.hpp"
#include "pipelines/gst_support.hpp"

#include <cstdio>
#include <optional>

#include "enrichment/screen_text.hpp"
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

// Builds chapters from pictures fed in time order.
class chapter_builder {
public:
  chapter_builder(const fs::path& thumbs, const chapter_options& o, screen_reader reader,
                  const cancel_token& cancel)
      : thumbs_(thumbs), o_(o), reader_(std::move(reader)), cancel_(cancel), detector_(o.scene) {}

  // `settled`: the picture is final at once (a screenshot).
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
    } else if (!picture_) {
      latest_ = copy_frame(frame);  // in case the chapter ends before it settles
      latest_ms_ = t;
    }
    return std::nullopt;
  }

  result<json> finish(std::int64_t end_ms) {
    if (open_)
      if (auto err = close(std::max(end_ms, start_ms_)))
        return *err;
    return json{{"chapters", chapters_}, {"count", chapters_.size()}};
  }

private:
  void start(std::int64_t at, std::int64_t change, double score) {
    open_ = true;
    start_ms_ = at;
    last_change_ = change;
    score_ = score;
    picture_.reset();
    latest_.reset();
  }

  maybe_error close(std::int64_t end) {
    auto& pic = picture_ ? picture_ : latest_;
    auto pic_ms = picture_ ? picture_ms_ : latest_ms_;
    char name[32];
    std::snprintf(name, sizeof name, "chapter-%02zu.jpg", chapters_.size() + 1);
    json c = {{"index", chapters_.size() + 1}, {"startMs", start_ms_}, {"endMs", end}, {"changeScore", std::round(score_ * 1000) / 1000}};
    if (pic) {
      std::string title, text;
      with_luma(pic.get(), [&](const luma_view& l) {
        auto lines = reader_.read(l, cancel_);
        title = title_line(lines, l.height);
        text = screen_text(lines);
      });
      if (cancel_.is_cancelled())
        return error{errc::cancelled, "cancelled"};
      if (auto err = write_jpeg(pic.get(), o_.thumbnail_width, thumbs_ / name))
        return err;
      c["title"] = title;
      c["screenText"] = text;
      c["thumbnail"] = std::string{"thumbs/"} + name;
      c["pictureMs"] = pic_ms;
    } else {
      c["title"] = "";
      c["screenText"] = "";
      c["thumbnail"] = nullptr;
    }
    chapters_.push_back(std::move(c));
    open_ = false;
    return std::nullopt;
  }

  fs::path thumbs_;
  chapter_options o_;
  screen_reader reader_;
  const cancel_token& cancel_;
  scene_detector detector_;
  json chapters_ = json::array();
  bool open_ = false;
  std::int64_t start_ms_ = 0, last_change_ = 0, picture_ms_ = 0, latest_ms_ = 0;
  double score_ = 0;
  gst::sample_ptr picture_, latest_;
};

result<chapter_builder> builder(const fs::path& thumbs, const chapter_options& o, const cancel_token& cancel) {
  std::error_code ec;
  fs::create_directories(thumbs, ec);
  if (ec)
    return error{errc::io, thumbs.string() + ": cannot create: " + ec.message()};
  auto reader = screen_reader::open(o.ocr_language);
  if (!reader)
    return reader.err();
  return chapter_builder{thumbs, o, std::move(*reader), cancel};
}

}  // namespace

result<json> video_chapters(const fs::path& video, std::int64_t duration_ms, const fs::path& thumbs_dir,
                            const chapter_options& o, const cancel_token& cancel,
                            const progress_fn& progress) {
  auto b = builder(thumbs_dir, o, cancel);
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
  auto b = builder(thumbs_dir, o, cancel);
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
