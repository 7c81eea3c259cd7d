// Screen recordings are mostly still: most frames repeat the previous one.
// The compression stage drops those and writes variable frame rate, so the
// encoder only works when the screen changes. This is the comparison.
#pragma once

#include <cstdint>

namespace postroll {

/// An 8-bit luma plane.
struct luma_view {
  const std::uint8_t* data = nullptr;
  int stride = 0;
  int width = 0;
  int height = 0;
};

struct dedup_options {
  /// A pixel counts as changed when its luma moved by more than this
  /// (decoder noise on an unchanged screen stays well below).
  int tolerance = 10;
  /// A frame repeats the previous one when at most this many sampled pixels
  /// changed. A blinking text cursor (2 x 20 px) changes ~20 sampled pixels,
  /// so it counts as a change: only truly still frames are dropped.
  int max_changed = 6;
  int row_step = 2;  ///< compare every Nth row (text is taller than 2 rows)
  /// ... and when the mean luma difference stays at most this (a recorder
  /// re-quantising a still screen moves every pixel a little).
  double max_mean_drift = 0.5;
};

/// Whether `b` shows the same picture as `a` (same size required).
bool same_picture(const luma_view& a, const luma_view& b, const dedup_options& o = {});

}  // namespace postroll
