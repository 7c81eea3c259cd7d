#include "enrichment/transcript/speech_recognizer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include <pocketsphinx.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/ngram_model.h>

namespace postroll {

namespace {
constexpr const char* biased_search = "postroll-biased";
constexpr const char* plain_search = "postroll-full";
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

result<std::vector<std::pair<std::string, std::string>>> asr_preset_args(const std::string& speed) {
  // Measured on narrated test voices (docs/enrichment.md, bench/bench-asr.sh):
  // fewer Gaussians scored, the phone-loop lookahead and a cap of 10,000
  // active HMMs cost no recall and 1/3 of the time; skipping the flat-lexicon
  // pass and a cap of 3,000 buy another 2x for 0.02 of recall.
  if (speed == "accurate")
    return std::vector<std::pair<std::string, std::string>>{};
  if (speed == "balanced")
    return std::vector<std::pair<std::string, std::string>>{
        {"-topn", "3"}, {"-pl_window", "5"}, {"-maxhmmpf", "10000"}};
  if (speed == "fast")
    return std::vector<std::pair<std::string, std::string>>{
        {"-pl_window", "5"}, {"-fwdflat", "no"}, {"-maxhmmpf", "3000"}};
  return error{errc::bad_input, "enrich.asr_speed: \"" + speed + "\" is not one of fast, balanced, accurate"};
}

struct speech_recognizer::impl {
  cmd_ln_t* config = nullptr;
  ps_decoder_t* ps = nullptr;
  ngram_model_t* base_lm = nullptr;  // the full language model (set by open; retained by its searches)
  std::vector<mfcc_t> cmn_start;     // the channel estimate every piece starts from
  bool plain_built = false;             // the full model's own search, built on first use
  ngram_model_t* biased_set = nullptr;  // owned by the biased search, once built
  bool searching = false;               // a search is selected

  // Selects the full model's search, building it the first time.
  bool use_plain() {
    if (!plain_built) {
      if (ps_set_lm(ps, plain_search, ngram_model_retain(base_lm)) < 0)
        return false;
      plain_built = true;
    }
    searching = ps_set_search(ps, plain_search) >= 0;
    return searching;
  }

