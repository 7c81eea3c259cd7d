#include "pipelines/compress.hpp"

#include <algorithm>
#include <cctype>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <spdlog/spdlog.h>

#include "pipelines/media_probe.hpp"

namespace fs = std::filesystem;

namespace postroll {

namespace {

using gst::buffer_ptr;
using gst::sample_ptr;

bool safe_element_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

luma_view luma_of(const GstVideoFrame& f) {
  return {static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, 0)), GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0),
          GST_VIDEO_FRAME_WIDTH(&f), GST_VIDEO_FRAME_HEIGHT(&f)};
}

// A decoded frame kept for comparison: its buffer, mapped as video.
struct held_frame {
  buffer_ptr buffer;
  GstClockTime since = 0;  ///< when the picture appeared (the buffer may be a later, equal frame)
  bool refined = false;    ///< its refinement repeat was sent
  GstVideoFrame frame{};
  bool mapped = false;

  held_frame() = default;
  held_frame(const held_frame&) = delete;
  held_frame& operator=(const held_frame&) = delete;
  ~held_frame() { reset(); }

  bool hold(GstBuffer* b, GstVideoInfo* info) {
    reset();
    buffer.reset(gst_buffer_ref(b));
    mapped = gst_video_frame_map(&frame, info, buffer.get(), GST_MAP_READ);
    return mapped;
  }
  void reset() {
    if (mapped)
      gst_video_frame_unmap(&frame);
    mapped = false;
    buffer.reset();
  }
  luma_view luma() const { return luma_of(frame); }
};

}  // namespace

