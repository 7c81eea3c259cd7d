// The file-level encoder tag of an MP4 (moov/udta/meta/ilst/©too), read
// from the box structure. GstDiscoverer merges a stream's own encoder tag
// ("x264") with the file's and returns either, run to run: the compress
// stage must know for sure whether the merge already encoded the video.
#pragma once

#include <filesystem>
#include <string>

namespace postroll {

/// @returns the file's encoder tag ("" when there is none or it is not an MP4).
std::string mp4_encoder_tag(const std::filesystem::path& file);

}  // namespace postroll