  ~impl() {
    if (base_lm)
      ngram_model_free(base_lm);
    if (ps)
      ps_free(ps);
    if (config)
      cmd_ln_free_r(config);
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
  std::error_code ec;
  for (const auto& p : {hmm, lm, dict})
    if (!fs::exists(p, ec))
      return error{errc::unavailable, "speech model missing: " + p.string() + " (Debian: apt install pocketsphinx-en-us)"};
  auto preset = asr_preset_args(o.speed);
  if (!preset)
    return preset.err();
  // Pieces are cut at silences already; the decoder's own silence removal
  // would also renumber frames (word times) within a piece.
  // No "-lm": the decoder would build the full model's search at once
  // (~55 MB), which a session with screen words never uses, and this
  // pocketsphinx cannot free a search without leaking it. The model is read
  // below and its search built when a piece first needs it.
  std::vector<std::string> args = {"-hmm", hmm.string(), "-dict", dict.string(), "-remove_silence", "no"};
  for (const auto& [k, v] : *preset)
    args.insert(args.end(), {k, v});
  for (const auto& [k, v] : o.extra_args)
    args.insert(args.end(), {k, v});
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  // pocketsphinx logs through one process-wide FILE*, which "-logfn"
  // reopens on every ps_init: with decoders on several threads that is a
  // use-after-free. Logging goes off once, and decoders load one at a time.
  static std::once_flag quiet;
  std::call_once(quiet, [] { err_set_logfp(nullptr); });
  static std::mutex loading;
  std::lock_guard<std::mutex> one_at_a_time{loading};
  auto p = std::make_unique<impl>();
  p->config = cmd_ln_parse_r(nullptr, ps_args(), int(argv.size()), argv.data(), FALSE);
  if (!p->config)
    return error{errc::unavailable, "speech recognizer: bad configuration for " + dir.string()};
  p->ps = ps_init(p->config);
  if (!p->ps)
    return error{errc::unavailable, "speech recognizer: cannot load the model in " + dir.string()};
  p->base_lm = ngram_model_read(p->config, lm.c_str(), NGRAM_AUTO, ps_get_logmath(p->ps));
  if (!p->base_lm)
    return error{errc::unavailable, "speech recognizer: cannot read the language model " + lm.string()};
  auto* feat = ps_get_feat(p->ps);
  if (feat && feat->cmn_struct) {
    p->cmn_start.resize(std::size_t(feat->cmn_struct->veclen));
    cmn_live_get(feat->cmn_struct, p->cmn_start.data());
  }
  return speech_recognizer{std::move(p)};
}

bool speech_recognizer::knows(const std::string& word) const {
  char* phones = ps_lookup_word(impl_->ps, word.c_str());
  bool known = phones != nullptr;
  ckd_free(phones);
  return known;
}

namespace {
// A unigram model of `known` (word -> relative weight), interpolated with
// the full model by the caller: every word keeps its context from the full
// model and gains its share of the bias weight.
ngram_model_t* unigram_model(cmd_ln_t* config, logmath_t* logmath, const std::map<std::string, double>& known) {
  char path[] = "/tmp/postroll-bias-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return nullptr;
  close(fd);
  {
    std::ofstream arpa(path);
    double total = 2;
    for (const auto& [w, rel] : known)
      total += rel;
    arpa << "\\data\\\nngram 1=" << known.size() + 2 << "\n\n\\1-grams:\n";
    arpa << std::log10(1 / total) << " <s>\n" << std::log10(1 / total) << " </s>\n";
    for (const auto& [w, rel] : known)
      arpa << std::log10(rel / total) << " " << w << "\n";
    arpa << "\n\\end\\\n";
  }
  ngram_model_t* screen = ngram_model_read(config, path, NGRAM_ARPA, logmath);
  std::remove(path);
  return screen;
}
}  // namespace

std::size_t speech_recognizer::set_bias(const vocabulary_bias& bias) {
  auto& s = *impl_;
  std::map<std::string, double> known;  // word -> relative weight
  // Words the full model knows: the biased search's vocabulary is the full
  // model's, fixed when it is built (below).
  auto usable = [&](const std::string& w) {
    return !w.empty() && knows(w) && ngram_wid(s.base_lm, w.c_str()) != ngram_unknown_wid(s.base_lm);
  };
  for (const auto& w : bias.background)
    if (usable(w))
      known[w] = 0.2;
  for (const auto& w : bias.words)
    if (usable(w))
      known[w] = 1.0;
  if (known.empty() || bias.weight <= 0) {
    s.use_plain();
    return known.size();
  }
  ngram_model_t* screen = unigram_model(s.config, ps_get_logmath(s.ps), known);
  if (!screen) {
    s.use_plain();
    return 0;
  }
  const char* names[] = {"full", "screen"};
  float32 weights[] = {float32(1.0 - bias.weight), float32(bias.weight)};
  if (!s.biased_set) {
    // The biased search is built once per decoder: building a search
    // leaks ~13 MB in this pocketsphinx (a search per chapter took a
    // 10-minute transcript from 276 MB to 1 GB) and costs 0.3-0.8 s.
    ngram_model_t* models[] = {ngram_model_retain(s.base_lm), screen};
    ngram_model_t* set =
        ngram_model_set_init(s.config, models, const_cast<char**>(names), weights, 2);
    if (!set) {
      ngram_model_free(models[0]);
      ngram_model_free(screen);
      s.use_plain();
      return 0;
    }
    if (ps_set_lm(s.ps, biased_search, set) < 0) {  // the search owns the set now
      s.use_plain();
      return 0;
    }
    s.biased_set = set;
  } else {
    // Later biases swap the screen model inside that set, keeping its
    // word map (so the search's lexicon stays valid), and re-weight.
    if (ngram_model_t* old = ngram_model_set_remove(s.biased_set, "screen", TRUE))
      ngram_model_free(old);
    ngram_model_set_add(s.biased_set, screen, "screen", 1.0f, TRUE);
    ngram_model_set_interp(s.biased_set, names, weights);
  }
  if (ps_set_search(s.ps, biased_search) < 0) {
    s.use_plain();
    return 0;
  }
  s.searching = true;
  return known.size();
}

std::vector<recognized_word> speech_recognizer::recognize(const std::int16_t* samples, std::size_t count,
                                                          std::int64_t start_ms, const cancel_token* cancel) {
  auto& s = *impl_;
  std::vector<recognized_word> out;
  if (auto* feat = ps_get_feat(s.ps); feat && feat->cmn_struct && !s.cmn_start.empty())
    cmn_live_set(feat->cmn_struct, s.cmn_start.data());
  // Each piece is a stream of its own: segment times count from a
  // stream's start, and the front end's noise estimate is reset with it.
  // (Without it a decoder's second piece came out late by the length of
  // its first, and its words depended on what the decoder heard before.)
  if ((!s.searching && !s.use_plain()) || ps_start_stream(s.ps) < 0 || ps_start_utt(s.ps) < 0)
    return out;
  // In steps of a quarter second of audio (under 0.1 s of work), so that a
  // cancel is seen in time; the piece stays one utterance.
  constexpr std::size_t step = 4000;
  for (std::size_t off = 0; off < count; off += step) {
    if (cancel && cancel->is_cancelled()) {
      ps_end_utt(s.ps);
      return out;
    }
    ps_process_raw(s.ps, samples + off, std::min(step, count - off), FALSE, FALSE);
  }
  ps_end_utt(s.ps);
  for (ps_seg_t* seg = ps_seg_iter(s.ps); seg; seg = ps_seg_next(seg)) {
    auto word = clean_word(ps_seg_word(seg));
    if (word.empty())
      continue;
    int sf = 0, ef = 0;
    ps_seg_frames(seg, &sf, &ef);
    recognized_word w;
    w.text = std::move(word);
    // With silence removal off, frames count from the stream's (the
    // piece's) first sample.
    w.start_ms = start_ms + std::int64_t(sf) * 1000 / frames_per_second;
    w.end_ms = start_ms + std::int64_t(ef + 1) * 1000 / frames_per_second;
    w.confidence = logmath_exp(ps_get_logmath(s.ps), ps_seg_prob(seg, nullptr, nullptr, nullptr));
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace postroll
