// The audio timeline's AAC while the recording is made: each audio segment
// is decoded at the timeline's format and placed as the batch timeline
// places it (live_segments), and every AAC piece whose input is final is
// encoded and kept in the piece store (pipelines/aac_pieces). At the end
// the timeline stage finds them there and encodes only the last piece:
// the playable file is a join and a remux.
//
// A segment at a higher rate than those before changes the timeline's
// format: the pieces start over at the new one (the old ones are of no use).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "enrichment/live/live_follower.hpp"
#include "session/manifest.hpp"

namespace postroll {

class live_audio {
public:
  /// Encoded pieces go to `pieces_dir` (the timeline stage's store).
  live_audio(const live_options& o, std::filesystem::path pieces_dir);
  /// Stops: a piece being encoded is dropped (the end redoes it).
  ~live_audio();
  live_audio(const live_audio&) = delete;
  live_audio& operator=(const live_audio&) = delete;

  /// The manifest as it stands now; what is new is taken on another thread.
  void update(std::shared_ptr<const manifest> m);
  /// Pieces encoded (or found encoded) so far.
  std::int64_t pieces() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace postroll
