// Screenshots read while the recording is made: each screenshot is OCR'd
// as it is listed and its words kept in the chapters stage's cache
// (enrichment/screen_text_cache), so the chapters at the end only pick
// pictures; the chapters they make so far give the live transcript the
// screen's words (live_screen_words). A session with screen video takes
// its chapter pictures from the video: its screenshots are not read.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "enrichment/live/live_follower.hpp"
#include "enrichment/live/live_screen_words.hpp"
#include "session/manifest.hpp"

namespace postroll {

class live_screens {
public:
  /// Words go to `cache_dir` (the chapters stage's cache) and, as
  /// chapters, to `words`.
  live_screens(const live_options& o, std::filesystem::path cache_dir, std::shared_ptr<live_screen_words> words);
  /// Stops: a picture being read is dropped (the end reads it).
  ~live_screens();
  live_screens(const live_screens&) = delete;
  live_screens& operator=(const live_screens&) = delete;

  /// The manifest as it stands now; what is new is taken on another thread.
  void update(std::shared_ptr<const manifest> m);
  /// Screenshots read (or found read) so far.
  std::size_t read() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace postroll
