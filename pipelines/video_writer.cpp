// One file: the session video's one pipeline (files joined on the session
// timeline, gaps held or black, copied or encoded once) and its buffer
// probe that maps every file's stream time onto the session's; the two
// share the mapping state and only make sense together.
#include "pipelines/video_writer.hpp"
#include "pipelines/gst_support.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <spdlog/spdlog.h>

#include "session/output_file.hpp"

namespace fs = std::filesystem;

namespace postroll {

namespace {

using gst::buffer_ptr;
using gst::sample_ptr;

// Every timestamp goes out an hour later, in a segment that starts there: a
// B-frame stream's first decode time (before its first presentation time:
// by seconds in a sparse variable-frame-rate recording, whose reordering
// delay spans a still) stays representable, and running time is still
// session time.
constexpr GstClockTime shift = 3600 * GST_SECOND;

std::string demuxer_for(const std::string& container) {
  if (container == "video/x-matroska" || container == "video/webm")
    return "matroskademux";
  if (container == "video/quicktime")
    return "qtdemux";
  return "parsebin";  // anything else: let GStreamer pick
}

// Session time (ns, signed) of a timestamp of a sample from a demuxer or
// decoder: its stream time (what the file presents at: edit lists and
// composition delay applied) plus the file's offset.
bool session_time(const GstSegment* seg, GstClockTime ts, std::int64_t offset_ns, std::int64_t& out) {
  if (!seg || !GST_CLOCK_TIME_IS_VALID(ts))
    return false;
  guint64 st = 0;
  int sign = gst_segment_to_stream_time_full(seg, GST_FORMAT_TIME, ts, &st);
  if (sign == 0)
    return false;
  out = offset_ns + (sign > 0 ? std::int64_t(st) : -std::int64_t(st));
  return true;
}

GstPadProbeReturn shifted_segment(GstPad*, GstPadProbeInfo* info, gpointer) {
  auto* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(ev) != GST_EVENT_SEGMENT)
    return GST_PAD_PROBE_OK;
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.start = shift;
  seg.time = 0;
  seg.position = shift;
  gst_event_unref(ev);
  GST_PAD_PROBE_INFO_DATA(info) = gst_event_new_segment(&seg);
  return GST_PAD_PROBE_OK;
}

// The furthest running time that passed a pad, for progress.
GstPadProbeReturn track_position(GstPad*, GstPadProbeInfo* info, gpointer user) {
  auto* furthest = static_cast<std::atomic<std::int64_t>*>(user);
  if (auto* buf = GST_PAD_PROBE_INFO_BUFFER(info); buf && GST_BUFFER_PTS_IS_VALID(buf)) {
    auto pts = std::int64_t(GST_BUFFER_PTS(buf));
    auto prev = furthest->load();
    while (pts > prev && !furthest->compare_exchange_weak(prev, pts)) {
    }
  }
  return GST_PAD_PROBE_OK;
}

luma_view luma_of(const GstVideoFrame& f) {
  return {static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, 0)), GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0),
          GST_VIDEO_FRAME_WIDTH(&f), GST_VIDEO_FRAME_HEIGHT(&f)};
}

// A decoded frame kept for comparison: its buffer, mapped as video.
struct held_frame {
  buffer_ptr buffer;
  std::int64_t since = 0;  ///< session ns the picture appeared (the buffer may be a later, equal frame)
  bool refined = false;    ///< its refinement repeat was sent
  GstVideoFrame frame{};
  bool mapped = false;

  held_frame() = default;
  held_frame(const held_frame&) = delete;
  held_frame& operator=(const held_frame&) = delete;
  ~held_frame() { reset(); }

  void hold(GstBuffer* b, GstVideoInfo* info) {
    reset();
    buffer.reset(gst_buffer_ref(b));
    mapped = gst_video_frame_map(&frame, info, buffer.get(), GST_MAP_READ);
  }
  void reset() {
    if (mapped)
      gst_video_frame_unmap(&frame);
    mapped = false;
    buffer.reset();
  }
  luma_view luma() const { return luma_of(frame); }
};

