#include "enrichment/audio_review.hpp"

#include <algorithm>
#include <cmath>

#include "pipelines/audio_samples.hpp"

namespace postroll {

using json = nlohmann::json;

namespace {
constexpr int frame_ms = 20;
constexpr int frame_samples = analysis_rate * frame_ms / 1000;

double to_db(double mean_square) {
  return mean_square <= 0 ? -120.0 : 10.0 * std::log10(mean_square / (32768.0 * 32768.0));
}
double round1(double v) { return std::round(v * 10) / 10; }
}  // namespace

std::vector<voice_span> speech_spans(const std::vector<float>& db, int ms) {
  std::vector<voice_span> out;
  if (db.empty())
    return out;
  auto sorted = db;
  auto tenth = sorted.begin() + std::ptrdiff_t(sorted.size() / 10);
  std::nth_element(sorted.begin(), tenth, sorted.end());
  double threshold = std::max(double(*tenth) + 10.0, -55.0);
  constexpr std::int64_t bridge_ms = 300, min_speech_ms = 150;
  for (std::size_t i = 0; i < db.size(); ++i) {
    if (db[i] < threshold)
      continue;
    std::int64_t start = std::int64_t(i) * ms, end = start + ms;
    if (!out.empty() && start - out.back().end_ms <= bridge_ms)
      out.back().end_ms = end;
    else
      out.push_back({start, end});
  }
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](const voice_span& s) { return s.end_ms - s.start_ms < min_speech_ms; }),
            out.end());
  return out;
}

// Words into utterances: a pause this long between two words ends one.
constexpr std::int64_t utterance_pause_ms = 600;

std::vector<utterance> utterances_of(std::vector<recognized_word> words) {
  std::vector<utterance> out;
  for (auto& w : words) {
    if (out.empty() || w.start_ms - out.back().end_ms >= utterance_pause_ms)
      out.push_back({w.start_ms, w.end_ms, {}});
    out.back().end_ms = std::max(out.back().end_ms, w.end_ms);
    out.back().words.push_back(std::move(w));
  }
  return out;
}

result<json> review_audio(const analysis_source& source, std::int64_t duration_ms, const audio_review_options& o,
                          const cancel_token& cancel, const progress_fn& progress) {
  transcriber_options to;
  to.asr = o.asr;
  to.threads = o.asr_threads;
  to.bias_for = o.bias_for;
  to.cache = o.cache;
  std::function<void()> report;
  to.on_wait = [&] {
    if (report)
      report();
  };
  auto pool = transcriber::open(to, cancel);
  if (!pool)
    return pool.err();
  auto& recognizer = **pool;
  piece_cutter cutter{[&](speech_piece&& p) { recognizer.add(std::move(p)); }, analysis_rate};
  std::vector<float> frame_db;
  double frame_acc = 0;
  int frame_fill = 0;
  struct minute_stats {
    double sum_sq = 0;
    std::int64_t n = 0;
    int peak = 0;
  };
  std::vector<minute_stats> minutes;
  std::int64_t total = 0;
  auto expected = std::max<std::int64_t>(1, duration_ms * analysis_rate / 1000);
  report = [&] {
    // Recognition is the slow part: progress is the audio recognised.
    if (progress)
      progress(std::min(0.99, double(recognizer.samples_done()) / double(expected)));
  };
  auto err = source([&](const std::int16_t* s, std::size_t count, std::int64_t first) {
    cutter.feed(s, count, first);
    for (std::size_t i = 0; i < count; ++i) {
      double v = s[i];
      frame_acc += v * v;
      if (++frame_fill == frame_samples) {
        frame_db.push_back(float(to_db(frame_acc / frame_samples)));
        frame_acc = 0;
        frame_fill = 0;
      }
      auto minute = std::size_t((first + std::int64_t(i)) / (analysis_rate * 60));
      if (minute >= minutes.size())
        minutes.resize(minute + 1);
      auto& m = minutes[minute];
      m.sum_sq += v * v;
      ++m.n;
      m.peak = std::max(m.peak, std::abs(int(s[i])));
    }
    total = std::max(total, first + std::int64_t(count));
    report();
  });
  if (err)
    return *err;
  cutter.finish();
  // Gaps are dropped, not recognised: what is left counts as done.
  expected = std::max<std::int64_t>(1, recognizer.samples_added());
  auto words_done = recognizer.finish();
  if (!words_done)
    return words_done.err();
  auto reused = recognizer.cached_pieces();
  auto utterances = utterances_of(std::move(*words_done));
  auto spans = speech_spans(frame_db, frame_ms);
  auto audio_ms = total * 1000 / analysis_rate;

  json words = json::array(), utts = json::array(), speech = json::array(), silence = json::array();
  std::string text;
  std::size_t word_count = 0;
  for (const auto& u : utterances) {
    std::string line;
    for (const auto& w : u.words) {
      words.push_back({{"word", w.text}, {"startMs", w.start_ms}, {"endMs", w.end_ms},
                       {"confidence", std::round(w.confidence * 1000) / 1000}});
      line += (line.empty() ? "" : " ") + w.text;
      ++word_count;
    }
    utts.push_back({{"startMs", u.start_ms}, {"endMs", u.end_ms}, {"text", line}});
    text += (text.empty() ? "" : "\n") + line;
  }
  std::int64_t speech_ms = 0, cursor = 0;
  for (const auto& s : spans) {
    if (s.start_ms > cursor)
      silence.push_back({{"startMs", cursor}, {"endMs", s.start_ms}});
    speech.push_back({{"startMs", s.start_ms}, {"endMs", s.end_ms}});
    speech_ms += s.end_ms - s.start_ms;
    cursor = s.end_ms;
  }
  if (cursor < audio_ms)
    silence.push_back({{"startMs", cursor}, {"endMs", audio_ms}});
  json loudness = json::array();
  for (std::size_t i = 0; i < minutes.size(); ++i) {
    const auto& m = minutes[i];
    std::int64_t from = std::int64_t(i) * 60000, to = from + 60000, in_speech = 0;
    for (const auto& s : spans)
      in_speech += std::max<std::int64_t>(0, std::min(to, s.end_ms) - std::max(from, s.start_ms));
    auto span_ms = std::max<std::int64_t>(1, std::min(to, audio_ms) - from);
    loudness.push_back({{"minute", i},
                        {"rmsDb", round1(to_db(m.n ? m.sum_sq / double(m.n) : 0))},
                        {"peakDb", round1(m.peak ? 20.0 * std::log10(m.peak / 32768.0) : -120.0)},
                        {"speechShare", std::round(double(in_speech) / double(span_ms) * 100) / 100}});
  }
  if (progress)
    progress(1.0);
  return json{{"engine", "pocketsphinx"},
              {"model", o.asr.model_dir},
              {"asrSpeed", o.asr.speed},
              {"asrThreads", recognizer.threads()},
              {"piecesReused", reused},
              {"durationMs", audio_ms},
              {"text", text},
              {"wordCount", word_count},
              {"utterances", utts},
              {"words", words},
              {"speechMs", speech_ms},
              {"speech", speech},
              {"silence", silence},
              {"loudness", loudness}};
}

result<json> review_audio(const std::filesystem::path& audio, std::int64_t duration_ms, const audio_review_options& o,
                          const cancel_token& cancel, const progress_fn& progress) {
  return review_audio(
      [&](const std::function<void(const std::int16_t*, std::size_t, std::int64_t)>& on_chunk) {
        return read_audio_samples(audio, duration_ms, cancel, {}, on_chunk);
      },
      duration_ms, o, cancel, progress);
}

}  // namespace postroll
