#include "pipelines/aac_encoder.hpp"
#include "pipelines/gst_support.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

namespace postroll {

// One encoder: takes encoder-input samples [first, last) and keeps its output
// frames from `skip` on.
struct aac_encoder::chunk {
  std::int64_t first = 0;  // encoder-input sample where this chunk's input starts
  std::int64_t last = 0;   // one past its last input sample (INT64_MAX: to the end)
  std::int64_t skip = 0;   // output frames to drop (the preroll)
  std::int64_t pushed = 0;
  bool ended = false;
  guint64 max_queue = 0;
  gst::element_ptr pipeline;
  gst::element_ptr src;
  gst::element_ptr sink;
  std::mutex mtx;
  std::vector<GstBuffer*> frames;  // encoded, owned
  gst::caps_ptr caps;

  ~chunk() {
    if (pipeline)
      gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    for (auto* b : frames)
      gst_buffer_unref(b);
  }

  static GstFlowReturn on_sample(GstAppSink* sink, gpointer user) {
    auto* self = static_cast<chunk*>(user);
    GstSample* s = gst_app_sink_pull_sample(sink);
    if (!s)
      return GST_FLOW_ERROR;
    std::lock_guard<std::mutex> guard{self->mtx};
    if (!self->caps)
      self->caps.reset(gst_caps_ref(gst_sample_get_caps(s)));
    self->frames.push_back(gst_buffer_ref(gst_sample_get_buffer(s)));
    gst_sample_unref(s);
    return GST_FLOW_OK;
  }
};

aac_encoder::aac_encoder(int rate, int channels, int bitrate, std::int64_t expected_frames,
                         int max_chunks, const cancel_token& cancel)
  : rate_(rate), channels_(channels), bitrate_(bitrate), expected_(expected_frames),
    max_chunks_(std::max(1, max_chunks)), cancel_(cancel), zeros_(size_t(rate) * channels, 0) {}

aac_encoder::~aac_encoder() = default;

maybe_error aac_encoder::start() {
  // Splitting pays off only when each chunk has minutes of work.
  auto input = std::max<std::int64_t>(0, expected_ - priming);
  int n = int(std::clamp<std::int64_t>(input / (std::int64_t(rate_) * 120), 1, max_chunks_));
  std::int64_t frames_per_chunk = input / frame / n;
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<chunk>();
    std::int64_t start_frame = i * frames_per_chunk;  // first kept output frame
    c->skip = i == 0 ? 0 : preroll_frames;
    // Output frame k of an encoder fed from sample s covers input
    // [s + k*frame - priming, ...): start early by the preroll.
    c->first = i == 0 ? 0 : (start_frame - preroll_frames) * frame;
    // It must emit exactly the frames up to the next chunk's first one; it
    // emits floor(input / frame) frames.
    c->last = i + 1 == n ? INT64_MAX : (i + 1) * frames_per_chunk * frame;
    // Earlier chunks may hold input while the mixer feeds later ones; 64 MB
    // holds half of a 30-minute 16 kHz mono timeline (29 MB) so both encoders
    // run at once. Beyond that (48 kHz stereo) the mixer waits: memory stays
    // bounded, at the cost of less overlap.
    c->max_queue = i + 1 == n ? 4u << 20 : 64u << 20;
    auto p = gst::parse("appsrc name=src format=time ! audioconvert ! voaacenc name=enc ! appsink name=sink sync=false",
                        "audio encoder");
    if (!p)
      return p.err();
    c->pipeline = std::move(*p);
    c->src = gst::by_name(c->pipeline.get(), "src");
    c->sink = gst::by_name(c->pipeline.get(), "sink");
    gst::caps_ptr caps{gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "layout",
                                           G_TYPE_STRING, "interleaved", "rate", G_TYPE_INT, rate_,
                                           "channels", G_TYPE_INT, channels_, nullptr)};
    g_object_set(c->src.get(), "caps", caps.get(), nullptr);
    g_object_set(gst::by_name(c->pipeline.get(), "enc").get(), "bitrate", bitrate_, nullptr);
    GstAppSinkCallbacks cb{};
    cb.new_sample = &chunk::on_sample;
    gst_app_sink_set_callbacks(GST_APP_SINK(c->sink.get()), &cb, c.get(), nullptr);
    if (gst_element_set_state(c->pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      return gst::pending_error(c->pipeline.get()).value_or(error{errc::media, "audio encoder refused to start"});
    chunks_.push_back(std::move(c));
  }
  return std::nullopt;
}

maybe_error aac_encoder::push(const std::int16_t* data, std::int64_t frames) {
  timeline_frames_ += frames;
  return feed(data, frames);
}

maybe_error aac_encoder::silence(std::int64_t frames) {
  while (frames > 0) {
    auto n = std::min<std::int64_t>(frames, rate_);
    if (auto err = push(zeros_.data(), n))
      return err;
    frames -= n;
  }
  return std::nullopt;
}

maybe_error aac_encoder::feed(const std::int16_t* data, std::int64_t frames) {
  // Timeline samples before `priming` are not encoded.
  auto before = timeline_frames_ - frames;
  if (before < priming) {
    auto k = std::min(priming - before, frames);
    data += k * channels_;
    frames -= k;
  }
  while (frames > 0) {
    auto n = std::min<std::int64_t>(frames, rate_);  // at most 1 s per buffer
    auto begin = fed_, end = fed_ + n;
    for (auto& c : chunks_) {
      if (c->ended || end <= c->first)
        continue;
      auto from = std::max(begin, c->first), to = std::min(end, c->last);
      if (from < to) {
        // Wait while this encoder is far behind; an error or cancel ends the wait.
        auto* src = GST_APP_SRC(c->src.get());
        while (gst_app_src_get_current_level_bytes(src) > c->max_queue) {
          if (cancel_.is_cancelled())
            return error{errc::cancelled, "cancelled"};
          if (auto err = gst::pending_error(c->pipeline.get(), 10 * GST_MSECOND))
            return err;
        }
        auto bytes = size_t(to - from) * channels_ * sizeof(std::int16_t);
        GstBuffer* buf = gst_buffer_new_allocate(nullptr, bytes, nullptr);
        gst_buffer_fill(buf, 0, data + (from - begin) * channels_, bytes);
        GST_BUFFER_PTS(buf) = gst_util_uint64_scale(c->pushed, GST_SECOND, rate_);
        GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(c->pushed + (to - from), GST_SECOND, rate_) - GST_BUFFER_PTS(buf);
        if (gst_app_src_push_buffer(src, buf) != GST_FLOW_OK)
          return gst::pending_error(c->pipeline.get()).value_or(error{errc::media, "audio encoder stopped"});
        c->pushed += to - from;
      }
      if (end >= c->last) {
        gst_app_src_end_of_stream(GST_APP_SRC(c->src.get()));
        c->ended = true;
      }
    }
    fed_ = end;
    data += n * channels_;
    frames -= n;
  }
  return std::nullopt;
}

maybe_error aac_encoder::finish(const std::filesystem::path& out_file) {
  if (auto err = silence(priming + frame))
    return err;
  for (auto& c : chunks_) {
    if (!c->ended) {
      gst_app_src_end_of_stream(GST_APP_SRC(c->src.get()));
      c->ended = true;
    }
    if (auto err = gst::run(c->pipeline.get(), cancel_))
      return err;
  }
  // Join the chunks' frames into one ADTS stream. ADTS, not MP4: mp4mux (an
  // aggregator) hands every buffer between two threads and spent 1.1 s on
  // the 28,751 frames of a 30-minute timeline; aacparse writes them in 0.07 s,
  // and the merge muxes them once, into the final file.
  auto mux = gst::parse("appsrc name=src format=time ! aacparse ! audio/mpeg,stream-format=adts ! "
                        "filesink name=sink", out_file.string());
  if (!mux)
    return mux.err();
  auto src = gst::by_name(mux->get(), "src");
  g_object_set(src.get(), "caps", chunks_.front()->caps.get(), nullptr);
  g_object_set(gst::by_name(mux->get(), "sink").get(), "location", out_file.c_str(), nullptr);
  if (gst_element_set_state(mux->get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return gst::pending_error(mux->get()).value_or(error{errc::media, "cannot write " + out_file.string()});
  std::int64_t index = 0;
  bool covered = false;  // an earlier chunk already holds the rest of the input
  for (auto& c : chunks_) {
    std::lock_guard<std::mutex> guard{c->mtx};
    if (covered)
      continue;
    // A chunk whose input ended before its planned end (the timeline was
    // shorter than estimated) encoded everything after it too.
    covered = c->last != INT64_MAX && c->pushed < c->last - c->first;
    for (size_t k = size_t(c->skip); k < c->frames.size(); ++k, ++index) {
      GstBuffer* b = gst_buffer_make_writable(c->frames[k]);
      c->frames[k] = nullptr;
      GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = gst_util_uint64_scale(index * frame, GST_SECOND, rate_);
      GST_BUFFER_DURATION(b) = gst_util_uint64_scale((index + 1) * frame, GST_SECOND, rate_) - GST_BUFFER_PTS(b);
      if (gst_app_src_push_buffer(GST_APP_SRC(src.get()), b) != GST_FLOW_OK)
        return gst::pending_error(mux->get()).value_or(error{errc::media, "cannot write " + out_file.string()});
    }
    for (size_t k = 0; k < std::min(c->frames.size(), size_t(c->skip)); ++k)
      gst_buffer_unref(c->frames[k]);
    c->frames.clear();
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src.get()));
  return gst::run(mux->get(), cancel_);
}

}  // namespace postroll
