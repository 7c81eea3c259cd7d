// The audio timeline's AAC, in pieces kept on disk by what they were made
// from. The encoder (pipelines/aac_encoder) cuts its input at fixed places
// (every piece_frames(rate) AAC frames, wherever the timeline ends), so a
// piece encoded while a live recording is made is the piece the timeline
// stage encodes at the end; the stage finds it here and only joins.
//
// A piece is named by a hash of its input samples (its preroll included),
// its place and the encoder's settings, sealed with the session's key, and
// its content is sealed too: a file someone else put in the folder is never
// taken for one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace postroll {

/// Where the pieces are kept, in the session's output folder.
inline constexpr const char* audio_pieces_dir = "audio-pieces";

/// One encoded piece's input: interleaved S16 samples at the timeline's
/// format, from its first preroll frame on.
struct aac_piece_input {
  std::int64_t index = 0;  ///< the piece's place (0 = the timeline's start)
  int rate = 0, channels = 0, bitrate = 0;
  std::int64_t skip = 0;   ///< output frames dropped (the preroll)
  const std::int16_t* samples = nullptr;
  std::int64_t frames = 0;  ///< sample frames in `samples`
};

class aac_piece_store {
public:
  /// Entries live in `dir` (created by the caller); `seal_key` is the session's.
  /// Removes what a killed writer left half-written there.
  aac_piece_store(std::filesystem::path dir, std::string seal_key);

  std::string key_of(const aac_piece_input& in) const;
  /// The piece's ADTS frames (`frames` of them), if a sealed entry exists.
  std::optional<std::string> find(const std::string& key, std::int64_t frames) const;
  /// Stores them (atomically). Failing to is not an error: the piece is
  /// encoded again next time.
  void store(const std::string& key, const std::string& adts) const;

private:
  std::filesystem::path dir_;
  std::string seal_key_;
};

/// The number of ADTS frames in `adts`, or -1 when it is not a run of
/// whole ADTS frames.
std::int64_t adts_frame_count(const std::string& adts);
/// Sets each frame header's ID to MPEG-4 (AAC-LC is the same bitstream).
void adts_mark_mpeg4(std::string& adts);
/// The byte where frame `n` of `adts` starts (its size when n is the count).
std::size_t adts_frame_offset(const std::string& adts, std::int64_t n);

}  // namespace postroll
