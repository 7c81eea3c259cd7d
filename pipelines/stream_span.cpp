#include "pipelines/stream_span.hpp"

#include <mutex>

#include "pipelines/gst_support.hpp"

namespace postroll {

namespace {

struct spans {
  std::mutex mtx;
  stream_span out;
};

void add(track_span& t, GstPad* pad, GstBuffer* b) {
  GstEvent* seg_event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
  if (!seg_event || !GST_BUFFER_PTS_IS_VALID(b)) {
    if (seg_event)
      gst_event_unref(seg_event);
    return;
  }
  const GstSegment* seg = nullptr;
  gst_event_parse_segment(seg_event, &seg);
  guint64 st = 0;
  int sign = gst_segment_to_stream_time_full(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(b), &st);
  if (sign <= 0) {
    gst_event_unref(seg_event);
    return;  // decoded but never shown (before the edit list's start)
  }
  auto first = std::int64_t(st / GST_MSECOND);
  auto end = std::int64_t((st + (GST_BUFFER_DURATION_IS_VALID(b) ? GST_BUFFER_DURATION(b) : 0)) / GST_MSECOND);
  // The track's own end (an MP4 edit list's): a last frame held long (the
  // merge holds it to the session's end) is shown until there.
  guint64 stop = 0;
  if (GST_CLOCK_TIME_IS_VALID(seg->stop) &&
      gst_segment_to_stream_time_full(seg, GST_FORMAT_TIME, seg->stop, &stop) > 0)
    end = std::max(end, std::int64_t(stop / GST_MSECOND));
  gst_event_unref(seg_event);
  if (!t.present || first < t.first_ms)
    t.first_ms = first;
  t.end_ms = std::max(t.end_ms, end);
  t.present = true;
  ++t.samples;
}

}  // namespace

result<stream_span> measure_span(const std::filesystem::path& file) {
  gst::ensure_init();
  // parsebin exposes every elementary stream; each goes to a fakesink that
  // hands its buffers here (the pad says which kind it is).
  auto pipe = gst::parse("filesrc name=src ! parsebin name=p", "measuring " + file.filename().string(),
                         {{"src", "location", file.string()}});
  if (!pipe)
    return pipe.err();
  auto state = std::make_shared<spans>();
  auto parse = gst::by_name(pipe->get(), "p");
  struct ctx {
    GstElement* pipeline;
    std::shared_ptr<spans> s;
  };
  auto* c = new ctx{pipe->get(), state};
  g_signal_connect_data(
    parse.get(), "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer data) {
      auto* c = static_cast<ctx*>(data);
      GstElement* sink = gst_element_factory_make("fakesink", nullptr);
      // async=false: one demuxer thread feeds every sink, so a sink waiting
      // for preroll would block the others (and the pipeline) for good.
      g_object_set(sink, "sync", FALSE, "async", FALSE, "signal-handoffs", TRUE, nullptr);
      g_signal_connect_data(sink, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer* b, GstPad* sinkpad, gpointer data) {
                              auto* s = static_cast<spans*>(data);
                              gst::caps_ptr caps{gst_pad_get_current_caps(sinkpad)};
                              if (!caps || gst_caps_is_empty(caps.get()))
                                return;
                              std::string name = gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
                              std::lock_guard<std::mutex> g{s->mtx};
                              if (name.rfind("video/", 0) == 0)
                                add(s->out.video, sinkpad, b);
                              else if (name.rfind("audio/", 0) == 0)
                                add(s->out.audio, sinkpad, b);
                            }),
                            c->s.get(), nullptr, GConnectFlags(0));
      gst_bin_add(GST_BIN(c->pipeline), sink);
      gst_element_sync_state_with_parent(sink);
      gst::ptr<GstPad> sinkpad{gst_element_get_static_pad(sink, "sink")};
      gst_pad_link(pad, sinkpad.get());
    }),
    c, +[](gpointer data, GClosure*) { delete static_cast<ctx*>(data); }, GConnectFlags(0));
  cancel_token never;
  if (auto err = gst::run(pipe->get(), never))
    return error{errc::media, file.string() + ": cannot be demuxed: " + err->message};
  std::lock_guard<std::mutex> g{state->mtx};
  return state->out;
}

std::int64_t presented_end_ms(const std::filesystem::path& file, const std::string& container,
                              std::int64_t duration_ms) {
  bool matroska = container == "video/x-matroska" || container == "video/webm" || container == "audio/webm" ||
                  container == "audio/x-matroska";
  if (!matroska && duration_ms > 0)
    return duration_ms;
  auto span = measure_span(file);
  if (!span)
    return duration_ms;
  return span->video.present ? span->video.end_ms : span->audio.present ? span->audio.end_ms : duration_ms;
}

}  // namespace postroll
