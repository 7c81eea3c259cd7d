// enrich.chapters: where the screen changes scene, a thumbnail and the
// on-screen title of each part. Titles from speech are added by
// enrich.summary, which runs once the transcript exists (chapters runs in
// parallel with the transcript).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "enrichment/scene_detector.hpp"
#include "enrichment/screen_vocabulary.hpp"
#include "enrichment/screen_text_cache.hpp"
#include "pipelines/frame_source.hpp"
#include "postroll/error.hpp"
#include "session/manifest.hpp"
#include "session/cancel_token.hpp"

// GStreamer's, declared as it declares it: this header stays free of it.
typedef struct _GstSample GstSample;

namespace postroll {

struct chapter_options {
  std::int64_t min_chapter_ms = 10000;  ///< a change sooner than this after a chapter start joins that chapter
  std::int64_t sample_ms = 250;         ///< how often the video is looked at
  /// The chapter's picture (thumbnail, OCR) is taken this long after its
  /// last change: a page that is still loading at its first frame reads as
  /// nothing.
  std::int64_t settle_ms = 1500;
  std::string ocr_language = "eng";
  int ocr_threads = 0;  ///< chapter pictures read at once; 0 = one per core, at most 4
  int thumbnail_width = 480;
  /// Words read before (a live job's follower, an earlier attempt) are
  /// taken from here, and what is read is kept (null: none).
  const screen_text_cache* ocr_cache = nullptr;
  scene_options scene;
};

/// A screenshot on the session timeline.
struct timed_picture {
  std::filesystem::path file;
  std::int64_t offset_ms = 0;
};

/// Chapters from pictures fed in time order (a video's frames, screenshots):
/// what video_chapters and screenshot_chapters run, and what a live job
/// feeds while the recording is made.
class chapter_builder {
public:
  /// Thumbnails go to `thumbs_dir` as chapter-NN.jpg (empty: none are written).
  static result<chapter_builder> open(const std::filesystem::path& thumbs_dir, const chapter_options& o,
                                      const cancel_token& cancel);
  chapter_builder(chapter_builder&&) noexcept;
  chapter_builder& operator=(chapter_builder&&) noexcept;
  ~chapter_builder();

  /// A picture at session time `t`; `settled`: final at once (a screenshot).
  maybe_error push(GstSample* frame, const luma_view& luma, std::int64_t t, bool settled);
  /// The chapters closed and read so far, in time order, and in
  /// `final_ms` the time before which no chapter will start or change
  /// any more (the open chapter's start, or an unread one's).
  std::vector<screen_span> spans(std::int64_t& final_ms) const;
  /// `fn` is called (on an OCR thread) each time a chapter's picture has
  /// been read: spans() may have moved on without a new picture. Set it
  /// before the first push.
  void on_read(std::function<void()> fn);
  /// Closes the last chapter at `end_ms` and waits for the pictures to be
  /// read. @returns chapters.json's content (docs/enrichment.md).
  result<nlohmann::json> finish(std::int64_t end_ms);

private:
  struct impl;
  explicit chapter_builder(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Every chapter option a result depends on, as text for a cache key.
std::string chapter_options_key(const chapter_options& o);

/// The key of a video's chapters: the manifest's file `video` (where it is
/// opened in the session folder, its offset; opened as `file`: its size and
/// modification time now) and every option they depend on ("" when the
/// file cannot be looked at). A live job's chapters are taken under it.
std::string video_chapters_key(const media_ref& video, const std::filesystem::path& file, const chapter_options& o);

/// Chapters of a video; thumbnails go to `thumbs_dir` as chapter-NN.jpg.
/// @returns chapters.json's content (docs/enrichment.md).
result<nlohmann::json> video_chapters(const frame_source& video, std::int64_t duration_ms,
                                      const std::filesystem::path& thumbs_dir, const chapter_options& o,
                                      const cancel_token& cancel, const progress_fn& progress);

/// Chapters from screenshots, for sessions without video.
result<nlohmann::json> screenshot_chapters(const std::vector<timed_picture>& shots, std::int64_t duration_ms,
                                           const std::filesystem::path& thumbs_dir, const chapter_options& o,
                                           const cancel_token& cancel, const progress_fn& progress);

}  // namespace postroll
