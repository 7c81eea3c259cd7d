// The transcript of a recording while it is made: each audio segment is
// decoded and placed on the 16 kHz timeline as the batch transcript places
// it (timeline_mixer), cut into the same pieces (piece_cutter: it only
// looks back, so a piece cut live is the piece the batch cuts), and each
// piece is recognised and kept in the piece cache. The transcript stage at
// the end finds them there; what was not done live is done then.
//
// Pieces the screen's words bias (a session with pictures and the screen
// vocabulary on) wait until the words before their end are final
// (live_screen_words, from the live video or screenshots): the bias looks
// only back (screen_vocabulary), so they get the batch's bias.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "enrichment/live/live_follower.hpp"
#include "enrichment/live/live_screen_words.hpp"
#include "session/manifest.hpp"

namespace postroll {

class live_transcript {
public:
  /// Recognised pieces go to `pieces_dir` (the transcript stage's cache);
  /// the screen's words come from `words`.
  live_transcript(const live_options& o, std::filesystem::path pieces_dir, std::shared_ptr<live_screen_words> words);
  /// Stops: a piece being recognised is dropped (the end redoes it).
  ~live_transcript();
  live_transcript(const live_transcript&) = delete;
  live_transcript& operator=(const live_transcript&) = delete;

  /// The manifest as it stands now; what is new is taken on another thread.
  void update(std::shared_ptr<const manifest> m);
  /// For the follower's line: "transcript 12 s behind", or why it waits.
  std::string status() const;
  /// How far it got: pieces recognised (or found recognised), audio placed.
  std::size_t pieces() const;
  std::int64_t behind_ms() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace postroll
