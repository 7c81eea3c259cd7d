#include "pipelines/aac_encoder.hpp"
#include "pipelines/gst_support.hpp"

#include <algorithm>
#include <cstdio>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

namespace postroll {

namespace {

// Collects an encoder's ADTS frames.
GstFlowReturn take_sample(GstAppSink* sink, gpointer user) {
  GstSample* s = gst_app_sink_pull_sample(sink);
  if (!s)
    return GST_FLOW_ERROR;
  GstMapInfo map;
  GstBuffer* b = gst_sample_get_buffer(s);
  if (b && gst_buffer_map(b, &map, GST_MAP_READ)) {
    static_cast<std::string*>(user)->append(reinterpret_cast<const char*>(map.data), map.size);
    gst_buffer_unmap(b, &map);
  }
  gst_sample_unref(s);
  return GST_FLOW_OK;
}

}  // namespace

std::int64_t aac_encoder::piece_frames(int rate) { return std::max<std::int64_t>(8, std::int64_t(rate) * 30 / frame); }

aac_encoder::aac_encoder(int rate, int channels, int bitrate, int threads, const cancel_token& cancel,
                         const aac_piece_store* store)
  : rate_(rate), channels_(channels), bitrate_(bitrate), cancel_(cancel), store_(store),
    piece_len_(piece_frames(rate) * frame), zeros_(size_t(rate) * channels, 0) {
  for (int i = 0; i < std::max(1, threads); ++i)
    workers_.emplace_back([this] { work(); });
}

aac_encoder::~aac_encoder() {
  {
    std::lock_guard<std::mutex> g{mtx_};
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : workers_)
    t.join();
}

std::int64_t aac_encoder::pieces_reused() const {
  std::lock_guard<std::mutex> g{mtx_};
  return reused_;
}

std::int64_t aac_encoder::pieces_done() const {
  std::lock_guard<std::mutex> g{mtx_};
  return std::int64_t(done_.size());
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
    auto piece_end = (next_piece_ + 1) * piece_len_;
    auto n = std::min(frames, piece_end - fed_);
    held_.insert(held_.end(), data, data + n * channels_);
    fed_ += n;
    data += n * channels_;
    frames -= n;
    if (fed_ == piece_end) {
      // Memory stays bounded: wait while the encoders are two pieces behind each.
      std::unique_lock<std::mutex> lock{mtx_};
      while (queue_.size() >= 2 * workers_.size() && !failure_) {
        if (cancel_.is_cancelled())
          return error{errc::cancelled, "cancelled"};
        cv_.wait_for(lock, std::chrono::milliseconds(100));
      }
      if (failure_)
        return failure_;
      lock.unlock();
      submit(false);
    }
  }
  return std::nullopt;
}

// Hands the piece being gathered to the encoders and, unless it is the
// last, starts the next one with its preroll.
void aac_encoder::submit(bool last) {
  job j;
  j.index = next_piece_;
  j.skip = next_piece_ == 0 ? 0 : preroll_frames;
  auto keep_from = (next_piece_ + 1) * piece_len_ - preroll_frames * frame;
  if (last) {
    j.samples = std::move(held_);
    held_.clear();
  } else {
    j.samples = held_;
    held_.erase(held_.begin(), held_.begin() + (keep_from - held_from_) * channels_);
    held_from_ = keep_from;
  }
  ++next_piece_;
  {
    std::lock_guard<std::mutex> g{mtx_};
    queue_.push_back(std::move(j));
  }
  cv_.notify_all();
}

void aac_encoder::work() {
  for (;;) {
    job j;
    {
      std::unique_lock<std::mutex> lock{mtx_};
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_)
        return;
      j = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    std::string out;
    bool reused = false;
    maybe_error err;
    std::string key;
    // Whole input frames come out, the preroll is dropped.
    auto frames = std::int64_t(j.samples.size()) / channels_ / frame - j.skip;
    if (store_) {
      key = store_->key_of({j.index, rate_, channels_, bitrate_, j.skip, j.samples.data(),
                            std::int64_t(j.samples.size()) / channels_});
      if (auto found = store_->find(key, frames)) {
        out = std::move(*found);
        reused = true;
      }
    }
    if (!reused) {
      err = encode(j, out);
      if (!err && adts_frame_count(out) != frames)
        err = error{errc::media, "audio encoder: piece " + std::to_string(j.index) + " came out with " +
                                   std::to_string(adts_frame_count(out)) + " frames, not " + std::to_string(frames)};
      if (!err && store_)
        store_->store(key, out);
    }
    {
      std::lock_guard<std::mutex> g{mtx_};
      --running_;
      if (err && !failure_)
        failure_ = err;
      if (!err)
        done_[j.index] = std::move(out);
      reused_ += reused;
    }
    cv_.notify_all();
  }
}

