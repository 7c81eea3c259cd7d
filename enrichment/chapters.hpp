// enrich.chapters: where the screen changes scene, a thumbnail and the
// on-screen title of each part. Titles from speech are added by
// enrich.summary, which runs once the transcript exists (chapters runs in
// parallel with the transcript).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "enrichment/scene_detector.hpp"
#include "enrichment/screen_text_cache.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

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

/// Chapters of a video (`video` on the session timeline, `duration_ms`
/// long); thumbnails go to `thumbs_dir` as chapter-NN.jpg.
/// @returns chapters.json's content (docs/enrichment.md).
result<nlohmann::json> video_chapters(const std::filesystem::path& video, std::int64_t duration_ms,
                                      const std::filesystem::path& thumbs_dir, const chapter_options& o,
                                      const cancel_token& cancel, const progress_fn& progress);

/// Chapters from screenshots, for sessions without video.
result<nlohmann::json> screenshot_chapters(const std::vector<timed_picture>& shots, std::int64_t duration_ms,
                                           const std::filesystem::path& thumbs_dir, const chapter_options& o,
                                           const cancel_token& cancel, const progress_fn& progress);

}  // namespace postroll
