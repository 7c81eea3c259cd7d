// MP3 start delay that GStreamer 1.22 leaves in the decoded audio.
//
// Every MP3 decodes with the encoder's delay (576 samples for LAME) plus the
// decoder's delay (529) in front of the real audio. mpegaudioparse trims it
// only when the Xing/Info frame carries a tag whose encoder string is "LAME";
// files written by ffmpeg ("Lavc...") or without any tag arrive 1105 samples
// late (25 ms at 44.1 kHz, 69 ms at 16 kHz). See ../shared/media-notes.md.
#pragma once

#include <cstdint>
#include <filesystem>

namespace postroll {

/// A delay in samples at the MP3's own sampling rate.
struct mp3_delay {
  std::int64_t samples = 0;
  int rate = 0;
  /// The delay in frames at another sampling rate (rounded).
  std::int64_t at_rate(int other) const {
    return rate ? (samples * other + rate / 2) / rate : 0;
  }
};

/// What to drop from the start of GStreamer's decoded output so that the
/// first real sample lands at time 0.
/// @returns zero samples for files that GStreamer already trims itself, and
///          also a zero rate for files that are not MP3.
mp3_delay mp3_untrimmed_delay(const std::filesystem::path& file);

}  // namespace postroll
