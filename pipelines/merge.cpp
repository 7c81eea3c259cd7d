#include "pipelines/merge.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <spdlog/spdlog.h>

#include "pipelines/media_probe.hpp"
#include "pipelines/output_file.hpp"

namespace postroll {

namespace {

// Records the furthest running time that passed a pad, for progress.
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

std::string demuxer_for(const std::string& container) {
  if (container == "video/x-matroska" || container == "video/webm")
    return "matroskademux";
  if (container == "video/quicktime")
    return "qtdemux";
  return "parsebin";  // anything else: let GStreamer pick
}


// Carries the video's encoded samples from the demuxer (or encoder) to the
// muxer, samples with their segment (the edit list of a B-frame stream
// arrives as the segment: pushed with it, nothing lands late), and makes
// the track last until `end_ns`: the last sample's duration stretches to
// the session's end, the last frame held. Without it a video much shorter
// than the audio is a track GStreamer's qtdemux skips as a "preview"
// (shorter than 20% of the movie) and players show nothing after it.
class video_bridge {
public:
  /// `offset_ns`: where the video starts on the session timeline (the
  /// manifest's offset), added to its segment's base.
  video_bridge(GstElement* sink, GstElement* src, GstClockTime end_ns, GstClockTime offset_ns,
               const gst::cancel_token& cancel)
      : sink_(GST_APP_SINK(sink)), src_(GST_APP_SRC(src)), end_ns_(end_ns), offset_ns_(offset_ns), cancel_(cancel) {
    // appsrc's handle-segment-change lost the last sample (GStreamer
    // 1.22): the segment goes downstream in place of appsrc's own instead.
    gst::ptr<GstPad> pad{gst_element_get_static_pad(src, "src")};
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &video_bridge::swap_segment, this, nullptr);
    // The end comes from the stream's EOS, not gst_app_sink_is_eos() alone:
    // that also says "EOS" while the reading pipeline is still starting (an
    // empty video track under load, seen in CI).
    GstAppSinkCallbacks callbacks{};
    callbacks.eos = [](GstAppSink*, gpointer self) { static_cast<video_bridge*>(self)->eos_ = true; };
    gst_app_sink_set_callbacks(sink_, &callbacks, this, nullptr);
    thread_ = std::thread([this] { pump(); });
  }
  ~video_bridge() { join(); }
  void join() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

private:
  static GstPadProbeReturn swap_segment(GstPad*, GstPadProbeInfo* info, gpointer self) {
    auto* b = static_cast<video_bridge*>(self);
    auto* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_SEGMENT) {
      GstSegment seg;
      if (b->have_segment_) {
        seg = b->segment_;
      } else {
        gst_event_copy_segment(ev, &seg);
      }
      seg.base += b->offset_ns_;
      gst_event_unref(ev);
      GST_PAD_PROBE_INFO_DATA(info) = gst_event_new_segment(&seg);
    }
    return GST_PAD_PROBE_OK;
  }

  void pump() {
    gst::sample_ptr held;
    for (;;) {
      if (cancel_.is_cancelled() || stop_.load())
        break;
      gst::sample_ptr next{gst_app_sink_try_pull_sample(sink_, 100 * GST_MSECOND)};
      if (!next) {
        if (eos_ && gst_app_sink_is_eos(sink_))
          break;
        continue;
      }
      if (!have_segment_) {
        if (const auto* seg = gst_sample_get_segment(next.get())) {
          // Its stop is where the file ends: open, or the held last frame
          // would be clipped away.
          segment_ = *seg;
          segment_.stop = GST_CLOCK_TIME_NONE;
          have_segment_ = true;
        }
        // The composition delay (a B-frame stream's first PTS - DTS): the
        // muxer shifts the track by it, so the held frame ends that much earlier.
        auto* b = gst_sample_get_buffer(next.get());
        if (b && GST_BUFFER_PTS_IS_VALID(b) && GST_BUFFER_DTS_IS_VALID(b) && GST_BUFFER_PTS(b) > GST_BUFFER_DTS(b))
          delay_ = GST_BUFFER_PTS(b) - GST_BUFFER_DTS(b);
      }
      if (held && gst_app_src_push_sample(src_, held.get()) != GST_FLOW_OK)
        return;  // the pipeline is shutting down (its error is on the bus)
      held = std::move(next);
    }
    if (cancel_.is_cancelled())
      return;  // no EOS: a cancelled merge must not finish its file
    if (held)
      gst_app_src_push_sample(src_, stretched(held.get()).get());
    gst_app_src_end_of_stream(src_);
  }

