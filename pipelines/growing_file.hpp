// A file another process is still writing, read as it grows: the screen
// video of a live recording. Its bytes go into an appsrc (demuxers in push
// mode: fragmented MP4 and Matroska/WebM are read that way as they are
// streamed); at the current end the feed waits for the writer (inotify,
// not polling) until it is told the writer is done, then reads to the end
// and ends the stream.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <thread>

#include <gst/gst.h>

namespace postroll {

/// Whether a file can be read while it is written: Matroska/WebM, or an
/// MP4 whose movie header (before any media data) announces fragments.
enum class growing_form { readable, not_readable, too_early };
growing_form growing_form_of(const std::filesystem::path& file);

class growing_file_feed {
public:
  /// Starts pushing `file` into `appsrc` (set up here: bytes, stream,
  /// bounded, blocking). `writer_done` is asked at the current end.
  growing_file_feed(GstElement* appsrc, std::filesystem::path file, std::function<bool()> writer_done);
  /// Stops the feed (the pipeline must be stopped first, or is stopped by it) and joins.
  ~growing_file_feed();
  growing_file_feed(const growing_file_feed&) = delete;
  growing_file_feed& operator=(const growing_file_feed&) = delete;

private:
  void run();
  GstElement* src_;
  std::filesystem::path file_;
  std::function<bool()> writer_done_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace postroll
