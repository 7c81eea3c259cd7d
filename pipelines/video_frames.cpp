#include "pipelines/video_frames.hpp"
#include "pipelines/gst_support.hpp"

#include <algorithm>
#include <fstream>
#include <limits>

#include <gst/video/video.h>

#include "session/output_file.hpp"
#include "pipelines/growing_file.hpp"
#include "pipelines/sample_pull.hpp"

namespace postroll {

namespace {
constexpr const char* to_i420 = " ! decodebin ! videoconvert ! video/x-raw,format=I420 ! appsink name=sink sync=false";
}

maybe_error read_video_frames(const frame_source& source, std::int64_t interval_ms, std::int64_t duration_ms,
                              const cancel_token& cancel, const progress_fn& progress,
                              const std::function<bool(GstSample*, const luma_view&, std::int64_t)>& on_frame) {
  gst::ensure_init();
  auto name = source.name.empty() ? source.file.string() : source.name;
  bool growing = bool(source.writer_done);
  auto pipeline = gst::parse(std::string{growing ? "appsrc name=src" : "filesrc name=src"} +
                                 " ! decodebin ! videoconvert name=convert ! video/x-raw,format=I420 ! "
                                 "appsink name=sink sync=false max-buffers=4",
                             name + " (video)",
                             growing ? std::vector<gst::property>{} : std::vector<gst::property>{{"src", "location", source.file.string()}});
  if (!pipeline)
    return pipeline.err();
  // Frames not looked at are dropped before they are converted (a screen
  // recording at 30 fps sampled every 250 ms converts one frame in 7): the
  // first frame at or after each multiple of the interval is kept. Not
  // videorate: it asserts (aborting the process) on frames without a
  // duration, which Chromium's WebM blocks are.
  struct sampling {
    std::int64_t interval_ms, offset_ms, next_ms = 0;
  } grid{interval_ms, source.offset_ms};
  auto convert = gst::by_name(pipeline->get(), "convert");
  gst::ptr<GstPad> sink_pad{gst_element_get_static_pad(convert.get(), "sink")};
  gst_pad_add_probe(
    sink_pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
    [](GstPad*, GstPadProbeInfo* info, gpointer data) -> GstPadProbeReturn {
      auto* g = static_cast<sampling*>(data);
      auto* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
      if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer))
        return GST_PAD_PROBE_DROP;
      auto pts_ms = std::int64_t(GST_BUFFER_PTS(buffer) / GST_MSECOND) + g->offset_ms;
      if (pts_ms < g->next_ms)
        return GST_PAD_PROBE_DROP;
      g->next_ms = (pts_ms / g->interval_ms + 1) * g->interval_ms;
      return GST_PAD_PROBE_OK;
    },
    &grid, nullptr);
  std::unique_ptr<growing_file_feed> feed;
  if (growing)
    feed = std::make_unique<growing_file_feed>(gst::by_name(pipeline->get(), "src").get(), source.file,
                                               source.writer_done);
  auto err = gst::pull_samples(
    pipeline->get(), cancel,
    [&](GstSample* sample) {
      auto* buffer = gst_sample_get_buffer(sample);
      if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer))
        return true;
      auto pts_ms = std::int64_t(GST_BUFFER_PTS(buffer) / GST_MSECOND) + source.offset_ms;
      if (progress && duration_ms > 0)
        progress(std::min(1.0, double(pts_ms) / double(duration_ms)));
      bool go_on = true;
      with_luma(sample, [&](const luma_view& luma) { go_on = on_frame(sample, luma, pts_ms); });
      return go_on;
    },
    name + ": cannot decode video");
  feed.reset();  // the pipeline is stopped: the feed's thread is not blocked
  return err;
}

result<gst::sample_ptr> read_image(const std::filesystem::path& file) {
  gst::ensure_init();
  auto pipeline = gst::parse(std::string{"filesrc name=src"} + to_i420, file.string() + " (image)",
                             {{"src", "location", file.string()}});
  if (!pipeline)
    return pipeline.err();
  gst::sample_ptr out;
  cancel_token never;
  auto err = gst::pull_samples(
    pipeline->get(), never,
    [&](GstSample* sample) {
      out.reset(gst_sample_ref(sample));
      return false;
    },
    file.string() + ": cannot decode image");
  if (err)
    return *err;
  if (!out)
    return error{errc::bad_input, file.string() + ": holds no picture"};
  return out;
}

bool with_luma(GstSample* frame, const std::function<void(const luma_view&)>& fn) {
  GstVideoInfo info;
  auto* caps = gst_sample_get_caps(frame);
  auto* buffer = gst_sample_get_buffer(frame);
  if (!caps || !buffer || !gst_video_info_from_caps(&info, caps))
    return false;
  GstVideoFrame f;
  if (!gst_video_frame_map(&f, &info, buffer, GST_MAP_READ))
    return false;
  fn({static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, 0)), GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0),
      GST_VIDEO_FRAME_WIDTH(&f), GST_VIDEO_FRAME_HEIGHT(&f)});
  gst_video_frame_unmap(&f);
  return true;
}

maybe_error write_jpeg(GstSample* frame, int width, const std::filesystem::path& file) {
  GstVideoInfo info;
  auto* caps = gst_sample_get_caps(frame);
  if (!caps || !gst_video_info_from_caps(&info, caps) || info.width <= 0)
    return error{errc::media, file.string() + ": frame has no usable format"};
  int height = std::max(2, int(std::int64_t(info.height) * width / info.width) & ~1);
  gst::caps_ptr jpeg{gst_caps_new_simple("image/jpeg", "width", G_TYPE_INT, width, "height", G_TYPE_INT, height,
                                         "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr)};
  GError* gerr = nullptr;
  gst::sample_ptr out{gst_video_convert_sample(frame, jpeg.get(), 10 * GST_SECOND, &gerr)};
  if (!out) {
    std::string why = gerr ? gerr->message : "conversion failed";
    if (gerr)
      g_error_free(gerr);
    return error{errc::media, file.string() + ": cannot encode JPEG: " + why};
  }
  GstMapInfo map;
  auto* buffer = gst_sample_get_buffer(out.get());
  if (!buffer || !gst_buffer_map(buffer, &map, GST_MAP_READ))
    return error{errc::media, file.string() + ": JPEG encoder gave no data"};
  {
    std::ofstream os(partial_path(file), std::ios::binary | std::ios::trunc);
    os.write(reinterpret_cast<const char*>(map.data), std::streamsize(map.size));
  }
  gst_buffer_unmap(buffer, &map);
  if (auto err = commit_partial(file))
    return err;
  return std::nullopt;
}

}  // namespace postroll