result<compress_stats> compress_video(const fs::path& input, const fs::path& output, const compress_options& o,
                                      const gst::cancel_token& cancel, const gst::progress_fn& progress,
                                      bool* encoder_failed) {
  gst::ensure_init();
  if (encoder_failed)
    *encoder_failed = false;
  if (!safe_element_name(o.encoder))
    return error{errc::bad_input, "compress: \"" + o.encoder + "\" is not an element name"};
  auto info = probe_media(input);
  if (!info)
    return info.err();
  if (!info->has_video)
    return error{errc::bad_input, input.string() + ": has no video to compress"};
  double fps = info->frame_rate > 0 ? info->frame_rate : 30.0;
  auto total_ns = std::max<std::int64_t>(1, info->duration_ms) * GST_MSECOND;

  // Decoding side: the source's video to raw I420 frames in an appsink.
  auto decode = gst::parse("filesrc name=src ! qtdemux name=dm dm.video_0 ! queue ! decodebin ! videoconvert ! "
                           "video/x-raw,format=I420 ! appsink name=frames sync=false max-buffers=4",
                           "compress (decode)", {{"src", "location", input.string()}});
  if (!decode)
    return decode.err();
  // Encoding side: frames pushed into an appsrc, the source's audio copied.
  std::string audio = info->has_audio ? " filesrc name=asrc ! qtdemux name=adm adm.audio_0 ! queue max-size-time=0 "
                                          "max-size-buffers=0 max-size-bytes=67108864 ! mux."
                                      : "";
  std::vector<gst::property> files = {{"mux", "faststart-file", output.string() + ".faststart"},
                                      {"sink", "location", output.string()}};
  if (info->has_audio)
    files.push_back({"asrc", "location", input.string()});
  auto encode = gst::parse("appsrc name=src format=time block=true max-bytes=8388608 ! queue ! videoconvert ! " +
                             // The media data waits in faststart-file until the
                             // index is written in front of it: next to the
                             // output (same volume, counted as the session's,
                             // cleaned with the partial file), not in /tmp.
                             o.encoder + " name=enc ! h264parse ! mp4mux name=mux faststart=true ! filesink name=sink" + audio,
                           "compress (encode with " + o.encoder + ")", files);
  if (!encode) {
    if (encoder_failed)
      *encoder_failed = true;
    return encode.err();
  }
  auto enc = gst::by_name(encode->get(), "enc");
  apply_encoder_settings(enc.get(), o.encoder, o.preset, std::max(1, int(fps * o.keyframe_seconds)));
  auto sink = gst::by_name(decode->get(), "frames");
  auto src = gst::by_name(encode->get(), "src");
  auto* appsink = GST_APP_SINK(sink.get());
  auto* appsrc = GST_APP_SRC(src.get());

  compress_stats stats;
  auto fail_encoder = [&](maybe_error err) -> result<compress_stats> {
    if (encoder_failed)
      *encoder_failed = true;
    gst_element_set_state(decode->get(), GST_STATE_NULL);
    gst_element_set_state(encode->get(), GST_STATE_NULL);
    return error{errc::media, "encoder " + o.encoder + ": " + (err ? err->message : "failed")};
  };
  if (gst_element_set_state(decode->get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    auto err = gst::pending_error(decode->get());
    gst_element_set_state(decode->get(), GST_STATE_NULL);
    return error{errc::media, input.string() + ": cannot decode: " + (err ? err->message : "refused to start")};
  }
  if (gst_element_set_state(encode->get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return fail_encoder(gst::pending_error(encode->get()));

  GstVideoInfo vinfo;
  bool have_caps = false;
  held_frame held;  // the picture on screen now: the next changed frame ends it
  GstClockTime end = 0, last_pts = 0;
  // Pushes the held frame, lasting until `until`.
  auto push_held = [&](GstClockTime until, GstClockTime at = GST_CLOCK_TIME_NONE) -> bool {
    GstBuffer* out = gst_buffer_copy(held.buffer.get());  // shares the memory
    GST_BUFFER_PTS(out) = GST_CLOCK_TIME_IS_VALID(at) ? at : held.since;
    GST_BUFFER_DTS(out) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION(out) = until > GST_BUFFER_PTS(out) ? until - GST_BUFFER_PTS(out) : 0;
    ++stats.frames_out;
    return gst_app_src_push_buffer(appsrc, out) == GST_FLOW_OK;
  };
  maybe_error outcome;
  for (;;) {
    if (cancel.is_cancelled()) {
      outcome = error{errc::cancelled, "cancelled"};
      break;
    }
    if (auto err = gst::pending_error(decode->get())) {
      outcome = error{errc::media, input.string() + ": cannot decode: " + err->message};
      break;
    }
    if (auto err = gst::pending_error(encode->get())) {
      gst_element_set_state(decode->get(), GST_STATE_NULL);
      return fail_encoder(err);
    }
    sample_ptr sample{gst_app_sink_try_pull_sample(appsink, 100 * GST_MSECOND)};
    if (!sample) {
      if (gst_app_sink_is_eos(appsink))
        break;
      continue;
    }
    if (!have_caps) {
      auto* caps = gst_sample_get_caps(sample.get());
      if (!caps || !gst_video_info_from_caps(&vinfo, caps)) {
        outcome = error{errc::media, input.string() + ": decoded video has no usable format"};
        break;
      }
      // Frames keep the source's nominal rate in their caps: with 0/1
      // (variable) the encoder's buffers lost their durations and mp4mux
      // cut the last sample to nothing (a 60 s file came out 59.93 s).
      // The timestamps carry the real, variable timing.
      gst_app_src_set_caps(appsrc, caps);
      have_caps = true;
    }
    auto* buffer = gst_sample_get_buffer(sample.get());
    ++stats.frames_in;
    auto pts = GST_BUFFER_PTS(buffer);
    auto duration = GST_BUFFER_DURATION_IS_VALID(buffer) ? GST_BUFFER_DURATION(buffer) : GstClockTime(GST_SECOND / fps);
    end = std::max(end, pts + duration);
    last_pts = std::max(last_pts, pts);
    if (progress && stats.frames_in % 8 == 0)
      progress(std::min(0.95, double(pts) / double(total_ns) * 0.95));
    if (held.buffer) {
      if (o.drop_duplicates) {
        GstVideoFrame frame;
        if (gst_video_frame_map(&frame, &vinfo, buffer, GST_MAP_READ)) {
          bool same = held.mapped && same_picture(held.luma(), luma_of(frame), o.dedup);
          gst_video_frame_unmap(&frame);
          if (same) {
            // Keep the newest copy of a still picture: recorders refine a
            // still screen over the frames after a change (a first frame
            // is the blurriest), so the last one is the best to encode.
            auto since = held.since;
            bool refined = held.refined;
            if (!refined && pts >= since + o.refine_after_ms * GST_MSECOND) {
              // One repeat of a picture that stays: the encoder codes what
              // its first, single-frame pass left out (as it would over the
              // frames of a constant-rate encode), for a few percent of size.
              if (!push_held(pts)) {
                gst_element_set_state(decode->get(), GST_STATE_NULL);
                return fail_encoder(gst::pending_error(encode->get(), GST_SECOND));
              }
              since = pts;
              refined = true;
            }
            held.hold(buffer, &vinfo);
            held.since = since;
            held.refined = refined;
            continue;
          }
        }
      }
      if (!push_held(pts)) {
        gst_element_set_state(decode->get(), GST_STATE_NULL);
        return fail_encoder(gst::pending_error(encode->get(), GST_SECOND));
      }
    }
    held.hold(buffer, &vinfo);
    held.since = pts;
    held.refined = o.refine_after_ms <= 0;
  }
  gst_element_set_state(decode->get(), GST_STATE_NULL);
  if (outcome) {
    gst_element_set_state(encode->get(), GST_STATE_NULL);
    return *outcome;
  }
  // A still tail must not shorten the file: muxers take a track's end from
  // its last sample's start, so the last source frame's time gets a sample
  // too (one repeat of the held picture: a tiny P-frame). The video lasts
  // as long as the file (audio that outlasts the screen holds its last
  // frame, as the merge wrote it: a short video track is one GStreamer's
  // demuxer skips as a "preview").
  end = std::max(end, GstClockTime(total_ns));
  if (held.buffer) {
    // The repeat sits one frame before the end: encoders give a frame its
    // nominal duration whatever the buffer says, so a long last buffer
    // would end the track one frame after it starts.
    auto frame = GstClockTime(double(GST_SECOND) / fps);
    auto tail_at = end > frame ? end - frame : GstClockTime(0);
    // Within a frame of the last source frame: that frame is the end (two
    // samples closer than a frame would share a timestamp in the file).
    if (tail_at < last_pts + frame)
      tail_at = last_pts;
    bool repeat = tail_at > held.since;
    if (!push_held(repeat ? tail_at : end) || (repeat && !push_held(end, tail_at)))
      return fail_encoder(gst::pending_error(encode->get(), GST_SECOND));
  }
  held.reset();
  gst_app_src_end_of_stream(appsrc);
  if (auto err = gst::run(encode->get(), cancel)) {
    if (err->code == errc::cancelled)
      return *err;
    return fail_encoder(err);
  }
  std::error_code ec;
  stats.bytes_out = std::int64_t(fs::file_size(output, ec));
  if (progress)
    progress(0.95);
  return stats;
}

maybe_error check_playable(const fs::path& file, std::int64_t expected_ms, const gst::cancel_token& cancel) {
  gst::ensure_init();
  auto info = probe_media(file);
  if (!info)
    return error{errc::media, "does not open: " + info.err().message};
  if (!info->has_video)
    return error{errc::media, "has no video track a player can read"};
  if (std::llabs(info->duration_ms - expected_ms) > 50)
    return error{errc::media, "its duration is " + std::to_string(info->duration_ms) + " ms, expected " +
                                std::to_string(expected_ms) + " ms"};
  // Decodes every stream to the end.
  std::string branches = " dm.video_0 ! queue ! decodebin ! fakesink sync=false";
  if (info->has_audio)
    branches += " dm.audio_0 ! queue ! decodebin ! fakesink sync=false";
  auto full = gst::parse("filesrc name=src ! qtdemux name=dm" + branches, "playability check",
                         {{"src", "location", file.string()}});
  if (!full)
    return full.err();
  if (auto err = gst::run(full->get(), cancel))
    return err->code == errc::cancelled ? err : error{errc::media, "does not decode: " + err->message};
  // Seeks to 8 points as a player scrubbing does (to the keyframe before
  // each); each must preroll a decoded frame. The full decode above already
  // showed every frame after a keyframe decodes.
  auto seeker = gst::parse("filesrc name=src ! qtdemux name=dm dm.video_0 ! h264parse ! avdec_h264 ! appsink name=s sync=false",
                           "seek check", {{"src", "location", file.string()}});
  if (!seeker)
    return seeker.err();
  auto s = gst::by_name(seeker->get(), "s");
  auto* appsink = GST_APP_SINK(s.get());
  gst_element_set_state(seeker->get(), GST_STATE_PAUSED);
  maybe_error outcome;
  if (gst_element_get_state(seeker->get(), nullptr, nullptr, 10 * GST_SECOND) != GST_STATE_CHANGE_SUCCESS)
    outcome = error{errc::media, "does not preroll for seeking"};
  for (int i = 0; i < 8 && !outcome; ++i) {
    auto at = GstClockTime(double(info->duration_ms) * GST_MSECOND * (i + 0.5) / 8.0);
    if (!gst_element_seek_simple(seeker->get(), GST_FORMAT_TIME,
                                 GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT |
                                              GST_SEEK_FLAG_SNAP_BEFORE),
                                 at)) {
      outcome = error{errc::media, "seeking to " + std::to_string(at / GST_MSECOND) + " ms is refused"};
      break;
    }
    sample_ptr frame{gst_app_sink_try_pull_preroll(appsink, 10 * GST_SECOND)};
    if (!frame || !gst_sample_get_buffer(frame.get()))
      outcome = error{errc::media, "seeking to " + std::to_string(at / GST_MSECOND) + " ms gives no frame"};
  }
  gst_element_set_state(seeker->get(), GST_STATE_NULL);
  return outcome;
}

}  // namespace postroll
