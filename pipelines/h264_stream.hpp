// H.264 as an MP4's `mdat` holds it: length-prefixed NAL units. What a
// repair needs to rebuild a file whose index (`moov`) was never written:
// walk the units, group them into frames, find the parameter sets and the
// frame rate the stream itself declares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace postroll::h264 {

/// One frame (access unit): where its NAL units lie in the file.
struct access_unit {
  std::int64_t offset = 0;  ///< first byte of its first length prefix
  std::int64_t size = 0;    ///< bytes up to the end of its last unit
  bool keyframe = false;    ///< holds an IDR slice
};

struct walk_result {
  std::vector<access_unit> frames;
  std::vector<std::uint8_t> sps, pps;  ///< the first in-band parameter sets, if any
  std::int64_t end = 0;                ///< where the last whole frame ends
  bool has_b_slices = false;           ///< frames are in decode order, not display order
  std::string stopped_because;         ///< why the walk ended before the data did ("" = at the end)
};

/// Walks length-prefixed NAL units (`length_size` bytes, big-endian) in
/// `data`, whose first byte sits at file offset `base`. Stops at the first
/// unit that cannot be one (a zero or too long length, the forbidden bit,
/// a reserved type): what follows is lost, what came before is kept. The
/// last frame is dropped when the data ends inside it.
walk_result walk(const std::uint8_t* data, std::size_t size, std::int64_t base, int length_size = 4);

/// Frames per second from an SPS's VUI timing info, if it carries one.
std::optional<double> sps_frame_rate(const std::vector<std::uint8_t>& sps);

/// An `avcC` record (the MP4 codec configuration) for one SPS and PPS.
std::vector<std::uint8_t> make_avcc(const std::vector<std::uint8_t>& sps, const std::vector<std::uint8_t>& pps);

}  // namespace postroll::h264
