// The sample rate and channel count of an audio file, read from its header
// where the format is one recorders write (WAV, MP3, FLAC, Ogg Opus/Vorbis),
// so the timeline can pick its format before it decodes anything (a
// GstDiscoverer per segment would cost ~20 ms each; sessions have hundreds).
// Anything else is asked of GstDiscoverer.
#pragma once

#include <filesystem>

namespace postroll {

struct audio_format {
  int rate = 0;      ///< what the decoder outputs (0: unknown)
  int channels = 0;
};

/// @returns the format, or zeros when the file says nothing usable.
audio_format sniff_audio_format(const std::filesystem::path& file);

}  // namespace postroll
