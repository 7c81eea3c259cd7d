// The screen video read while it is recorded: a file that can be read as
// it grows (fragmented MP4, Matroska/WebM; pipelines/growing_file) is
// decoded as the recorder writes it, and its chapters are made as
// enrich.chapters makes them (chapter_builder: it only looks back), with
// their pictures' words read as each chapter closes. The words go to the
// live transcript (live_screen_words); when the recording ends the reader
// reads to the end of the file and leaves the chapters where the chapters
// stage takes them (chapters_cache). Other videos, or several files, are
// read at the end as before.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "enrichment/live/live_follower.hpp"
#include "enrichment/live/live_screen_words.hpp"
#include "session/manifest.hpp"

namespace postroll {

class live_video {
public:
  /// Thumbnails and the chapters entry go to `enrichment_dir` (the
  /// chapters stage's folder); words read go to `ocr_dir`.
  live_video(const live_options& o, std::filesystem::path enrichment_dir, std::filesystem::path ocr_dir,
             std::shared_ptr<live_screen_words> words);
  /// Stops the reader: what it did not finish is done at the end.
  ~live_video();
  live_video(const live_video&) = delete;
  live_video& operator=(const live_video&) = delete;

  /// The manifest as it stands now.
  void update(std::shared_ptr<const manifest> m);
  /// The recording ended: read to the end of the file, leave the chapters
  /// and return (at once when there is nothing to finish).
  void finish();
  /// For the follower's line: "screen 3 s behind", or why it waits ("" = nothing to say).
  std::string status() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace postroll
