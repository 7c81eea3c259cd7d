// Encodes a PCM timeline to one AAC stream (ADTS), with the timeline's
// samples landing at their exact times, on several cores.
//
// voaacenc (the fastest AAC encoder here) puts 1600 samples of priming in
// front of the audio at every rate, and GStreamer 1.22's mp4mux writes no
// edit list to hide them; it also emits only whole 1024-sample frames and
// never flushes its delay. So the first 1600 timeline samples are not fed
// (they become the priming) and 1600 + 1024 samples of silence are added at
// the end: every sample then decodes at its true time, and the track is
// never shorter than the timeline. (Measured: 60 ms late without this.)
//
// The input is cut into pieces of piece_frames(rate) AAC frames at fixed
// places (not where the timeline's length would put them), each encoded on
// its own: each piece after the first starts 4 frames early so its encoder
// has settled, and those frames are dropped, so the frames join seamlessly.
// Fixed places make a piece depend on its own samples only: with a piece
// store, a piece encoded before (a live recording's follower, an earlier
// attempt) is taken from it, and the end only encodes what is new.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <deque>
#include <thread>
#include <vector>

#include "pipelines/aac_pieces.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

class aac_encoder {
public:
  /// @param threads pieces encoded at once
  /// @param store where pieces are looked up and kept (null: none)
  aac_encoder(int rate, int channels, int bitrate, int threads, const cancel_token& cancel,
              const aac_piece_store* store = nullptr);
  /// Stops: pieces being encoded are dropped.
  ~aac_encoder();
  aac_encoder(const aac_encoder&) = delete;
  aac_encoder& operator=(const aac_encoder&) = delete;

  /// Appends interleaved S16 timeline samples. Blocks while the encoders are behind.
  maybe_error push(const std::int16_t* data, std::int64_t frames);
  /// Appends silence.
  maybe_error silence(std::int64_t frames);
  /// Ends the input, waits for the encoders and writes the ADTS stream to `out_file`.
  maybe_error finish(const std::filesystem::path& out_file);

  /// Pieces taken from the store, and pieces complete so far.
  std::int64_t pieces_reused() const;
  std::int64_t pieces_done() const;

  /// Samples not fed at the start (the encoder's priming takes their place).
  static constexpr std::int64_t priming = 1600;
  static constexpr std::int64_t frame = 1024;
  /// Frames re-encoded before each piece's first kept frame.
  static constexpr std::int64_t preroll_frames = 4;
  /// AAC frames per piece at `rate`: about 30 s.
  static std::int64_t piece_frames(int rate);

private:
  struct job {
    std::int64_t index = 0;
    std::int64_t skip = 0;
    std::vector<std::int16_t> samples;
  };
  maybe_error feed(const std::int16_t* data, std::int64_t frames);
  void submit(bool last);
  void work();
  maybe_error encode(const job& j, std::string& out) const;
  maybe_error wait_idle();

  int rate_, channels_, bitrate_;
  const cancel_token& cancel_;
  const aac_piece_store* store_;
  std::int64_t piece_len_;              // encoder-input samples per piece
  std::int64_t timeline_frames_ = 0;    // timeline samples received
  std::int64_t fed_ = 0;                // encoder-input samples (timeline minus priming)
  std::int64_t next_piece_ = 0;         // the piece whose input is being gathered
  std::int64_t held_from_ = 0;          // encoder-input sample where `held_` starts
  std::vector<std::int16_t> held_;      // its input so far (preroll included)
  std::vector<std::int16_t> zeros_;

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<job> queue_;
  std::size_t running_ = 0;
  std::map<std::int64_t, std::string> done_;  // index -> kept ADTS frames
  std::int64_t reused_ = 0;
  maybe_error failure_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace postroll
