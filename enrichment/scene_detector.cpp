#include "enrichment/scene_detector.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace postroll {

thumbnail make_thumbnail(const luma_view& f, const scene_options& o) {
  thumbnail t;
  t.width = std::min(o.thumb_width, std::max(1, f.width));
  t.height = std::min(o.thumb_height, std::max(1, f.height));
  t.pixels.resize(std::size_t(t.width) * t.height);
  for (int ty = 0; ty < t.height; ++ty) {
    int y0 = ty * f.height / t.height, y1 = std::max(y0 + 1, (ty + 1) * f.height / t.height);
    for (int tx = 0; tx < t.width; ++tx) {
      int x0 = tx * f.width / t.width, x1 = std::max(x0 + 1, (tx + 1) * f.width / t.width);
      // Every other column within a cell: plenty for an average, half the reads.
      std::uint32_t sum = 0, n = 0;
      for (int y = y0; y < y1; ++y) {
        const auto* row = f.data + std::size_t(y) * f.stride;
        for (int x = x0; x < x1; x += 2, ++n)
          sum += row[x];
      }
      t.pixels[std::size_t(ty) * t.width + tx] = std::uint8_t(sum / std::max<std::uint32_t>(1, n));
    }
  }
  return t;
}

namespace {
// Changed fraction with `b` moved down by `shift` rows against `a`, over
// the rows both cover. A pixel counts as changed only if it lies outside
// the range of the matching pixel and the ones just above and below (by
// more than the tolerance): a scroll by part of a thumbnail row leaves
// values between two rows, and must not read as a change.
double changed_at(const thumbnail& a, const thumbnail& b, int shift, int tolerance) {
  int rows = a.height - std::abs(shift);
  if (rows <= 0)
    return 1.0;
  std::size_t changed = 0;
  for (int y = 0; y < rows; ++y) {
    int ya = shift >= 0 ? y : y - shift;
    int yb = shift >= 0 ? y + shift : y;
    const auto* pa = &a.pixels[std::size_t(ya) * a.width];
    const auto* pb = &b.pixels[std::size_t(yb) * b.width];
    const auto* up = &b.pixels[std::size_t(std::max(0, yb - 1)) * b.width];
    const auto* down = &b.pixels[std::size_t(std::min(b.height - 1, yb + 1)) * b.width];
    for (int x = 0; x < a.width; ++x) {
      int v = pa[x];
      int lo = std::min({int(pb[x]), int(up[x]), int(down[x])});
      int hi = std::max({int(pb[x]), int(up[x]), int(down[x])});
      changed += v < lo - tolerance || v > hi + tolerance;
    }
  }
  return double(changed) / double(std::size_t(rows) * a.width);
}

// Share of pixels that moved the same way (up or down) by >= delta.
double tint_moved(const thumbnail& a, const thumbnail& b, int delta) {
  std::size_t up = 0, down = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) {
    int d = int(b.pixels[i]) - int(a.pixels[i]);
    up += d >= delta;
    down += d <= -delta;
  }
  return double(std::max(up, down)) / double(a.pixels.size());
}
}  // namespace

namespace {
// The background level (the most common one, in bins of 4 levels) and
// the count of pixels away from it by more than `tolerance`.
std::size_t content_pixels(const thumbnail& t, int tolerance) {
  std::array<std::size_t, 64> bins{};
  for (auto v : t.pixels)
    ++bins[v >> 2];
  int bg = int(std::max_element(bins.begin(), bins.end()) - bins.begin()) * 4 + 2;
  std::size_t n = 0;
  for (auto v : t.pixels)
    n += std::abs(int(v) - bg) > tolerance;
  return n;
}

change_score best_shift(const thumbnail& a, const thumbnail& b, change_score best, const scene_options& o) {
  // Only a shift that leaves enough rows to judge counts (a third of the
  // picture at least), so a blank band cannot "match" anything.
  int max_shift = std::min(int(a.height * o.max_shift), a.height * 2 / 3);
  for (int s = 1; s <= max_shift && best.fraction > 0; ++s)
    for (int shift : {s, -s}) {
      auto f = changed_at(a, b, shift, o.tolerance);
      if (f < best.fraction)
        best = {f, shift};
    }
  return best;
}
}  // namespace

change_score compare(const thumbnail& a, const thumbnail& b, const scene_options& o) {
  if (a.width != b.width || a.height != b.height || a.pixels.empty())
    return {1.0, 0};
  change_score best{changed_at(a, b, 0, o.tolerance), 0};
  if (best.fraction >= o.cut_fraction)
    return best_shift(a, b, best, o);
  // The common case: little changed. Unless the whole picture changed
  // tint (a scroll does not change the background)...
  auto tint = tint_moved(a, b, o.tint_delta);
  if (tint >= o.tint_share) {
    best.fraction = std::max(o.cut_fraction, tint * o.cut_fraction / o.tint_share);
    return best;
  }
  if (best.fraction < o.text_min)
    return best;
  // ...or a sparse page's words changed (and no scroll explains it).
  auto pixels = double(a.pixels.size());
  auto content = double(std::max(content_pixels(a, o.tolerance), content_pixels(b, o.tolerance))) / pixels;
  if (content >= o.sparse_page)
    return best;
  best = best_shift(a, b, best, o);
  best.content = content;
  if (best.fraction >= o.text_min && best.fraction >= o.text_change * content)
    best.fraction = std::max(o.cut_fraction, best.fraction);
  return best;
}

bool scene_detector::push(const luma_view& frame, change_score* score) {
  auto t = make_thumbnail(frame, o_);
  bool cut = false;
  change_score s;
  if (!previous_.pixels.empty()) {
    s = compare(previous_, t, o_);
    cut = s.fraction >= o_.cut_fraction;
  }
  if (score)
    *score = s;
  previous_ = std::move(t);
  return cut;
}

}  // namespace postroll
