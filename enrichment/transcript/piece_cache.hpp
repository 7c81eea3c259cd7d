// Recognised pieces kept on disk, by what they were made from: the piece's
// samples and place on the timeline, the recogniser's model and search, and
// the vocabulary it was biased with. A live job's follower fills it while
// the recording is made and the transcript stage at the end finds its
// pieces there; a retried or preempted transcript does not redo them.
// Each entry is sealed with the session's key: a file someone else put in
// the folder is never taken for one.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "enrichment/transcript/speech_pieces.hpp"
#include "enrichment/transcript/speech_recognizer.hpp"

namespace postroll {

class piece_cache {
public:
  /// Entries live in `dir` (created by the caller); `seal_key` is the session's.
  /// Removes what a killed writer left half-written there.
  piece_cache(std::filesystem::path dir, std::string seal_key, const recognizer_options& asr);

  /// The key of `piece` recognised with `bias` (empty words: none).
  std::string key_of(const speech_piece& piece, const vocabulary_bias& bias) const;
  /// The words stored for `key`, if a sealed entry exists.
  std::optional<std::vector<recognized_word>> find(const std::string& key) const;
  /// Stores the words for `key` (atomically). Failing to is not an error:
  /// the piece is recognised again next time.
  void store(const std::string& key, const std::vector<recognized_word>& words) const;

private:
  std::filesystem::path dir_;
  std::string seal_key_;
  std::string asr_;  // what of the recogniser's options the words depend on
};

}  // namespace postroll
