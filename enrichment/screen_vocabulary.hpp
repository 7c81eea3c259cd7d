// The screen's words as the recogniser's vocabulary: a piece of speech
// favours the words of the chapter it mostly falls in and, a fifth as much,
// every word read on screen *before the piece ends*. The rule looks only
// back, so a live job can recognise a piece as soon as the chapters up to
// its end are known, and gets the words the batch gets (docs/enrichment.md).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "enrichment/transcript/speech_recognizer.hpp"

namespace postroll {

/// One chapter's screen text on the session timeline.
struct screen_span {
  std::int64_t start_ms = 0;
  std::int64_t end_ms = std::numeric_limits<std::int64_t>::max();  ///< max: still open
  std::string text;
};

/// Words read on screen, as the recogniser's vocabulary knows them: lower
/// case, letters only, three to 24 of them; sorted, each once.
std::vector<std::string> screen_words(const std::string& text);

class screen_vocabulary {
public:
  /// `spans` in time order; null when there is nothing to favour.
  static std::optional<screen_vocabulary> of(const std::vector<screen_span>& spans, double weight);
  /// From chapters.json's content.
  static std::optional<screen_vocabulary> of_chapters(const nlohmann::json& chapters, double weight);

  /// The bias for a piece spanning [start_ms, end_ms); `key` names it (the
  /// same key, the same bias). Depends only on spans starting before end_ms.
  vocabulary_bias operator()(std::int64_t start_ms, std::int64_t end_ms, std::string& key) const;
  /// Words read in the whole session (for the result's figures).
  std::size_t size() const { return all_; }

private:
  struct span {
    std::int64_t start_ms = 0, end_ms = 0;
    std::vector<std::string> words;
  };
  std::vector<span> spans_;
  std::size_t all_ = 0;
  double weight_ = 0;
};

}  // namespace postroll
