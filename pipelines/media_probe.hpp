// What a media file holds, read with GstDiscoverer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "postroll/error.hpp"

namespace postroll {

struct media_info {
  std::int64_t duration_ms = 0;
  bool has_video = false;
  bool has_audio = false;
  std::string container;    ///< e.g. "video/quicktime"
  std::string video_codec;  ///< caps name, e.g. "video/x-h264"
  std::string audio_codec;  ///< caps name, e.g. "audio/mpeg"
  int width = 0;
  int height = 0;
  double frame_rate = 0;  ///< video frames per second, 0 if unknown/variable
  std::string video_profile;  ///< e.g. "high", "high-4:4:4" ("" when the caps do not say)
  /// What two files must share to be joined without re-encoding: codec,
  /// profile, size and codec configuration (H.264/HEVC parameter sets).
  std::string video_signature;
  int sample_rate = 0;    ///< audio
  int channels = 0;       ///< audio
  std::vector<std::string> tags;  ///< "encoder=..." and the like, from the container
};

/// Probes `file`.
/// @returns its description, or `errc::bad_input` naming the file and the
///          reason when GStreamer cannot read it.
result<media_info> probe_media(const std::filesystem::path& file);

}  // namespace postroll
