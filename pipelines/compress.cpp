#include "pipelines/compress.hpp"
#include "pipelines/gst_support.hpp"

#include <algorithm>
#include <cmath>

#include <gst/app/gstappsink.h>
#include <spdlog/spdlog.h>

#include "pipelines/media_probe.hpp"
#include "pipelines/video_writer.hpp"

namespace fs = std::filesystem;

namespace postroll {

namespace {

bool safe_element_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

int even_up(int v) { return v + (v & 1); }

std::string ms(std::int64_t v) { return std::to_string(v) + " ms"; }

}  // namespace

result<compress_stats> compress_video(const fs::path& input, const fs::path& output, const compress_options& o,
                                      const cancel_token& cancel, const progress_fn& progress,
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
  video_write_options w;
  w.encode = true;
  w.encoder = o.encoder;
  w.preset = o.preset;
  w.keyframe_seconds = o.keyframe_seconds;
  w.drop_duplicates = o.drop_duplicates;
  w.refine_after_ms = o.refine_after_ms;
  w.dedup = o.dedup;
  w.frame_rate = info->frame_rate > 0 ? info->frame_rate : 30.0;
  double scale = std::min({1.0, double(o.max_width) / std::max(1, info->width), double(o.max_height) / std::max(1, info->height)});
  w.width = even_up(int(info->width * scale));
  w.height = even_up(int(info->height * scale));
  w.end_ms = info->duration_ms;
  w.packets_per_second = w.frame_rate;
  // The data waits in a faststart file next to the output until the index
  // is written in front of it: one pass over a file that is small.
  w.faststart = true;
  std::vector<video_piece> pieces = {{input.string(), input, 0, info->container, info->video_codec}};
  std::optional<audio_track> audio;
  if (!o.audio_adts.empty())
    audio = audio_track{o.audio_adts.string(), true};
  else if (info->has_audio)
    audio = audio_track{input.string(), false};
  video_write_stats failed;
  auto r = write_session_video(pieces, audio, output, w, cancel, progress, &failed);
  if (!r) {
    if (encoder_failed)
      *encoder_failed = failed.encoder_failed;
    return r.err();
  }
  if (progress)
    progress(0.95);
  return compress_stats{r->frames_in, r->frames_out, r->bytes_out};
}

result<playable_facts> playable_facts_of(const fs::path& file) {
  auto info = probe_media(file);
  if (!info)
    return info.err();
  auto span = measure_span(file);
  if (!span)
    return span.err();
  return playable_facts{info->duration_ms, *span, info->frame_rate > 0 ? info->frame_rate : 30.0, info->tags};
}

maybe_error check_playable(const fs::path& file, const playable_facts& expected, const cancel_token& cancel) {
  gst::ensure_init();
  auto got = playable_facts_of(file);
  if (!got)
    return error{errc::media, "does not open: " + got.err().message};
  // One frame of the original (never less than a millisecond of rounding).
  auto frame = std::max<std::int64_t>(1, std::int64_t(std::ceil(1000.0 / expected.frame_rate)));
  const auto& v = got->span.video;
  const auto& e = expected.span.video;
  if (!v.present)
    return error{errc::media, "has no video track a player can read"};
  if (std::llabs(v.first_ms - e.first_ms) > frame)
    return error{errc::media, "its video starts at " + ms(v.first_ms) + ", the original's at " + ms(e.first_ms)};
  if (std::llabs(v.end_ms - e.end_ms) > frame)
    return error{errc::media, "its video ends at " + ms(v.end_ms) + ", the original's at " + ms(e.end_ms)};
  if (expected.span.audio.present &&
      (!got->span.audio.present || std::llabs(got->span.audio.end_ms - expected.span.audio.end_ms) > frame ||
       std::llabs(got->span.audio.first_ms - expected.span.audio.first_ms) > frame))
    return error{errc::media, "its audio does not span what the original's does"};
  if (std::llabs(got->duration_ms - expected.duration_ms) > frame)
    return error{errc::media, "its duration is " + ms(got->duration_ms) + ", expected " + ms(expected.duration_ms)};
  // Decodes every stream to the end.
  std::string branches = " dm.video_0 ! queue ! decodebin ! fakesink sync=false";
  if (got->span.audio.present)
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
  // Within the video: a track that starts late (an empty edit) shows
  // nothing before its first frame.
  auto from = double(v.first_ms), length = double(std::max<std::int64_t>(1, v.end_ms - v.first_ms));
  for (int i = 0; i < 8 && !outcome; ++i) {
    auto at = GstClockTime((from + length * (i + 0.5) / 8.0) * GST_MSECOND);
    if (!gst_element_seek_simple(seeker->get(), GST_FORMAT_TIME,
                                 GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT | GST_SEEK_FLAG_SNAP_BEFORE),
                                 at)) {
      outcome = error{errc::media, "seeking to " + std::to_string(at / GST_MSECOND) + " ms is refused"};
      break;
    }
    gst::sample_ptr frame_sample{gst_app_sink_try_pull_preroll(appsink, 10 * GST_SECOND)};
    if (!frame_sample || !gst_sample_get_buffer(frame_sample.get()))
      outcome = error{errc::media, "seeking to " + std::to_string(at / GST_MSECOND) + " ms gives no frame"};
  }
  gst_element_set_state(seeker->get(), GST_STATE_NULL);
  return outcome;
}

}  // namespace postroll
