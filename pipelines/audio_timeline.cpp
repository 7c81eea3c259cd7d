#include "pipelines/audio_timeline.hpp"
#include "pipelines/timeline_mixer.hpp"
#include "pipelines/gst_support.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>


#include "pipelines/aac_encoder.hpp"
#include "pipelines/audio_format.hpp"
#include "pipelines/audio_decoder.hpp"

namespace fs = std::filesystem;

namespace postroll {

// A segment from a manifest is opened through its session folder, and
// only while it is decoded (a session may list thousands).
result<pcm_audio> decode_timeline_segment(const timeline_segment& s, int rate, int channels, const cancel_token& cancel,
                                          std::int64_t max_end_ms) {
  auto room = std::max<std::int64_t>(1, max_end_ms - s.offset_ms);
  if (!s.ref)
    return decode_audio(s.file, rate, channels, cancel, room);
  return with_file(*s.ref, [&](const std::string& path) { return decode_audio(path, rate, channels, cancel, room); });
}

int timeline_bitrate(int rate, int channels) {
  int per_channel = rate <= 16000 ? 32000 : rate <= 24000 ? 48000 : 64000;
  return per_channel * channels;
}

audio_format timeline_segment_format(const timeline_segment& seg) {
  if (!seg.ref)
    return sniff_audio_format(seg.file);
  if (auto file = seg.ref->open())
    return sniff_audio_format(file->path());
  return {};
}

// The highest rate of the segments (up to 48 kHz) and the most channels (up
// to 2), unless configured: a telephony 8 kHz segment first must not cut
// the 44.1 kHz music after it.
std::pair<int, int> timeline_format_for(int max_rate, int max_channels, const timeline_options& options) {
  int want_rate = options.rate, want_channels = options.channels;
  if (want_rate <= 0 && max_rate > 0)
    want_rate = std::min(max_rate, 48000);
  if (want_channels <= 0 && max_channels > 0)
    want_channels = std::min(max_channels, 2);
  return {want_rate, want_channels};
}

std::pair<int, int> timeline_format(const std::vector<timeline_segment>& segments, const timeline_options& options) {
  int max_rate = 0, max_channels = 0;
  if (options.rate <= 0 || options.channels <= 0)
    for (const auto& seg : segments) {
      auto f = timeline_segment_format(seg);
      max_rate = std::max(max_rate, f.rate);
      max_channels = std::max(max_channels, f.channels);
    }
  return timeline_format_for(max_rate, max_channels, options);
}

namespace {

// How many decoded segments may wait ahead of the mixer (bounds memory).
constexpr size_t lookahead = 8;


// Decodes segments on a few threads, handing them to the mixer in order.
class segment_decoder {
public:
  segment_decoder(const std::vector<timeline_segment>& segments, size_t first, int rate,
                  int channels, int threads, const cancel_token& cancel, std::int64_t max_end_ms)
    : segments_(segments), next_(first), consumed_(first), rate_(rate), channels_(channels),
      cancel_(cancel), max_end_ms_(max_end_ms), slots_(segments.size()) {
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
      auto decoded = decode_timeline_segment(segments_[i], rate_, channels_, cancel_, max_end_ms_);
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
  const cancel_token& cancel_;
  std::int64_t max_end_ms_;
  std::vector<std::optional<result<pcm_audio>>> slots_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// Where the mixed timeline goes, in order: `samples` frames of PCM, or
// `frames` of silence when `samples` is null.
struct timeline_sink {
  virtual ~timeline_sink() = default;
  /// Called once, before any samples, with the timeline's format and an
  /// estimate of its length in frames.
  virtual maybe_error start(int rate, int channels, std::int64_t estimate) = 0;
  virtual maybe_error write(const std::int16_t* samples, std::int64_t frames) = 0;
  virtual maybe_error finish() = 0;
};

// Decodes every segment (on a few threads), places it at its offset, fills
// gaps with silence, mixes overlaps, and hands the result to `sink` in order.
result<timeline_result> mix_timeline(const std::vector<timeline_segment>& segments, const timeline_options& options,
                                     const cancel_token& cancel, const progress_fn& progress, timeline_sink& sink) {
  gst::ensure_init();
  timeline_result res;
  if (segments.empty())
    return error{errc::internal, "audio timeline without segments"};
  auto [want_rate, want_channels] = timeline_format(segments, options);
  size_t first = 0;
  std::optional<pcm_audio> first_pcm;
  for (; first < segments.size() && !first_pcm; ++first) {
    auto pcm = decode_timeline_segment(segments[first], want_rate, want_channels, cancel, options.max_duration_ms);
    if (pcm && pcm->channels > 2)
      pcm = decode_timeline_segment(segments[first], pcm->rate, 2, cancel, options.max_duration_ms);
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

  timeline_mixer mixer{rate, ch};
  auto to_frames = [&mixer](std::int64_t ms) { return mixer.frame_at(ms); };
  // Estimated total for progress and for cutting the encoding into chunks:
  // the last offset plus an average segment.
  std::int64_t estimate = to_frames(segments.back().offset_ms) + first_pcm->frames();
  estimate = std::max(estimate, to_frames(options.min_duration_ms));
  if (auto err = sink.start(rate, ch, estimate))
    return *err;

  auto write = [&sink](const std::int16_t* samples, std::int64_t frames) { return sink.write(samples, frames); };

  maybe_error failure;
  {
    segment_decoder decoder{segments, first + 1, rate, ch, options.decode_threads, cancel, options.max_duration_ms};
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
      failure = mixer.flush_to(start, write);
      if (!failure && pcm)
        mixer.mix_in(*pcm, start);
      if (progress)
        progress(std::min(0.99, double(mixer.flushed()) / double(std::max<std::int64_t>(estimate, 1))));
    }
  }
  if (!failure)
    failure = mixer.flush_to(std::max(mixer.end(), to_frames(options.min_duration_ms)), write);
  if (!failure)
    failure = sink.finish();
  if (failure)
    return *failure;
  res.duration_ms = mixer.flushed() * 1000 / rate;
  if (progress)
    progress(1.0);
  return res;
}

// The timeline encoded to AAC.
class aac_sink : public timeline_sink {
public:
  aac_sink(const fs::path& out, int threads, const aac_piece_store* store, const cancel_token& cancel)
    : out_(out), threads_(threads), store_(store), cancel_(cancel) {}
  int bitrate = 0;
  maybe_error start(int rate, int channels, std::int64_t) override {
    bitrate = timeline_bitrate(rate, channels);
    feed_.emplace(rate, channels, bitrate, threads_, cancel_, store_);
    return std::nullopt;
  }
  std::int64_t reused() const { return feed_ ? feed_->pieces_reused() : 0; }
  std::int64_t pieces() const { return feed_ ? feed_->pieces_done() : 0; }
  maybe_error write(const std::int16_t* samples, std::int64_t frames) override {
    return samples ? feed_->push(samples, frames) : feed_->silence(frames);
  }
  maybe_error finish() override { return feed_->finish(out_); }

private:
  fs::path out_;
  int threads_;
  const aac_piece_store* store_;
  const cancel_token& cancel_;
  std::optional<aac_encoder> feed_;
};

// The timeline handed over as PCM chunks.
class pcm_sink : public timeline_sink {
public:
  explicit pcm_sink(const timeline_chunk_fn& on_chunk) : on_chunk_(on_chunk) {}
  maybe_error start(int, int channels, std::int64_t) override {
    channels_ = channels;
    return std::nullopt;
  }
  maybe_error write(const std::int16_t* samples, std::int64_t frames) override {
    if (samples) {
      on_chunk_(samples, std::size_t(frames) * std::size_t(channels_), at_);
      at_ += frames;
      return std::nullopt;
    }
    // Gaps in bounded chunks: an hour of silence is never one allocation.
    constexpr std::int64_t chunk = 16000;
    std::vector<std::int16_t> zeros(std::size_t(std::min(frames, chunk)) * std::size_t(channels_), 0);
    for (std::int64_t left = frames; left > 0;) {
      auto n = std::min(left, chunk);
      on_chunk_(zeros.data(), std::size_t(n) * std::size_t(channels_), at_);
      at_ += n;
      left -= n;
    }
    return std::nullopt;
  }
  maybe_error finish() override { return std::nullopt; }

private:
  const timeline_chunk_fn& on_chunk_;
  int channels_ = 1;
  std::int64_t at_ = 0;
};

}  // namespace

result<timeline_result> build_audio_timeline(const std::vector<timeline_segment>& segments,
                                             const fs::path& out_file,
                                             const timeline_options& options,
                                             const cancel_token& cancel,
                                             const progress_fn& progress) {
  aac_sink sink{out_file, options.encode_threads, options.pieces, cancel};
  auto res = mix_timeline(segments, options, cancel, progress, sink);
  if (res) {
    res->bitrate = sink.bitrate;
    res->priming_compensated = aac_encoder::priming;
    res->pieces = sink.pieces();
    res->pieces_reused = sink.reused();
  }
  return res;
}

std::vector<timeline_segment> timeline_segments_of(const manifest& m, std::vector<std::string>* skipped) {
  std::vector<timeline_segment> segments;
  for (const auto& a : m.audio) {
    std::error_code ec;
    if (a.missing && fs::exists(a.resolved, ec)) {
      // An empty leftover media.repair turned into silence.
      if (skipped)
        skipped->push_back(a.resolved.string() + ": nothing recoverable in it; silence in its place");
      continue;
    }
    segments.push_back({a.resolved, a.offset_ms, &a});
  }
  return segments;
}

result<timeline_result> read_audio_timeline(const std::vector<timeline_segment>& segments,
                                            const timeline_options& options, const cancel_token& cancel,
                                            const progress_fn& progress, const timeline_chunk_fn& on_chunk) {
  pcm_sink sink{on_chunk};
  return mix_timeline(segments, options, cancel, progress, sink);
}

}  // namespace postroll
