// A video file frames are read from (pipelines/video_frames), without
// GStreamer in the header: layers above name it in their own options.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace postroll {

/// A video to read frames from.
struct frame_source {
  std::filesystem::path file;  ///< what GStreamer opens (a /proc/self/fd/N of the session folder)
  std::string name;            ///< for messages ("" = file)
  std::int64_t offset_ms = 0;  ///< session time of the file's time 0: frames are timed on the session
  /// Set for a file still being written (pipelines/growing_file): read as
  /// it grows, until this says the writer is done and its end is reached.
  std::function<bool()> writer_done;
};

}  // namespace postroll
