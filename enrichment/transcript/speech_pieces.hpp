// The timeline cut into pieces a decoder can take on its own: at the
// silence between segments (runs of digital silence are dropped, not
// recognised), and, where speech runs on, at the quietest moment before a
// piece grows past its bound. Pieces depend on the audio only, never on how
// many decoders take them.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace postroll {

struct speech_piece {
  std::int64_t first_sample = 0;  ///< on the timeline (16 kHz)
  std::vector<std::int16_t> samples;
};

struct piece_limits {
  std::int64_t max_ms = 30000;   ///< no piece is longer
  std::int64_t min_ms = 10000;   ///< a long run of speech is not cut before this
  std::int64_t dead_ms = 300;    ///< digital silence this long ends a piece
  std::int64_t window_ms = 300;  ///< the quiet stretch a long piece is cut in
};

class piece_cutter {
public:
  using emit_fn = std::function<void(speech_piece&&)>;
  /// `rate` samples per second, mono.
  piece_cutter(emit_fn emit, int rate, piece_limits limits = {});
  /// Samples in timeline order; `first` is the index of samples[0]. A jump
  /// forward counts as silence.
  void feed(const std::int16_t* samples, std::size_t count, std::int64_t first);
  /// Emits what is left.
  void finish();

private:
  void frame_done();
  void emit(std::size_t end);
  void drop(std::size_t n);

  emit_fn emit_;
  std::size_t frame_;  // samples per 10 ms frame
  std::size_t max_frames_, min_frames_, dead_frames_, window_frames_;
  std::vector<std::int16_t> buf_;
  std::int64_t buf_start_ = 0;   // timeline index of buf_[0]
  std::vector<double> energy_;   // per complete frame of buf_
  std::size_t dead_run_ = 0;     // trailing frames of digital silence
  bool live_ = false;            // buf_ holds a frame that is not silence
};

}  // namespace postroll
