#include "pipelines/frame_dedup.hpp"

#include <algorithm>
#include <cstring>

namespace postroll {

bool same_picture(const luma_view& a, const luma_view& b, const dedup_options& o) {
  if (a.width != b.width || a.height != b.height)
    return false;
  int changed = 0;
  std::int64_t drift = 0, sampled = 0;
  for (int y = 0; y < a.height; y += o.row_step) {
    sampled += a.width;
    const auto* ra = a.data + std::size_t(y) * std::size_t(a.stride);
    const auto* rb = b.data + std::size_t(y) * std::size_t(b.stride);
    // A still screen decodes to bit-identical rows (skipped macroblocks are
    // copies): the fast path.
    if (std::memcmp(ra, rb, std::size_t(a.width)) == 0)
      continue;
    int row_changed = 0, row_drift = 0;
    for (int x = 0; x < a.width; ++x) {
      int d = int(ra[x]) - int(rb[x]);
      row_changed += (d > o.tolerance) | (d < -o.tolerance);
      row_drift += d < 0 ? -d : d;
    }
    changed += row_changed;
    drift += row_drift;
    if (changed > o.max_changed)
      return false;
  }
  // Many pixels moving a little (a recorder's encoder refining or
  // re-quantising a still screen) is a change too, of the whole picture.
  return double(drift) <= o.max_mean_drift * double(std::max<std::int64_t>(1, sampled));
}

}  // namespace postroll