  // The last sample, lasting until end_ns_ on the session timeline.
  gst::sample_ptr stretched(GstSample* last) {
    auto* buf = gst_sample_get_buffer(last);
    auto ts = buf && GST_BUFFER_DTS_IS_VALID(buf) ? GST_BUFFER_DTS(buf) : buf ? GST_BUFFER_PTS(buf) : GST_CLOCK_TIME_NONE;
    if (!have_segment_ || !GST_CLOCK_TIME_IS_VALID(ts) || !GST_CLOCK_TIME_IS_VALID(end_ns_))
      return gst::sample_ptr{gst_sample_ref(last)};
    guint64 at = 0;
    // The running time of its decode timestamp; before the segment's start
    // (a B-frame stream's first DTS) counts as 0.
    if (gst_segment_to_running_time_full(&segment_, GST_FORMAT_TIME, ts, &at) < 0)
      at = 0;
    at += delay_;
    auto duration = GST_BUFFER_DURATION_IS_VALID(buf) ? GST_BUFFER_DURATION(buf) : 0;
    if (at + duration >= end_ns_)
      return gst::sample_ptr{gst_sample_ref(last)};
    GstBuffer* copy = gst_buffer_copy(buf);  // shares the memory
    GST_BUFFER_DURATION(copy) = end_ns_ - at;
    auto* out = gst_sample_new(copy, gst_sample_get_caps(last), nullptr, nullptr);
    gst_buffer_unref(copy);
    return gst::sample_ptr{out};
  }

  GstAppSink* sink_;
  GstAppSrc* src_;
  GstClockTime end_ns_;
  GstClockTime offset_ns_;
  const gst::cancel_token& cancel_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> eos_{false};
  GstSegment segment_{};
  GstClockTime delay_ = 0;
  std::atomic<bool> have_segment_{false};
};

// How the index gets to the front of the file.
enum class index_layout {
  reserved,   ///< room reserved at the start, index written there at the end (one pass)
  faststart,  ///< media to a scratch file, copied behind the index (two passes)
};

