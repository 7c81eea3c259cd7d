// Encodes a PCM timeline to one AAC stream (ADTS), with the timeline's
// samples landing at their exact times, optionally on several cores.
//
// voaacenc (the fastest AAC encoder here) puts 1600 samples of priming in
// front of the audio at every rate, and GStreamer 1.22's mp4mux writes no
// edit list to hide them; it also emits only whole 1024-sample frames and
// never flushes its delay. So the first 1600 timeline samples are not fed
// (they become the priming) and 1600 + 1024 samples of silence are added at
// the end: every sample then decodes at its true time, and the track is
// never shorter than the timeline. (Measured: 60 ms late without this.)
//
// Encoding is the costly part of finalizing (3 s per 30 min at 16 kHz on one
// core). A long timeline is cut at a frame boundary into chunks encoded at
// once; each chunk after the first starts 4 frames early so its encoder has
// settled, and those frames are dropped, so the frames join seamlessly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

class aac_encoder {
public:
  /// @param expected_frames the timeline's length as far as known (decides
  ///        where chunks are cut; need not be exact)
  /// @param max_chunks encoders run at once (1 = no split)
  aac_encoder(int rate, int channels, int bitrate, std::int64_t expected_frames, int max_chunks,
              const cancel_token& cancel);
  ~aac_encoder();
  aac_encoder(const aac_encoder&) = delete;
  aac_encoder& operator=(const aac_encoder&) = delete;

  /// Builds and starts the encoders.
  maybe_error start();
  /// Appends interleaved S16 timeline samples. Blocks while encoders are behind.
  maybe_error push(const std::int16_t* data, std::int64_t frames);
  /// Appends silence.
  maybe_error silence(std::int64_t frames);
  /// Ends the input, waits for the encoders and writes the ADTS stream to `out_file`.
  maybe_error finish(const std::filesystem::path& out_file);

  /// Samples not fed at the start (the encoder's priming takes their place).
  static constexpr std::int64_t priming = 1600;
  static constexpr std::int64_t frame = 1024;
  /// Frames re-encoded before each chunk's first kept frame.
  static constexpr std::int64_t preroll_frames = 4;

  struct chunk;

private:
  maybe_error feed(const std::int16_t* data, std::int64_t frames);
  int rate_;
  int channels_;
  int bitrate_;
  std::int64_t expected_;
  int max_chunks_;
  const cancel_token& cancel_;
  std::vector<std::unique_ptr<chunk>> chunks_;
  std::int64_t timeline_frames_ = 0;  // timeline samples received
  std::int64_t fed_ = 0;              // encoder-input samples (timeline minus priming)
  std::vector<std::int16_t> zeros_;
};

}  // namespace postroll
