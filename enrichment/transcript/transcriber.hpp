// Speech recognition on every core: pieces of the timeline (speech_pieces)
// go to a pool of decoders and their words come back joined in time order.
// Each decoder starts every piece from the same state, so the transcript is
// the same whatever the number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "enrichment/transcript/piece_cache.hpp"
#include "enrichment/transcript/speech_pieces.hpp"
#include "enrichment/transcript/speech_recognizer.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

struct transcriber_options {
  recognizer_options asr;
  int threads = 0;  ///< decoders; 0 = the machine's cores (at most 8)
  /// The vocabulary to favour for a piece spanning [start_ms, end_ms) on the
  /// timeline (e.g. the words on screen then); null = none. Pieces asking
  /// for the same `key` share one biased model per decoder.
  std::function<vocabulary_bias(std::int64_t start_ms, std::int64_t end_ms, std::string& key)> bias_for;
  /// Called at least every 100 ms while add() or finish() wait (progress).
  std::function<void()> on_wait;
  /// Pieces recognised before (by a live job's follower, an earlier
  /// attempt) are taken from here, and new ones stored; null = none.
  const piece_cache* cache = nullptr;
};

class transcriber {
public:
  /// Loads the decoders (in parallel). @returns an error naming the model.
  static result<std::unique_ptr<transcriber>> open(const transcriber_options& o, const cancel_token& cancel);
  ~transcriber();

  /// Queues a piece; blocks while twice as many pieces as decoders wait.
  void add(speech_piece&& piece);
  /// Samples recognised so far (for progress).
  std::int64_t samples_done() const;
  /// Samples queued so far.
  std::int64_t samples_added() const;
  /// Pieces found in the cache so far.
  std::size_t cached_pieces() const;
  /// Waits for every piece. @returns all words in time order, or
  /// `errc::cancelled`.
  result<std::vector<recognized_word>> finish();
  int threads() const;

private:
  struct impl;
  explicit transcriber(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace postroll
