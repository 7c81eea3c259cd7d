#include "pipelines/mp4_repair.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gst/app/gstappsrc.h>

#include "pipelines/h264_stream.hpp"
#include "session/output_file.hpp"
#include "pipelines/gst_support.hpp"

namespace postroll {

namespace fs = std::filesystem;

namespace {

std::uint64_t be(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v = (v << 8) | p[i];
  return v;
}

bool printable_type(const char* t) {
  for (int i = 0; i < 4; ++i)
    if (t[i] < 0x20 || t[i] > 0x7e)
      return false;
  return true;
}

// A box inside a buffer: its payload.
struct span {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  explicit operator bool() const { return data != nullptr; }
};

// Child boxes of `parent` (a payload) of the given type, in order.
std::vector<span> children(span parent, const char* type) {
  std::vector<span> out;
  std::size_t pos = 0;
  while (pos + 8 <= parent.size) {
    auto size = be(parent.data + pos, 4);
    std::size_t header = 8;
    if (size == 1 && pos + 16 <= parent.size) {
      size = be(parent.data + pos + 8, 8);
      header = 16;
    } else if (size == 0) {
      size = parent.size - pos;
    }
    if (size < header || pos + size > parent.size)
      break;
    if (std::memcmp(parent.data + pos + 4, type, 4) == 0)
      out.push_back({parent.data + pos + header, std::size_t(size - header)});
    pos += size;
  }
  return out;
}

span child(span parent, const char* type) {
  auto all = children(parent, type);
  return all.empty() ? span{} : all.front();
}

// What a complete recording tells about its video track.
struct reference_info {
  std::vector<std::uint8_t> avcc;
  double fps = 0;
};

result<reference_info> read_reference(const fs::path& file) {
  std::string moov;
  for (const auto& b : top_level_boxes(file))
    if (b.type == "moov" && b.complete) {
      std::ifstream in(file, std::ios::binary);
      in.seekg(b.offset + b.header);
      moov.resize(std::size_t(b.size - b.header));
      in.read(moov.data(), std::streamsize(moov.size()));
      if (!in)
        return error{errc::bad_input, file.string() + ": reference: cannot read its moov"};
    }
  if (moov.empty())
    return error{errc::bad_input, file.string() + ": reference has no index (moov); use a complete recording"};
  span root{reinterpret_cast<const std::uint8_t*>(moov.data()), moov.size()};
  for (auto trak : children(root, "trak")) {
    auto mdia = child(trak, "mdia");
    auto hdlr = child(mdia, "hdlr");
    if (!hdlr || hdlr.size < 12 || std::memcmp(hdlr.data + 8, "vide", 4) != 0)
      continue;
    auto stsd = child(child(child(mdia, "minf"), "stbl"), "stsd");
    if (!stsd || stsd.size < 16)
      continue;
    // The first sample entry: a box whose payload is 78 bytes of visual
    // sample description, then boxes (avcC among them).
    span entries{stsd.data + 8, stsd.size - 8};
    auto entry_size = be(entries.data, 4);
    std::string format(reinterpret_cast<const char*>(entries.data + 4), 4);
    if (format != "avc1" && format != "avc3")
      return error{errc::bad_input, file.string() + ": reference video is " + format + ", not H.264 (avc1)"};
    if (entry_size < 8 + 78 || entry_size > entries.size)
      continue;
    auto avcc = child(span{entries.data + 8 + 78, std::size_t(entry_size - 8 - 78)}, "avcC");
    if (!avcc)
      continue;
    reference_info info;
    info.avcc.assign(avcc.data, avcc.data + avcc.size);
    // Frame rate: the timescale over the most common frame duration.
    auto mdhd = child(mdia, "mdhd");
    auto stts = child(child(child(mdia, "minf"), "stbl"), "stts");
    if (mdhd && stts && stts.size >= 8) {
      double timescale = mdhd.data[0] == 1 ? double(be(mdhd.data + 20, 4)) : double(be(mdhd.data + 12, 4));
      auto count = be(stts.data + 4, 4);
      std::uint64_t best_count = 0, best_delta = 0;
      for (std::uint64_t i = 0; i < count && 8 + i * 8 + 8 <= stts.size; ++i) {
        auto n = be(stts.data + 8 + i * 8, 4), d = be(stts.data + 12 + i * 8, 4);
        if (n > best_count)
          best_count = n, best_delta = d;
      }
      if (best_delta > 0 && timescale > 0)
        info.fps = timescale / double(best_delta);
    }
    return info;
  }
  return error{errc::bad_input, file.string() + ": reference has no H.264 video track"};
}

// A read-only mapping of a whole file.
struct mapped_file {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  explicit mapped_file(const fs::path& p) {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return;
    auto end = ::lseek(fd, 0, SEEK_END);
    if (end > 0) {
      void* m = ::mmap(nullptr, std::size_t(end), PROT_READ, MAP_PRIVATE, fd, 0);
      if (m != MAP_FAILED) {
        data = static_cast<const std::uint8_t*>(m);
        size = std::size_t(end);
        ::madvise(m, size, MADV_SEQUENTIAL);
      }
    }
    ::close(fd);
  }
  ~mapped_file() {
    if (data)
      ::munmap(const_cast<std::uint8_t*>(data), size);
  }
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
};

}  // namespace

std::vector<mp4_box> top_level_boxes(const fs::path& file) {
  std::vector<mp4_box> out;
  std::ifstream in(file, std::ios::binary);
  std::error_code ec;
  auto end = std::int64_t(fs::file_size(file, ec));
  if (!in || ec)
    return out;
  std::int64_t pos = 0;
  while (pos + 8 <= end) {
    std::uint8_t h[16];
    in.seekg(pos);
    in.read(reinterpret_cast<char*>(h), 8);
    if (!in || !printable_type(reinterpret_cast<const char*>(h + 4)))
      break;
    mp4_box b;
    b.type.assign(reinterpret_cast<const char*>(h + 4), 4);
    b.offset = pos;
    auto size = std::int64_t(be(h, 4));
    if (size == 1) {
      in.read(reinterpret_cast<char*>(h + 8), 8);
      if (!in)
        break;
      size = std::int64_t(be(h + 8, 8));
      b.header = 16;
    } else if (size == 0) {
      size = end - pos;  // "to the end of the file": what a recorder writes before it knows
    }
    if (size < b.header)
      break;
    b.size = size;
    b.complete = pos + size <= end;
    out.push_back(b);
    if (!b.complete)
      break;
    pos += size;
  }
  return out;
}

mp4_scan scan_mp4(const fs::path& file) {
  mp4_scan s;
  auto boxes = top_level_boxes(file);
  if (boxes.empty() || (boxes.front().type != "ftyp" && boxes.front().type != "moov" &&
                        boxes.front().type != "mdat" && boxes.front().type != "free" && boxes.front().type != "wide"))
    return s;  // not an MP4 we understand: the probe says what it is
  bool moov = false, moof = false;
  const mp4_box* mdat = nullptr;
  for (const auto& b : boxes) {
    moov |= b.type == "moov" && b.complete;
    moof |= b.type == "moof";
    if (b.type == "mdat" && !mdat)
      mdat = &b;
  }
  std::error_code ec;
  auto size = std::int64_t(fs::file_size(file, ec));
  if (!moov && mdat) {
    s.damage = mp4_damage::no_moov;
    s.reason = "no index (moov): the recorder stopped before writing it; " +
               std::to_string((size - mdat->offset) / 1024) + " KB of media data to rebuild from";
    return s;
  }
  if (moov && moof) {
    // Fragments: a moof and the mdat after it. Keep up to the last pair
    // that is whole.
    std::int64_t keep = 0;
    bool cut = false;
    for (std::size_t i = 0; i < boxes.size(); ++i) {
      const auto& b = boxes[i];
      if (!b.complete) {
        cut = true;
        break;
      }
      if (b.type == "moof") {
        if (i + 1 < boxes.size() && boxes[i + 1].type == "mdat" && boxes[i + 1].complete) {
          keep = boxes[i + 1].offset + boxes[i + 1].size;
          ++i;
        } else {
          cut = true;
          break;
        }
      } else if (keep == 0 || b.type == "mfra" || b.type == "free" || b.type == "sidx" || b.type == "styp") {
        keep = std::max(keep, b.offset + b.size);
      }
    }
    auto parsed_to = boxes.back().complete ? boxes.back().offset + boxes.back().size : boxes.back().offset;
    if (cut || parsed_to < size) {
      s.damage = mp4_damage::fragment_cut;
      s.keep_bytes = keep;
      s.reason = "fragmented MP4 cut off inside a fragment; " + std::to_string(size - keep) + " bytes after the last whole one";
    }
  }
  return s;
}

result<rebuild_report> rebuild_mp4(const fs::path& damaged, const fs::path& out, const rebuild_options& options,
                                   const cancel_token& cancel, const progress_fn& progress) {
  gst::ensure_init();
  const mp4_box* mdat = nullptr;
  auto boxes = top_level_boxes(damaged);
  for (const auto& b : boxes)
    if (b.type == "mdat") {
      mdat = &b;
      break;
    }
  if (!mdat)
    return error{errc::bad_input, damaged.string() + ": no media data (mdat) to rebuild from"};
  mapped_file map{damaged};
  if (!map.data)
    return error{errc::io, damaged.string() + ": cannot be read"};
  // The payload runs to the end of the file when the size was never
  // written (0) or is only the header (a placeholder).
  auto begin = std::size_t(mdat->offset + mdat->header);
  auto end = mdat->complete && mdat->size > mdat->header ? std::size_t(mdat->offset + mdat->size) : map.size;
  end = std::min(end, map.size);

  rebuild_report report;
  std::vector<std::uint8_t> avcc;
  int length_size = 4;
  double fps = 0;
  if (!options.reference.empty()) {
    auto ref = read_reference(options.reference);
    if (!ref)
      return ref.err();
    avcc = ref->avcc;
    if (avcc.size() > 4)
      length_size = (avcc[4] & 3) + 1;
    fps = ref->fps;
    report.config_from = "reference";
    if (fps > 0)
      report.fps_from = "reference";
  }
  auto walk = h264::walk(map.data + begin, end - begin, std::int64_t(begin), length_size);
  if (walk.frames.empty())
    return error{errc::bad_input, damaged.string() + ": no H.264 frames found in its media data (" +
                                      (walk.stopped_because.empty() ? "empty" : walk.stopped_because) + ")"};
  if (avcc.empty()) {
    if (walk.sps.empty() || walk.pps.empty())
      return error{errc::bad_input, damaged.string() + ": the stream carries no parameter sets (SPS/PPS); "
                                                       "give a complete recording of the same recorder as reference "
                                                       "(--reference FILE or media.repair_reference)"};
    avcc = h264::make_avcc(walk.sps, walk.pps);
    report.config_from = "stream";
  }
  if (fps <= 0 && !walk.sps.empty())
    if (auto f = h264::sps_frame_rate(walk.sps)) {
      fps = *f;
      report.fps_from = "stream";
    }
  if (fps <= 0) {
    fps = options.default_fps;
    report.fps_from = "assumed";
  }
  // Frames before the first keyframe cannot be decoded.
  std::size_t first = 0;
  while (first < walk.frames.size() && !walk.frames[first].keyframe)
    ++first;
  if (first == walk.frames.size())
    return error{errc::bad_input, damaged.string() + ": no keyframe in its media data"};

  gint num = 0, den = 1;
  gst_util_double_to_fraction(fps, &num, &den);
  auto produce = [&](const fs::path& partial) -> result<rebuild_report> {
    auto pipe = gst::parse("appsrc name=src format=time block=true max-bytes=8388608 ! h264parse ! "
                           "mp4mux faststart=true ! filesink name=sink",
                           "repair of " + damaged.filename().string(), {{"sink", "location", partial.string()}});
    if (!pipe)
      return pipe.err();
    auto src = gst::by_name(pipe->get(), "src");
    auto* appsrc = GST_APP_SRC(src.get());
    GstBuffer* config = gst_buffer_new_memdup(avcc.data(), avcc.size());
    GstCaps* caps = gst_caps_new_simple("video/x-h264", "stream-format", G_TYPE_STRING, "avc", "alignment",
                                        G_TYPE_STRING, "au", "codec_data", GST_TYPE_BUFFER, config, "framerate",
                                        GST_TYPE_FRACTION, num, den, nullptr);
    gst_buffer_unref(config);
    gst_app_src_set_caps(appsrc, caps);
    gst_caps_unref(caps);
    if (gst_element_set_state(pipe->get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      auto err = gst::pending_error(pipe->get());
      gst_element_set_state(pipe->get(), GST_STATE_NULL);
      return error{errc::media, "repair: the muxer did not start: " + (err ? err->message : std::string{})};
    }
    // Frames in decode order; without B-frames that is display order too.
    GstClockTime step = gst_util_uint64_scale(GST_SECOND, GstClockTime(den), GstClockTime(num));
    std::int64_t n = 0;
    for (std::size_t i = first; i < walk.frames.size(); ++i, ++n) {
      if (cancel.is_cancelled()) {
        gst_element_set_state(pipe->get(), GST_STATE_NULL);
        return error{errc::cancelled, "cancelled"};
      }
      const auto& f = walk.frames[i];
      GstBuffer* b = gst_buffer_new_memdup(map.data + f.offset, std::size_t(f.size));
      GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = GstClockTime(n) * step;
      GST_BUFFER_DURATION(b) = step;
      if (!f.keyframe)
        GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
      if (gst_app_src_push_buffer(appsrc, b) != GST_FLOW_OK)
        break;
      if (progress && n % 64 == 0)
        progress(0.9 * double(i) / double(walk.frames.size()));
    }
    gst_app_src_end_of_stream(appsrc);
    if (auto err = gst::run(pipe->get(), cancel))
      return *err;
    rebuild_report r = report;
    r.frames = n;
    r.fps = fps;
    r.duration_ms = std::int64_t(std::llround(double(n) * 1000.0 / fps));
    r.bytes_recovered = walk.end - walk.frames[first].offset;
    r.bytes_lost = std::int64_t(end - begin) - r.bytes_recovered;
    r.stopped_because = walk.stopped_because;
    if (walk.has_b_slices)
      r.stopped_because += std::string(r.stopped_because.empty() ? "" : "; ") +
                           "the stream has B-frames: frame order may be off (timing from decode order)";
    return r;
  };
  return write_atomically(out, produce);
}

}  // namespace postroll
