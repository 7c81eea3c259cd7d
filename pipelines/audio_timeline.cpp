#include "pipelines/audio_timeline.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include <gst/app/gstappsrc.h>

#include "pipelines/audio_decoder.hpp"

namespace fs = std::filesystem;

namespace postroll {

namespace {

// voaacenc puts 1600 samples of priming in front of the audio at every rate
// (measured: 100 ms at 16 kHz, 33 ms at 48 kHz), and GStreamer 1.22's mp4mux
// writes no edit list to hide them. The timeline therefore starts this many
// samples late, so each sample decodes at its true session time.
constexpr std::int64_t voaacenc_priming = 1600;
constexpr std::int64_t aac_frame = 1024;

// How many decoded segments may wait ahead of the mixer (bounds memory).
constexpr size_t lookahead = 8;

int bitrate_for(int rate, int channels) {
  int per_channel = rate <= 16000 ? 32000 : rate <= 24000 ? 48000 : 64000;
  return per_channel * channels;
}

// Decodes segments on a few threads, handing them to the mixer in order.
class segment_decoder {
public:
  segment_decoder(const std::vector<timeline_segment>& segments, size_t first, int rate,
                  int channels, int threads, const gst::cancel_token& cancel)
    : segments_(segments), next_(first), consumed_(first), rate_(rate), channels_(channels),
      cancel_(cancel), slots_(segments.size()) {
    for (int i = 0; i < std::max(1, threads); ++i)
      workers_.emplace_back([this] { work(); });
  }

  ~segment_decoder() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_)
      t.join();
  }

  /// Blocks until segment `i` is decoded; call with i = first, first+1, ...
  result<pcm_audio> take(size_t i) {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait(lock, [&] { return slots_[i].has_value(); });
    auto out = std::move(*slots_[i]);
    slots_[i].reset();
    consumed_ = i + 1;
    lock.unlock();
    cv_.notify_all();
    return out;
  }

private:
  void work() {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock{mtx_};
        cv_.wait(lock, [&] { return stop_ || next_ >= segments_.size() || next_ < consumed_ + lookahead; });
        if (stop_ || next_ >= segments_.size())
          return;
        i = next_++;
      }
      auto decoded = decode_audio(segments_[i].file, rate_, channels_, cancel_);
      {
        std::lock_guard<std::mutex> guard{mtx_};
        slots_[i].emplace(std::move(decoded));
      }
      cv_.notify_all();
    }
  }

  const std::vector<timeline_segment>& segments_;
  size_t next_;
  size_t consumed_;
  int rate_;
  int channels_;
  const gst::cancel_token& cancel_;
  std::vector<std::optional<result<pcm_audio>>> slots_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// Feeds PCM into the encoder pipeline with bounded buffering.
class encoder_feed {
public:
  encoder_feed(GstElement* pipeline, GstElement* appsrc, int rate, int channels,
               std::int64_t skip, const gst::cancel_token& cancel)
    : pipeline_(pipeline), src_(GST_APP_SRC(appsrc)), rate_(rate), channels_(channels),
      skip_(skip), cancel_(cancel), zeros_(size_t(rate) * channels, 0) {}

  maybe_error silence(std::int64_t frames) {
    while (frames > 0) {
      auto n = std::min<std::int64_t>(frames, rate_);
      if (auto err = push(zeros_.data(), n))
        return err;
      frames -= n;
    }
    return std::nullopt;
  }

  maybe_error push(const std::int16_t* data, std::int64_t frames) {
    if (skip_ > 0) {
      auto k = std::min(skip_, frames);
      data += k * channels_;
      frames -= k;
      skip_ -= k;
    }
    while (frames > 0) {
      auto n = std::min<std::int64_t>(frames, rate_);  // at most 1 s per buffer
      if (auto err = wait_for_room())
        return err;
      auto bytes = size_t(n) * channels_ * sizeof(std::int16_t);
      GstBuffer* buf = gst_buffer_new_allocate(nullptr, bytes, nullptr);
      gst_buffer_fill(buf, 0, data, bytes);
      GST_BUFFER_PTS(buf) = gst_util_uint64_scale(pushed_, GST_SECOND, rate_);
      GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(pushed_ + n, GST_SECOND, rate_) - GST_BUFFER_PTS(buf);
      if (gst_app_src_push_buffer(src_, buf) != GST_FLOW_OK)
        return gst::pending_error(pipeline_).value_or(error{errc::media, "audio encoder stopped"});
      pushed_ += n;
      data += n * channels_;
      frames -= n;
    }
    return std::nullopt;
  }

  std::int64_t pushed() const { return pushed_; }

private:
  // Waits while the encoder is behind; an error or cancel ends the wait.
  maybe_error wait_for_room() {
    constexpr guint64 max_bytes = 4 * 1024 * 1024;
    while (gst_app_src_get_current_level_bytes(src_) > max_bytes) {
      if (cancel_.is_cancelled())
        return error{errc::cancelled, "cancelled"};
      gst::ptr<GstBus> bus{gst_element_get_bus(pipeline_)};
      if (GstMessage* m = gst_bus_timed_pop_filtered(bus.get(), 10 * GST_MSECOND, GST_MESSAGE_ERROR)) {
        auto text = gst::describe(m);
        gst_message_unref(m);
        return error{errc::media, text};
      }
    }
    return std::nullopt;
  }

  GstElement* pipeline_;
  GstAppSrc* src_;
  int rate_;
  int channels_;
  std::int64_t skip_;
  const gst::cancel_token& cancel_;
  std::vector<std::int16_t> zeros_;
  std::int64_t pushed_ = 0;
};

}  // namespace