result<merge_result> merge_with(const merge_inputs& in, const std::filesystem::path& out_file,
                                const gst::cancel_token& cancel, const gst::progress_fn& progress,
                                index_layout layout) {
  merge_result res;
  std::int64_t duration_ms = 0;
  // The index (moov) goes to the front of the file so that playback can start
  // before the whole file is read. mp4mux's faststart=true does that by
  // writing the media to a scratch file and copying it behind the index at
  // the end: a second full write. Reserving room for the index at the start
  // (reserved-max-duration) gives the same layout in one streaming pass.
  std::string desc = "mp4mux name=mux ! filesink name=sink ";
  // The video's reading side is a pipeline of its own: an appsink and the
  // muxer's appsrc in one pipeline deadlock while it prerolls (the appsink
  // holds the first sample until PLAYING, the muxer's sink needs it first).
  std::string read_desc;
  double packets_per_second = 0;
  std::int64_t audio_ms = 0, video_end_ms = 0;
  if (in.video) {
    auto info = probe_media(*in.video);
    if (!info)
      return info.err();
    if (!info->has_video)
      return error{errc::bad_input, in.video->string() + ": has no video stream"};
    res.video_codec = info->video_codec;
    packets_per_second = std::max(packets_per_second, info->frame_rate > 0 ? info->frame_rate : 60.0);
    duration_ms = std::max(duration_ms, info->duration_ms + in.video_offset_ms);
    video_end_ms = info->duration_ms + in.video_offset_ms;
    if (info->video_codec == "video/x-h264" || info->video_codec == "video/x-h265") {
      // The container's own demuxer hands over the stored access units as
      // they are; a parser (h264parse, or parsebin) would insert SPS/PPS
      // into the first keyframe and change its bytes.
      res.video_remuxed = true;
      read_desc = "filesrc name=vsrc ! " + demuxer_for(info->container) + " ! capsfilter caps=" + info->video_codec +
                  " ! appsink name=vsink sync=false max-buffers=64";
    } else {
      // Screen content: a fast preset keeps this stage short; the compress
      // stage makes the file small later.
      read_desc = "filesrc name=vsrc ! decodebin ! video/x-raw ! videoconvert ! "
                  "x264enc speed-preset=veryfast key-int-max=300 ! video/x-h264,profile=high ! "
                  "h264parse ! appsink name=vsink sync=false max-buffers=64";
    }
    desc += "appsrc name=vout format=time block=true max-bytes=16777216 ! mux.video_0 ";
  }
  if (in.audio) {
    auto info = probe_media(*in.audio);
    if (!info)
      return info.err();
    duration_ms = std::max(duration_ms, info->duration_ms);
    audio_ms = info->duration_ms;
    packets_per_second = std::max(packets_per_second, info->sample_rate > 0 ? info->sample_rate / 1024.0 : 47.0);
    desc += "filesrc name=asrc ! aacparse name=aout ! mux. ";
  }
  if (!in.video && !in.audio)
    return error{errc::internal, "merge without inputs"};
  res.duration_ms = duration_ms;

  auto pipeline = gst::parse(desc, out_file.string());
  if (!pipeline)
    return pipeline.err();
  GstElement* p = pipeline->get();
  gst::element_ptr reader;
  if (in.video) {
    auto r = gst::parse(read_desc, in.video->string(), {{"vsrc", "location", in.video->string()}});
    if (!r)
      return r.err();
    reader = std::move(*r);
  }
  auto mux = gst::by_name(p, "mux");
  auto scratch = out_file.string() + ".faststart";
  if (layout == index_layout::reserved) {
    // qtmux's default of 550 bytes per second and track fits ~35 packets/s;
    // reserve ~20 bytes per packet and a minute of slack beyond the duration.
    auto bytes_per_sec = in.index_bytes_per_second ? in.index_bytes_per_second
                                                   : std::max(550u, unsigned(packets_per_second * 20));
    g_object_set(mux.get(), "reserved-max-duration", guint64(duration_ms + 60000) * GST_MSECOND,
                 "reserved-bytes-per-sec", bytes_per_sec, nullptr);
  } else {
    g_object_set(mux.get(), "faststart", TRUE, "faststart-file", scratch.c_str(), nullptr);
  }
  g_object_set(gst::by_name(p, "sink").get(), "location", out_file.c_str(), nullptr);

  std::atomic<std::int64_t> furthest{0};
  if (in.video) {
    auto vout = gst::by_name(p, "vout");
    gst::ptr<GstPad> pad{gst_element_get_static_pad(vout.get(), "src")};
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, track_position, &furthest, nullptr);
  }
  if (in.audio) {
    g_object_set(gst::by_name(p, "asrc").get(), "location", in.audio->c_str(), nullptr);
    auto aout = gst::by_name(p, "aout");
    gst::ptr<GstPad> pad{gst_element_get_static_pad(aout.get(), "src")};
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, track_position, &furthest, nullptr);
  }
  auto total = double(std::max<std::int64_t>(duration_ms, 1)) * GST_MSECOND;
  early_writeback writeback{out_file};
  std::unique_ptr<video_bridge> bridge;
  if (in.video) {
    // The video track ends where the session does (its timeline is in the
    // video's own time: the pad offset adds the manifest's offset later).
    auto end = std::max(video_end_ms, audio_ms) - in.video_offset_ms;
    bridge = std::make_unique<video_bridge>(gst::by_name(reader.get(), "vsink").get(), gst::by_name(p, "vout").get(),
                                            GstClockTime(std::max<std::int64_t>(end, 0)) * GST_MSECOND,
                                            GstClockTime(std::max<std::int64_t>(in.video_offset_ms, 0)) * GST_MSECOND,
                                            cancel);
    if (gst_element_set_state(reader.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      auto why = gst::pending_error(reader.get());
      gst_element_set_state(reader.get(), GST_STATE_NULL);
      bridge->join();
      return error{errc::media, in.video->string() + ": cannot be read: " + (why ? why->message : "refused to start")};
    }
  }
  maybe_error reader_error;
  gst::cancel_token stop;  // the muxing side stops when the reading side fails
  auto err = gst::run(p, stop, [&] {
    writeback.kick();
    if (cancel.is_cancelled())
      stop.cancel();
    if (reader && !reader_error)
      if ((reader_error = gst::pending_error(reader.get())))
        stop.cancel();
    if (progress)
      progress(std::min(0.99, double(furthest.load()) / total));
  });
  if (reader)
    gst_element_set_state(reader.get(), GST_STATE_NULL);
  if (bridge)
    bridge->join();
  if (reader_error)
    err = error{errc::media, in.video->string() + ": " + reader_error->message};
  if (cancel.is_cancelled())
    err = error{errc::cancelled, "cancelled"};
  std::error_code ec;
  std::filesystem::remove(scratch, ec);
  if (err)
    return *err;
  if (progress)
    progress(1.0);
  return res;
}

}  // namespace

result<merge_result> merge_media(const merge_inputs& in, const std::filesystem::path& out_file,
                                 const gst::cancel_token& cancel, const gst::progress_fn& progress) {
  gst::ensure_init();
  auto res = merge_with(in, out_file, cancel, progress, index_layout::reserved);
  // The reserved room is estimated from the nominal frame rate; a stream with
  // far more packets than that (variable frame rate bursts) does not fit and
  // mp4mux fails at the very end. Then pay for the two-pass layout.
  if (!res && res.err().message.find("reserved header space") != std::string::npos) {
    spdlog::warn("merge: {} ({}); writing it again with faststart", res.err().message, out_file.string());
    return merge_with(in, out_file, cancel, progress, index_layout::faststart);
  }
  return res;
}

}  // namespace postroll
