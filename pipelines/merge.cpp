#include "pipelines/merge.hpp"

#include <algorithm>
#include <atomic>

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
  double packets_per_second = 0;
  if (in.video) {
    auto info = probe_media(*in.video);
    if (!info)
      return info.err();
    if (!info->has_video)
      return error{errc::bad_input, in.video->string() + ": has no video stream"};
    res.video_codec = info->video_codec;
    packets_per_second = std::max(packets_per_second, info->frame_rate > 0 ? info->frame_rate : 60.0);
    duration_ms = std::max(duration_ms, info->duration_ms + in.video_offset_ms);
    if (info->video_codec == "video/x-h264" || info->video_codec == "video/x-h265") {
      // The container's own demuxer hands over the stored access units as
      // they are; a parser (h264parse, or parsebin) would insert SPS/PPS
      // into the first keyframe and change its bytes.
      res.video_remuxed = true;
      desc += "filesrc name=vsrc ! " + demuxer_for(info->container) +
              " ! capsfilter name=vout caps=" + info->video_codec + " ! mux. ";
    } else {
      // Screen content: a fast preset keeps this stage short; the compress
      // stage makes the file small later.
      desc += "filesrc name=vsrc ! decodebin ! video/x-raw ! videoconvert ! "
              "x264enc speed-preset=veryfast key-int-max=300 ! video/x-h264,profile=high ! "
              "h264parse name=vout ! mux. ";
    }
  }
  if (in.audio) {
    auto info = probe_media(*in.audio);
    if (!info)
      return info.err();
    duration_ms = std::max(duration_ms, info->duration_ms);
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
    g_object_set(gst::by_name(p, "vsrc").get(), "location", in.video->c_str(), nullptr);
    auto vout = gst::by_name(p, "vout");
    gst::ptr<GstPad> pad{gst_element_get_static_pad(vout.get(), "src")};
    if (in.video_offset_ms > 0)
      gst_pad_set_offset(pad.get(), in.video_offset_ms * GST_MSECOND);
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
  auto err = gst::run(p, cancel, [&] {
    writeback.kick();
    if (progress)
      progress(std::min(0.99, double(furthest.load()) / total));
  });
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