result<timeline_result> build_audio_timeline(const std::vector<timeline_segment>& segments,
                                             const fs::path& out_file,
                                             const timeline_options& options,
                                             const gst::cancel_token& cancel,
                                             const gst::progress_fn& progress) {
  gst::ensure_init();
  timeline_result res;
  if (segments.empty())
    return error{errc::internal, "audio timeline without segments"};

  // The first decodable segment fixes the output format unless configured.
  size_t first = 0;
  std::optional<pcm_audio> first_pcm;
  for (; first < segments.size() && !first_pcm; ++first) {
    auto pcm = decode_audio(segments[first].file, options.rate, options.channels, cancel);
    if (pcm && pcm->channels > 2)
      pcm = decode_audio(segments[first].file, pcm->rate, 2, cancel);
    if (pcm) {
      first_pcm = std::move(*pcm);
      break;
    }
    if (pcm.err().code != errc::bad_input || !options.undecodable_as_silence)
      return pcm.err();
    res.warnings.push_back(pcm.err().message + "; replaced by silence");
  }
  if (!first_pcm)
    return error{errc::bad_input, "no audio segment could be decoded (" +
                                    segments.front().file.string() + " ...)"};
  const int rate = first_pcm->rate;
  const int ch = first_pcm->channels;
  res.rate = rate;
  res.channels = ch;
  res.bitrate = bitrate_for(rate, ch);
  res.priming_compensated = voaacenc_priming;

  auto pipeline = gst::parse(
    "appsrc name=src format=time ! audioconvert ! voaacenc name=enc ! mp4mux ! filesink name=sink",
    out_file.string());
  if (!pipeline)
    return pipeline.err();
  GstElement* p = pipeline->get();
  auto src = gst::by_name(p, "src");
  gst::caps_ptr caps{gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "layout",
                                         G_TYPE_STRING, "interleaved", "rate", G_TYPE_INT, rate,
                                         "channels", G_TYPE_INT, ch, nullptr)};
  g_object_set(src.get(), "caps", caps.get(), nullptr);
  g_object_set(gst::by_name(p, "enc").get(), "bitrate", res.bitrate, nullptr);
  g_object_set(gst::by_name(p, "sink").get(), "location", out_file.c_str(), nullptr);
  if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    auto err = gst::pending_error(p).value_or(error{errc::media, "audio encoder refused to start"});
    gst_element_set_state(p, GST_STATE_NULL);
    return err;
  }

  encoder_feed feed{p, src.get(), rate, ch, voaacenc_priming, cancel};
  auto to_frames = [rate](std::int64_t ms) { return (ms * rate + 500) / 1000; };
  // Estimated total for progress: the last offset plus an average segment.
  std::int64_t estimate = to_frames(segments.back().offset_ms) + first_pcm->frames();
  estimate = std::max(estimate, to_frames(options.min_duration_ms));

  std::int64_t flushed = 0;           // timeline frames handed to the encoder
  std::vector<std::int16_t> pending;  // mixed frames from `flushed` on
  auto flush_to = [&](std::int64_t target) -> maybe_error {
    while (flushed < target) {
      auto avail = std::int64_t(pending.size()) / ch;
      if (avail > 0) {
        auto n = std::min(avail, target - flushed);
        if (auto err = feed.push(pending.data(), n))
          return err;
        pending.erase(pending.begin(), pending.begin() + n * ch);
        flushed += n;
      } else {
        if (auto err = feed.silence(target - flushed))
          return err;
        flushed = target;
      }
    }
    return std::nullopt;
  };
  auto mix_in = [&](const pcm_audio& pcm, std::int64_t start) {
    auto at = size_t(start - flushed) * ch;
    if (pending.size() < at + pcm.samples.size())
      pending.resize(at + pcm.samples.size(), 0);
    for (size_t k = 0; k < pcm.samples.size(); ++k) {
      int v = int(pending[at + k]) + int(pcm.samples[k]);
      pending[at + k] = std::int16_t(std::clamp(v, -32768, 32767));
    }
  };

  maybe_error failure;
  {
    segment_decoder decoder{segments, first + 1, rate, ch, options.decode_threads, cancel};
    for (size_t i = first; i < segments.size() && !failure; ++i) {
      std::optional<pcm_audio> pcm;
      if (i == first) {
        pcm = std::move(first_pcm);
      } else {
        auto got = decoder.take(i);
        if (got) {
          pcm = std::move(*got);
        } else if (got.err().code == errc::bad_input && options.undecodable_as_silence) {
          res.warnings.push_back(got.err().message + "; replaced by silence");
        } else {
          failure = got.err();
          break;
        }
      }
      auto start = to_frames(segments[i].offset_ms);
      failure = flush_to(start);
      if (!failure && pcm)
        mix_in(*pcm, start);
      if (progress)
        progress(std::min(0.99, double(flushed) / double(std::max<std::int64_t>(estimate, 1))));
    }
  }
  if (!failure) {
    // voaacenc emits only whole 1024-sample frames and never flushes its
    // priming delay: the priming cut at the start plus one frame is given
    // back as silence at the end, so the track is never shorter than the
    // timeline (measured: without it the last 1-2 frames were lost).
    auto end = std::max(flushed + std::int64_t(pending.size()) / ch, to_frames(options.min_duration_ms)) +
               voaacenc_priming + aac_frame;
    failure = flush_to(end);
  }
  if (failure) {
    gst_element_set_state(p, GST_STATE_NULL);
    return *failure;
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src.get()));
  if (auto err = gst::run(p, cancel))
    return *err;
  res.duration_ms = (flushed - voaacenc_priming - aac_frame) * 1000 / rate;
  if (progress)
    progress(1.0);
  return res;
}

}  // namespace postroll
