// Offline speech-to-text with word times: libpocketsphinx and Debian's
// en-us model. (The GStreamer pocketsphinx element gives no word times —
// docs/enrichment.md — so samples are fed to the library directly.)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

struct recognized_word {
  std::string text;
  std::int64_t start_ms = 0, end_ms = 0;  ///< on the audio's timeline
  double confidence = 0;                  ///< 0..1, the decoder's posterior
};

struct utterance {
  std::int64_t start_ms = 0, end_ms = 0;
  std::vector<recognized_word> words;
};

/// Words the recogniser should expect more than its language model says,
/// e.g. the text on screen: `weight` is the share of the probability mass
/// given to these words (spread evenly), 0 = none.
struct vocabulary_bias {
  std::vector<std::string> words;       ///< lower case; words not in the dictionary are left out
  std::vector<std::string> background;  ///< favoured a fifth as much per word (e.g. the whole session's screen)
  double weight = 0;
};

struct recognizer_options {
  std::string model_dir = "/usr/share/pocketsphinx/model/en-us";  ///< holds en-us/, en-us.lm.bin, cmudict-en-us.dict
  /// The search preset (docs/enrichment.md has the measured curve):
  /// "accurate" = pocketsphinx's defaults, "balanced" (default) and "fast".
  std::string speed = "balanced";
  /// Extra pocketsphinx arguments after the preset's ("-name", "value"),
  /// for measurements (bench_asr).
  std::vector<std::pair<std::string, std::string>> extra_args;
};

/// The pocketsphinx arguments a preset sets; an error names the preset
/// when it is not one of fast, balanced, accurate.
result<std::vector<std::pair<std::string, std::string>>> asr_preset_args(const std::string& speed);

/// One decoder. Recognises pieces of 16 kHz mono audio, each as one
/// utterance that starts from the model's initial channel estimate, so that
/// a piece's words do not depend on which pieces this decoder saw before
/// (the transcript is then the same with any number of decoders).
class speech_recognizer {
public:
  static result<speech_recognizer> open(const recognizer_options& o = {});
  speech_recognizer(speech_recognizer&&) noexcept;
  speech_recognizer& operator=(speech_recognizer&&) noexcept;
  ~speech_recognizer();

  /// Biases the language model towards `bias.words` for the pieces that
  /// follow (replacing any earlier bias; an empty bias removes it).
  /// @returns how many of the words the dictionary knows (the rest are left out)
  std::size_t set_bias(const vocabulary_bias& bias);

  /// Recognises `count` samples whose first sample is at `start_ms` on the
  /// timeline. @returns the words in order, fillers and silences left out;
  /// none when `cancel` is set meanwhile (it is polled every ~0.1 s of work).
  std::vector<recognized_word> recognize(const std::int16_t* samples, std::size_t count, std::int64_t start_ms,
                                         const cancel_token* cancel = nullptr);

  /// @returns true when the dictionary has `word` (lower case).
  bool knows(const std::string& word) const;

private:
  struct impl;
  explicit speech_recognizer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace postroll
