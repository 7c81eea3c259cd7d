#include "enrichment/speech_recognizer.hpp"

#include <cmath>
#include <filesystem>

#include <pocketsphinx.h>

namespace postroll {

namespace {
constexpr int frames_per_second = 100;  // pocketsphinx's feature frame rate

// "the(2)" -> "the"; fillers (<s>, <sil>, [NOISE], ++GARBAGE++) -> "".
std::string clean_word(const char* w) {
  std::string s = w ? w : "";
  if (s.empty() || s[0] == '<' || s[0] == '[' || s[0] == '+')
    return {};
  if (auto p = s.find('('); p != std::string::npos)
    s.erase(p);
  return s;
}
}  // namespace

struct speech_recognizer::impl {
  cmd_ln_t* config = nullptr;
  ps_decoder_t* ps = nullptr;
  bool in_utterance = false;
  bool was_speech = false;
  std::vector<utterance> done;

  ~impl() {
    if (ps)
      ps_free(ps);
    if (config)
      cmd_ln_free_r(config);
  }

  void close_utterance() {
    if (!in_utterance)
      return;
    ps_end_utt(ps);
    in_utterance = false;
    utterance u;
    // Word frames count from the start of the stream, not of the
    // utterance (measured: media-notes.md, enrichment_test).
    for (ps_seg_t* seg = ps_seg_iter(ps); seg; seg = ps_seg_next(seg)) {
      auto word = clean_word(ps_seg_word(seg));
      if (word.empty())
        continue;
      int sf = 0, ef = 0;
      ps_seg_frames(seg, &sf, &ef);
      recognized_word w;
      w.text = word;
      w.start_ms = std::int64_t(sf) * 1000 / frames_per_second;
      w.end_ms = std::int64_t(ef + 1) * 1000 / frames_per_second;
      w.confidence = logmath_exp(ps_get_logmath(ps), ps_seg_prob(seg, nullptr, nullptr, nullptr));
      u.words.push_back(std::move(w));
    }
    if (!u.words.empty()) {
      u.start_ms = u.words.front().start_ms;
      u.end_ms = u.words.back().end_ms;
      done.push_back(std::move(u));
    }
  }
};

speech_recognizer::speech_recognizer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
speech_recognizer::speech_recognizer(speech_recognizer&&) noexcept = default;
speech_recognizer& speech_recognizer::operator=(speech_recognizer&&) noexcept = default;
speech_recognizer::~speech_recognizer() = default;

result<speech_recognizer> speech_recognizer::open(const recognizer_options& o) {
  namespace fs = std::filesystem;
  fs::path dir = o.model_dir;
  auto hmm = dir / "en-us", lm = dir / "en-us.lm.bin", dict = dir / "cmudict-en-us.dict";
  for (const auto& p : {hmm, lm, dict})
    if (!fs::exists(p))
      return error{errc::unavailable, "speech model missing: " + p.string() + " (Debian: apt install pocketsphinx-en-us)"};
  auto p = std::make_unique<impl>();
  p->config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", hmm.c_str(), "-lm", lm.c_str(), "-dict", dict.c_str(),
                          "-logfn", "/dev/null", nullptr);
  if (!p->config)
    return error{errc::unavailable, "speech recognizer: bad configuration for " + dir.string()};
  p->ps = ps_init(p->config);
  if (!p->ps)
    return error{errc::unavailable, "speech recognizer: cannot load the model in " + dir.string()};
  return speech_recognizer{std::move(p)};
}

void speech_recognizer::feed(const std::int16_t* samples, std::size_t count) {
  auto& s = *impl_;
  // Small steps, so utterances close close to where speech ends.
  constexpr std::size_t step = 1600;  // 100 ms
  for (std::size_t off = 0; off < count; off += step) {
    auto n = std::min(step, count - off);
    if (!s.in_utterance) {
      ps_start_utt(s.ps);
      s.in_utterance = true;
      s.was_speech = false;
    }
    ps_process_raw(s.ps, samples + off, n, FALSE, FALSE);
    bool speech = ps_get_in_speech(s.ps);
    if (s.was_speech && !speech)
      s.close_utterance();
    else
      s.was_speech = speech;
  }
}

std::vector<utterance> speech_recognizer::finish() {
  impl_->close_utterance();
  return std::move(impl_->done);
}

}  // namespace postroll