// A black I420 picture (a gap filled with black).
buffer_ptr black_frame(int width, int height) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, guint(width), guint(height));
  buffer_ptr b{gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr)};
  GstMapInfo map;
  if (gst_buffer_map(b.get(), &map, GST_MAP_WRITE)) {
    auto luma = std::size_t(GST_VIDEO_INFO_PLANE_OFFSET(&info, 1));
    std::memset(map.data, 16, luma);
    std::memset(map.data + luma, 128, map.size - luma);
    gst_buffer_unmap(b.get(), &map);
  }
  return b;
}

class writer {
public:
  writer(const std::vector<video_piece>& pieces, const std::optional<audio_track>& audio, const fs::path& out,
         const video_write_options& o, const cancel_token& cancel, const progress_fn& progress)
      : pieces_(pieces), audio_(audio), out_(out), o_(o), cancel_(cancel), progress_(progress) {
    end_ns_ = std::max<std::int64_t>(0, o.end_ms) * std::int64_t(GST_MSECOND);
  }

  result<video_write_stats> run() {
    if (auto err = build_mux())
      return *err;
    if (gst_element_set_state(mux_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      return fail_mux(gst::pending_error(mux_.get()));
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
      next_start_ = i + 1 < pieces_.size() ? pieces_[i + 1].offset_ms * std::int64_t(GST_MSECOND)
                                           : std::numeric_limits<std::int64_t>::max();
      if (auto err = read_piece(pieces_[i])) {
        gst_element_set_state(mux_.get(), GST_STATE_NULL);
        return *err;
      }
    }
    if (auto err = finish_video()) {
      gst_element_set_state(mux_.get(), GST_STATE_NULL);
      return *err;
    }
    gst_app_src_end_of_stream(appsrc_);
    auto total = double(std::max<std::int64_t>(end_ns_, 1));
    early_writeback writeback{out_};
    if (auto err = gst::run(mux_.get(), cancel_, [&] {
          writeback.kick();
          report(double(std::max(video_at_.load() - std::int64_t(shift), audio_at_.load())) / total);
        }))
      return err->code == errc::cancelled ? *err : fail_mux(err);
    std::error_code ec;
    stats_.bytes_out = std::int64_t(fs::file_size(out_, ec));
    fs::remove(out_.string() + ".faststart", ec);
    return stats_;
  }

  video_write_stats stats_;

private:
  void report(double f) {
    if (progress_)
      progress_(std::clamp(f, 0.0, 0.99));
  }

  error fail_mux(const maybe_error& err) {
    if (o_.encode)
      stats_.encoder_failed = true;
    gst_element_set_state(mux_.get(), GST_STATE_NULL);
    auto msg = err ? err->message : std::string{"refused to start"};
    return error{errc::media, (o_.encode ? "encoder " + o_.encoder + ": " : std::string{"mux: "}) + msg};
  }

  maybe_error build_mux() {
    std::string desc = "mp4mux name=mux ! filesink name=sink ";
    if (o_.encode)
      desc += "appsrc name=vsrc format=time block=true max-bytes=8388608 ! queue ! videoconvert ! " + o_.encoder +
              " name=enc ! h264parse ! mux.video_0 ";
    else
      desc += "appsrc name=vsrc format=time block=true max-bytes=16777216 ! mux.video_0 ";
    std::vector<gst::property> props = {{"sink", "location", out_.string()}};
    if (audio_) {
      desc += audio_->adts ? "filesrc name=asrc ! aacparse ! mux.audio_0 "
                           : "filesrc name=asrc ! qtdemux name=adm adm.audio_0 ! queue max-size-time=0 "
                             "max-size-buffers=0 max-size-bytes=67108864 ! mux.audio_0 ";
      props.push_back({"asrc", "location", audio_->path});
    }
    auto p = gst::parse(desc, out_.string(), props);
    if (!p) {
      stats_.encoder_failed = o_.encode;
      return p.err();
    }
    mux_ = std::move(*p);
    auto mux = gst::by_name(mux_.get(), "mux");
    if (o_.faststart) {
      // The media waits in faststart-file until the index is written in
      // front of it: next to the output (same volume, counted as the
      // session's, cleaned with the partial file), not in /tmp.
      auto scratch = out_.string() + ".faststart";
      g_object_set(mux.get(), "faststart", TRUE, "faststart-file", scratch.c_str(), nullptr);
    } else {
      // qtmux's default of 550 bytes per second and track fits ~35
      // packets/s; ~20 bytes per packet, and a minute of slack.
      auto bytes_per_sec = o_.index_bytes_per_second ? o_.index_bytes_per_second
                                                     : std::max(550u, unsigned(o_.packets_per_second * 20));
      g_object_set(mux.get(), "reserved-max-duration", guint64(end_ns_ + 60 * std::int64_t(GST_SECOND)),
                   "reserved-bytes-per-sec", bytes_per_sec, nullptr);
    }
    // A fine, fixed timescale for the video track: variable frame rate
    // timestamps keep their precision, and readers (ffmpeg) do not guess a
    // frame rate from a coarse automatic one (with 30 fps caps mp4mux picks
    // 3000, and ffmpeg's CFR output then collides frames 33 ms apart).
    if (gst::ptr<GstPad> vpad{gst_element_get_static_pad(mux.get(), "video_0")})
      g_object_set(vpad.get(), "trak-timescale", guint(90000), nullptr);
    if (!o_.encoder_tag.empty())
      gst_tag_setter_add_tags(GST_TAG_SETTER(mux.get()), GST_TAG_MERGE_REPLACE, GST_TAG_ENCODER,
                              o_.encoder_tag.c_str(), nullptr);
    if (o_.encode)
      apply_encoder_settings(gst::by_name(mux_.get(), "enc").get(), o_.encoder, o_.preset,
                             std::max(1, int(o_.frame_rate * o_.keyframe_seconds)));
    src_ = gst::by_name(mux_.get(), "vsrc");
    appsrc_ = GST_APP_SRC(src_.get());
    gst::ptr<GstPad> vpad{gst_element_get_static_pad(src_.get(), "src")};
    gst_pad_add_probe(vpad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, shifted_segment, nullptr, nullptr);
    gst_pad_add_probe(vpad.get(), GST_PAD_PROBE_TYPE_BUFFER, track_position, &video_at_, nullptr);
    if (audio_)
      if (gst::ptr<GstPad> apad{gst_element_get_static_pad(mux.get(), "audio_0")})
        gst_pad_add_probe(apad.get(), GST_PAD_PROBE_TYPE_BUFFER, track_position, &audio_at_, nullptr);
    return std::nullopt;
  }

  // Reads one file to its end, handing its frames to the muxing side.
  maybe_error read_piece(const video_piece& piece) {
    std::string desc;
    if (o_.encode) {
      desc = "filesrc name=src ! decodebin ! videoconvert ! videoscale add-borders=true ! "
             "video/x-raw,format=I420,width=" + std::to_string(o_.width) + ",height=" + std::to_string(o_.height) +
             ",pixel-aspect-ratio=1/1 ! appsink name=sink sync=false max-buffers=4";
    } else {
      desc = "filesrc name=src ! " + demuxer_for(piece.container) + " ! capsfilter caps=" + piece.codec +
             " ! appsink name=sink sync=false max-buffers=64";
    }
    auto reader = gst::parse(desc, piece.name.string(), {{"src", "location", piece.path}});
    if (!reader)
      return reader.err();
    auto sink = gst::by_name(reader->get(), "sink");
    auto* appsink = GST_APP_SINK(sink.get());
    auto offset_ns = piece.offset_ms * std::int64_t(GST_MSECOND);
    maybe_error outcome;
    if (gst_element_set_state(reader->get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      auto why = gst::pending_error(reader->get());
      outcome = error{errc::media, piece.name.string() + ": cannot be read: " + (why ? why->message : "refused to start")};
    }
    while (!outcome) {
      if (cancel_.is_cancelled()) {
        outcome = error{errc::cancelled, "cancelled"};
        break;
      }
      if (auto err = gst::pending_error(reader->get())) {
        outcome = error{errc::media, piece.name.string() + ": cannot be " + (o_.encode ? "decoded" : "read") + ": " +
                                         err->message};
        break;
      }
      if (auto err = gst::pending_error(mux_.get())) {
        outcome = fail_mux(err);
        break;
      }
      sample_ptr sample{gst_app_sink_try_pull_sample(appsink, 100 * GST_MSECOND)};
      if (!sample) {
        if (gst_app_sink_is_eos(appsink))
          break;
        continue;
      }
      ++stats_.frames_in;
      outcome = o_.encode ? encode_sample(sample.get(), offset_ns) : remux_sample(sample.get(), offset_ns);
    }
    gst_element_set_state(reader->get(), GST_STATE_NULL);
    if (!outcome && o_.encode)
      gap_after_piece();
    return outcome;
  }

  // -- remux ----------------------------------------------------------------

  maybe_error remux_sample(GstSample* sample, std::int64_t offset_ns) {
    auto* buf = gst_sample_get_buffer(sample);
    const auto* seg = gst_sample_get_segment(sample);
    std::int64_t pts = 0, dts = 0;
    if (!buf || !session_time(seg, GST_BUFFER_PTS(buf), offset_ns, pts))
      return std::nullopt;  // no presentation time: nothing to place
    if (!session_time(seg, GST_BUFFER_DTS(buf), offset_ns, dts))
      dts = pts;
    if (pts + std::int64_t(shift) < 0 || dts + std::int64_t(shift) < 0)
      return std::nullopt;  // an hour before the session starts: nothing a recorder writes
    if (!caps_set_) {
      gst_app_src_set_caps(appsrc_, gst_sample_get_caps(sample));
      caps_set_ = true;
    }
    if (held_remux_ && dts <= held_dts_) {
      // A file that starts within the reordering delay of the previous
      // one's end: decode times would go backwards.
      stats_.remux_impossible = true;
      return error{errc::media, "the video files' decode times overlap: they cannot be joined without encoding"};
    }
    if (stats_.first_ms < 0 || pts / std::int64_t(GST_MSECOND) < stats_.first_ms)
      stats_.first_ms = pts / std::int64_t(GST_MSECOND);
    if (first_delay_ < 0)
      first_delay_ = std::max<std::int64_t>(0, pts - dts);  // the muxer shifts the track by it
    if (auto err = push_held_remux())
      return err;
    held_remux_.reset(gst_buffer_copy(buf));  // shares the memory
    held_pts_ = pts;
    held_dts_ = dts;
    return std::nullopt;
  }

  maybe_error push_held_remux(std::int64_t stretch_to = -1) {
    if (!held_remux_)
      return std::nullopt;
    GstBuffer* out = held_remux_.release();
    GST_BUFFER_PTS(out) = GstClockTime(held_pts_ + std::int64_t(shift));
    GST_BUFFER_DTS(out) = GstClockTime(held_dts_ + std::int64_t(shift));
    auto end = held_pts_ + (GST_BUFFER_DURATION_IS_VALID(out) ? std::int64_t(GST_BUFFER_DURATION(out)) : 0);
    if (stretch_to > 0) {
      // The track's end in the file is its last decode time plus the last
      // duration, shifted by the composition delay.
      auto at = held_dts_ + std::max<std::int64_t>(0, first_delay_);
      if (stretch_to > at)
        GST_BUFFER_DURATION(out) = GstClockTime(stretch_to - at);
      end = std::max(end, stretch_to);
    }
    stats_.end_ms = std::max(stats_.end_ms, end / std::int64_t(GST_MSECOND));
    ++stats_.frames_out;
    if (gst_app_src_push_buffer(appsrc_, out) != GST_FLOW_OK)
      return fail_mux(gst::pending_error(mux_.get(), GST_SECOND));
    return std::nullopt;
  }

  // -- encode ---------------------------------------------------------------

  maybe_error encode_sample(GstSample* sample, std::int64_t offset_ns) {
    auto* buffer = gst_sample_get_buffer(sample);
    std::int64_t pts = 0;
    if (!buffer || !session_time(gst_sample_get_segment(sample), GST_BUFFER_PTS(buffer), offset_ns, pts) || pts < 0)
      return std::nullopt;  // not presented (before the file's first shown frame, or the session's start)
    if (pts >= next_start_)
      return std::nullopt;  // the next file has begun: it wins
    if (!caps_set_) {
      auto* caps = gst_sample_get_caps(sample);
      if (!caps || !gst_video_info_from_caps(&vinfo_, caps))
        return error{errc::media, "decoded video has no usable format"};
      // The nominal rate in the caps (timestamps carry the real, variable
      // timing): with 0/1 the encoder's buffers lost their durations and
      // mp4mux cut the last sample to nothing.
      gint num = 0, den = 1;
      gst_util_double_to_fraction(o_.frame_rate > 0 ? o_.frame_rate : 30.0, &num, &den);
      gst::caps_ptr fixed{gst_caps_copy(caps)};
      gst_caps_set_simple(fixed.get(), "framerate", GST_TYPE_FRACTION, num, den, nullptr);
      gst_app_src_set_caps(appsrc_, fixed.get());
      caps_set_ = true;
    }
    last_pts_ = std::max(last_pts_, pts);
    auto duration = GST_BUFFER_DURATION_IS_VALID(buffer) ? std::int64_t(GST_BUFFER_DURATION(buffer))
                                                         : std::int64_t(double(GST_SECOND) / o_.frame_rate);
    piece_end_ = std::max(piece_end_, pts + duration);
    if (stats_.first_ms < 0)
      stats_.first_ms = pts / std::int64_t(GST_MSECOND);
    if (progress_ && stats_.frames_in % 8 == 0 && end_ns_ > 0)
      report(double(pts) / double(end_ns_));
    if (held_.buffer && o_.drop_duplicates) {
      GstVideoFrame frame;
      if (gst_video_frame_map(&frame, &vinfo_, buffer, GST_MAP_READ)) {
        bool same = held_.mapped && same_picture(held_.luma(), luma_of(frame), o_.dedup);
        gst_video_frame_unmap(&frame);
        if (same) {
          // Keep the newest copy of a still picture: recorders refine a
          // still screen over the frames after a change (a first frame is
          // the blurriest), so the last one is the best to encode.
          auto since = held_.since;
          bool refined = held_.refined;
          if (!refined && pts >= since + std::int64_t(o_.refine_after_ms) * std::int64_t(GST_MSECOND)) {
            // One repeat of a picture that stays: the encoder codes what its
            // first, single-frame pass left out, for a few percent of size.
            if (auto err = push_held(pts))
              return err;
            since = pts;
            refined = true;
          }
          held_.hold(buffer, &vinfo_);
          held_.since = since;
          held_.refined = refined;
          return std::nullopt;
        }
      }
    }
    if (held_.buffer)
      if (auto err = push_held(pts))
        return err;
    held_.hold(buffer, &vinfo_);
    held_.since = pts;
    held_.refined = o_.refine_after_ms <= 0;
    return std::nullopt;
  }

  // Pushes the held picture (or `picture`), shown from `at` (default: since
  // it appeared) until `until`.
  maybe_error push_held(std::int64_t until, std::int64_t at = -1, GstBuffer* picture = nullptr) {
    GstBuffer* out = gst_buffer_copy(picture ? picture : held_.buffer.get());  // shares the memory
    auto start = at >= 0 ? at : held_.since;
    GST_BUFFER_PTS(out) = GstClockTime(start + std::int64_t(shift));
    GST_BUFFER_DTS(out) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION(out) = GstClockTime(until > start ? until - start : 0);
    ++stats_.frames_out;
    stats_.end_ms = std::max(stats_.end_ms, until / std::int64_t(GST_MSECOND));
    if (gst_app_src_push_buffer(appsrc_, out) != GST_FLOW_OK)
      return fail_mux(gst::pending_error(mux_.get(), GST_SECOND));
    return std::nullopt;
  }

  // Between two files, with gaps filled with black: the held picture ends
  // where its file did, black until the next one starts.
  void gap_after_piece() {
    if (o_.gaps != gap_fill::black || !held_.buffer || next_start_ == std::numeric_limits<std::int64_t>::max() ||
        next_start_ - piece_end_ < std::int64_t(GST_SECOND / 100))
      return;
    auto black = black_frame(o_.width, o_.height);
    if (push_held(piece_end_))
      return;
    held_.hold(black.get(), &vinfo_);
    held_.since = piece_end_;
    held_.refined = true;
  }

  maybe_error finish_video() {
    if (!o_.encode) {
      if (!held_remux_)
        return error{errc::media, "the video files hold no frames"};
      return push_held_remux(end_ns_);
    }
    if (!held_.buffer)
      return error{errc::media, "the video files hold no decodable frames"};
    // A still tail must not shorten the file: muxers take a track's end
    // from its last sample's start, so the end gets a sample too (one
    // repeat of the held picture, one frame before the end: encoders give
    // a frame its nominal duration whatever the buffer says).
    auto end = std::max(piece_end_, end_ns_);
    auto frame = std::int64_t(double(GST_SECOND) / (o_.frame_rate > 0 ? o_.frame_rate : 30.0));
    // On the source's frame grid (off-grid timestamps make readers such as
    // ffmpeg guess a nonsense frame rate), the last frame whose nominal
    // duration still ends by `end`: the track ends within a frame of it.
    auto steps = (end - last_pts_) / std::max<std::int64_t>(1, frame) - 1;
    auto tail_at = steps >= 1 ? last_pts_ + steps * frame : last_pts_;
    bool repeat = tail_at > held_.since;
    if (auto err = push_held(repeat ? tail_at : end))
      return err;
    if (repeat)
      if (auto err = push_held(end, tail_at))
        return err;
    held_.reset();
    return std::nullopt;
  }

  const std::vector<video_piece>& pieces_;
  const std::optional<audio_track>& audio_;
  fs::path out_;
  video_write_options o_;
  const cancel_token& cancel_;
  const progress_fn& progress_;
  std::int64_t end_ns_ = 0;
  gst::element_ptr mux_;
  gst::element_ptr src_;
  GstAppSrc* appsrc_ = nullptr;
  std::atomic<std::int64_t> video_at_{0}, audio_at_{0};
  bool caps_set_ = false;
  std::int64_t next_start_ = 0;
  // remux
  buffer_ptr held_remux_;
  std::int64_t held_pts_ = 0, held_dts_ = 0, first_delay_ = -1;
  // encode
  GstVideoInfo vinfo_{};
  held_frame held_;
  std::int64_t last_pts_ = 0, piece_end_ = 0;
};

}  // namespace

result<video_write_stats> write_session_video(const std::vector<video_piece>& pieces,
                                              const std::optional<audio_track>& audio, const fs::path& out_file,
                                              const video_write_options& options, const cancel_token& cancel,
                                              const progress_fn& progress, video_write_stats* stats_on_error) {
  gst::ensure_init();
  if (pieces.empty())
    return error{errc::internal, "no video to write"};
  if (options.encode && (options.width <= 0 || options.height <= 0 || options.width % 2 || options.height % 2))
    return error{errc::internal, "encode: the picture size must be even and positive"};
  writer w{pieces, audio, out_file, options, cancel, progress};
  auto r = w.run();
  if (!r && stats_on_error)
    *stats_on_error = w.stats_;
  return r;
}

}  // namespace postroll
