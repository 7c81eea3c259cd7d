// Offline speech-to-text with word times: libpocketsphinx and Debian's
// en-us model. (The GStreamer pocketsphinx element gives no word times —
// docs/enrichment.md — so samples are fed to the library directly.)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "postroll/error.hpp"

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

struct recognizer_options {
  std::string model_dir = "/usr/share/pocketsphinx/model/en-us";  ///< holds en-us/, en-us.lm.bin, cmudict-en-us.dict
};

/// Feeds 16 kHz mono samples in order; collects utterances as the decoder's
/// voice detector closes them.
class speech_recognizer {
public:
  static result<speech_recognizer> open(const recognizer_options& o = {});
  speech_recognizer(speech_recognizer&&) noexcept;
  speech_recognizer& operator=(speech_recognizer&&) noexcept;
  ~speech_recognizer();

  void feed(const std::int16_t* samples, std::size_t count);
  /// Ends the last utterance; @returns every utterance, oldest first.
  std::vector<utterance> finish();

private:
  struct impl;
  explicit speech_recognizer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace postroll
