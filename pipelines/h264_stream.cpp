#include "pipelines/h264_stream.hpp"

namespace postroll::h264 {

namespace {

enum nal_type { slice = 1, idr = 5, sei = 6, sps_type = 7, pps_type = 8, aud = 9 };

// Exp-Golomb reader over an RBSP (emulation prevention bytes removed).
class bit_reader {
public:
  explicit bit_reader(const std::vector<std::uint8_t>& nal) {
    for (std::size_t i = 1; i < nal.size(); ++i) {  // skip the NAL header
      // 00 00 03: the 03 was inserted so the payload never looks like a
      // start code; it is not part of the data.
      if (zeros_ >= 2 && nal[i] == 3) {
        zeros_ = 0;
        continue;
      }
      zeros_ = nal[i] == 0 ? zeros_ + 1 : 0;
      rbsp_.push_back(nal[i]);
    }
  }
  bool ok() const { return pos_ <= rbsp_.size() * 8; }
  std::uint32_t bits(int n) {
    std::uint32_t v = 0;
    for (int i = 0; i < n; ++i, ++pos_)
      v = (v << 1) | (pos_ / 8 < rbsp_.size() ? (rbsp_[pos_ / 8] >> (7 - pos_ % 8)) & 1 : 0);
    return v;
  }
  std::uint32_t ue() {
    int zeros = 0;
    while (bits(1) == 0 && zeros < 32 && ok())
      ++zeros;
    return zeros >= 32 ? 0 : ((1u << zeros) - 1 + bits(zeros));
  }
  std::int32_t se() {
    auto v = ue();
    return v & 1 ? std::int32_t((v + 1) / 2) : -std::int32_t(v / 2);
  }

private:
  std::vector<std::uint8_t> rbsp_;
  std::size_t pos_ = 0;
  int zeros_ = 0;
};

void skip_scaling_list(bit_reader& r, int size) {
  int last = 8, next = 8;
  for (int j = 0; j < size; ++j) {
    if (next != 0)
      next = (last + r.se() + 256) % 256;
    last = next == 0 ? last : next;
  }
}

std::uint32_t read_length(const std::uint8_t* p, int n) {
  std::uint32_t v = 0;
  for (int i = 0; i < n; ++i)
    v = (v << 8) | p[i];
  return v;
}

// slice_type of a slice NAL: first_mb_in_slice, then slice_type (ue).
int slice_type_of(const std::uint8_t* nal, std::size_t size) {
  std::vector<std::uint8_t> head(nal, nal + std::min<std::size_t>(size, 16));
  bit_reader r{head};
  r.ue();
  return int(r.ue() % 5);  // 0 P, 1 B, 2 I, 3 SP, 4 SI
}

}  // namespace

walk_result walk(const std::uint8_t* data, std::size_t size, std::int64_t base, int length_size) {
  walk_result out;
  std::size_t pos = 0;
  access_unit current;
  bool current_has_slice = false;
  bool open = false;
  auto close = [&](std::size_t at) {
    if (open && current_has_slice) {
      current.size = std::int64_t(at) + base - current.offset;
      out.frames.push_back(current);
      out.end = current.offset + current.size;
    }
    open = false;
    current_has_slice = false;
  };
  while (pos + std::size_t(length_size) <= size) {
    auto len = read_length(data + pos, length_size);
    if (len == 0 || len > size - pos - std::size_t(length_size)) {
      out.stopped_because = len == 0 ? "a zero-length unit" : "a unit longer than the data left (cut off)";
      break;
    }
    const std::uint8_t* nal = data + pos + length_size;
    int type = nal[0] & 0x1f;
    if ((nal[0] & 0x80) != 0 || type == 0 || (type > 12 && type < 19) || type > 21) {
      out.stopped_because = "bytes that are not an H.264 unit";
      break;
    }
    bool is_slice = type == slice || type == idr;
    // A new frame starts with a delimiter, parameter sets or SEI after a
    // slice, or with a slice whose first macroblock is 0.
    bool starts = (!is_slice && (type == aud || type == sps_type || type == pps_type || type == sei) && current_has_slice) ||
                  (is_slice && len > 1 && (nal[1] & 0x80) != 0 && current_has_slice);
    if (starts)
      close(pos);
    if (!open) {
      current = access_unit{std::int64_t(pos) + base, 0, false};
      open = true;
    }
    if (is_slice) {
      current_has_slice = true;
      current.keyframe |= type == idr;
      if (!out.has_b_slices && slice_type_of(nal, len) == 1)
        out.has_b_slices = true;
    }
    if (type == sps_type && out.sps.empty())
      out.sps.assign(nal, nal + len);
    if (type == pps_type && out.pps.empty())
      out.pps.assign(nal, nal + len);
    pos += std::size_t(length_size) + len;
  }
  if (out.stopped_because.empty() && pos == size)
    close(pos);  // the data ended exactly after a unit: the last frame is whole
  else if (out.stopped_because.empty())
    out.stopped_because = "a length prefix cut off";
  // Otherwise the frame being read may be missing units: dropped.
  return out;
}

std::optional<double> sps_frame_rate(const std::vector<std::uint8_t>& sps) {
  if (sps.size() < 4)
    return std::nullopt;
  bit_reader r{sps};
  int profile = int(r.bits(8));
  r.bits(16);  // constraint flags, level
  r.ue();      // seq_parameter_set_id
  if (profile == 100 || profile == 110 || profile == 122 || profile == 244 || profile == 44 || profile == 83 ||
      profile == 86 || profile == 118 || profile == 128 || profile == 138 || profile == 139 || profile == 134 ||
      profile == 135) {
    auto chroma = r.ue();
    if (chroma == 3)
      r.bits(1);
    r.ue();
    r.ue();
    r.bits(1);
    if (r.bits(1))  // seq_scaling_matrix_present_flag
      for (int i = 0; i < (chroma != 3 ? 8 : 12); ++i)
        if (r.bits(1))
          skip_scaling_list(r, i < 6 ? 16 : 64);
  }
  r.ue();  // log2_max_frame_num_minus4
  auto poc_type = r.ue();
  if (poc_type == 0) {
    r.ue();
  } else if (poc_type == 1) {
    r.bits(1);
    r.se();
    r.se();
    auto n = r.ue();
    for (std::uint32_t i = 0; i < n && r.ok(); ++i)
      r.se();
  }
  r.ue();     // max_num_ref_frames
  r.bits(1);  // gaps_in_frame_num_value_allowed_flag
  r.ue();
  r.ue();
  if (!r.bits(1))  // frame_mbs_only_flag
    r.bits(1);
  r.bits(1);
  if (r.bits(1)) {  // frame_cropping_flag
    r.ue();
    r.ue();
    r.ue();
    r.ue();
  }
  if (!r.bits(1))  // vui_parameters_present_flag
    return std::nullopt;
  if (r.bits(1) && r.bits(8) == 255)  // aspect_ratio_info, Extended_SAR
    r.bits(32);
  if (r.bits(1))  // overscan_info_present_flag
    r.bits(1);
  if (r.bits(1)) {  // video_signal_type_present_flag
    r.bits(4);
    if (r.bits(1))
      r.bits(24);
  }
  if (r.bits(1)) {  // chroma_loc_info_present_flag
    r.ue();
    r.ue();
  }
  if (!r.bits(1) || !r.ok())  // timing_info_present_flag
    return std::nullopt;
  double units = r.bits(32), scale = r.bits(32);
  if (units <= 0 || scale <= 0 || !r.ok())
    return std::nullopt;
  double fps = scale / (2 * units);  // two fields per frame
  if (fps < 1 || fps > 240)
    return std::nullopt;
  return fps;
}

std::vector<std::uint8_t> make_avcc(const std::vector<std::uint8_t>& sps, const std::vector<std::uint8_t>& pps) {
  std::vector<std::uint8_t> c{1, sps.size() > 1 ? sps[1] : std::uint8_t(66), sps.size() > 2 ? sps[2] : std::uint8_t(0),
                              sps.size() > 3 ? sps[3] : std::uint8_t(30), 0xff, 0xe1};
  c.push_back(std::uint8_t(sps.size() >> 8));
  c.push_back(std::uint8_t(sps.size()));
  c.insert(c.end(), sps.begin(), sps.end());
  c.push_back(1);
  c.push_back(std::uint8_t(pps.size() >> 8));
  c.push_back(std::uint8_t(pps.size()));
  c.insert(c.end(), pps.begin(), pps.end());
  return c;
}

}  // namespace postroll::h264