// One piece through its own encoder; `out` gets its frames after the preroll.
maybe_error aac_encoder::encode(const job& j, std::string& out) const {
  auto p = gst::parse("appsrc name=src format=time ! audioconvert ! voaacenc name=enc ! "
                      "audio/mpeg,stream-format=adts ! appsink name=sink sync=false",
                      "audio encoder");
  if (!p)
    return p.err();
  auto src = gst::by_name(p->get(), "src");
  gst::caps_ptr caps{gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "layout", G_TYPE_STRING,
                                         "interleaved", "rate", G_TYPE_INT, rate_, "channels", G_TYPE_INT, channels_,
                                         nullptr)};
  g_object_set(src.get(), "caps", caps.get(), "max-bytes", guint64(0), nullptr);
  g_object_set(gst::by_name(p->get(), "enc").get(), "bitrate", bitrate_, nullptr);
  std::string all;
  GstAppSinkCallbacks cb{};
  cb.new_sample = &take_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(gst::by_name(p->get(), "sink").get()), &cb, &all, nullptr);
  if (gst_element_set_state(p->get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return gst::pending_error(p->get()).value_or(error{errc::media, "audio encoder refused to start"});
  auto total = std::int64_t(j.samples.size()) / channels_;
  for (std::int64_t at = 0; at < total;) {
    auto n = std::min<std::int64_t>(total - at, rate_);  // at most 1 s per buffer
    auto bytes = size_t(n) * channels_ * sizeof(std::int16_t);
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, bytes, nullptr);
    gst_buffer_fill(buf, 0, j.samples.data() + at * channels_, bytes);
    GST_BUFFER_PTS(buf) = gst_util_uint64_scale(at, GST_SECOND, rate_);
    GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(at + n, GST_SECOND, rate_) - GST_BUFFER_PTS(buf);
    if (gst_app_src_push_buffer(GST_APP_SRC(src.get()), buf) != GST_FLOW_OK)
      return gst::pending_error(p->get()).value_or(error{errc::media, "audio encoder stopped"});
    at += n;
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src.get()));
  if (auto err = gst::run(p->get(), cancel_))
    return err;
  out = all.substr(adts_frame_offset(all, j.skip));
  // voaacenc marks its ADTS headers MPEG-2 (ID 1); aacparse then says
  // mpegversion 2, which mp4mux refuses. AAC-LC is the same bitstream in
  // both: the headers say MPEG-4.
  adts_mark_mpeg4(out);
  return std::nullopt;
}

maybe_error aac_encoder::wait_idle() {
  std::unique_lock<std::mutex> lock{mtx_};
  while (!(queue_.empty() && running_ == 0) && !failure_) {
    if (cancel_.is_cancelled())
      return error{errc::cancelled, "cancelled"};
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
  return failure_;
}

maybe_error aac_encoder::finish(const std::filesystem::path& out_file) {
  if (auto err = silence(priming + frame))
    return err;
  submit(true);
  if (auto err = wait_idle())
    return err;
  // The pieces' frames, joined: ADTS frames carry no times, so the stream
  // is their bytes in order (the merge muxes it once, into the final file).
  std::FILE* f = std::fopen(out_file.c_str(), "wb");
  if (!f)
    return error{errc::io, out_file.string() + ": cannot write"};
  bool ok = true;
  std::lock_guard<std::mutex> g{mtx_};
  if (std::int64_t(done_.size()) != next_piece_)
    ok = false;
  for (const auto& [index, adts] : done_)
    ok = ok && std::fwrite(adts.data(), 1, adts.size(), f) == adts.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok)
    return error{errc::io, out_file.string() + ": cannot write"};
  return std::nullopt;
}

}  // namespace postroll
