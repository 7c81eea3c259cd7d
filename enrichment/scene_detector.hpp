// Finds where a screen recording changes scene (a window switch, a page
// change, a new slide) from small grey thumbnails of sampled frames.
//
// Screen content defeats the usual "mean difference" scene metric: a
// switch between two light pages moves the mean little, and scrolling
// changes every frame. So a picture is compared with the previous one at
// the vertical shift that matches best: scrolling is explained by a shift
// and scores low; a switch is explained by none and scores high. A
// blinking cursor or typing changes too few thumbnail pixels to count. A
// page with little on it that changes its background tint (sparse slides,
// one app to another) counts by the tint rule. On a sparse page (slides
// of one template: white, a title, a few lines) new words change few
// pixels of the picture but many of its text: the sparse-page rule.
#pragma once

#include <cstdint>
#include <vector>

#include "pipelines/frame_dedup.hpp"

namespace postroll {

struct scene_options {
  int thumb_width = 96;    ///< columns of the grey thumbnail
  int thumb_height = 180;  ///< rows: fine enough that a scroll is a whole-row shift
  /// A thumbnail pixel counts as changed when it moved by more than this.
  int tolerance = 24;
  /// A cut when at least this fraction of pixels changed at the best shift.
  double cut_fraction = 0.035;
  /// Shifts tried: up to this fraction of the height each way.
  double max_shift = 0.6;
  /// A new background tint: at least `tint_share` of the pixels moved the
  /// same way by at least `tint_delta` levels (white page to a pale blue
  /// app). Too small for `tolerance`, but the whole screen moved together;
  /// encoder noise moves pixels by a level or two, both ways.
  int tint_delta = 5;
  double tint_share = 0.6;
  /// A sparse page (text on less than `sparse_page` of it, e.g. slides of
  /// one template) whose words changed: at least `text_change` of its text
  /// pixels changed at the best shift, and at least `text_min` of the
  /// picture (more than a few typed characters).
  double sparse_page = 0.25;
  double text_change = 0.3;
  double text_min = 0.004;
};

/// A grey thumbnail (box-averaged luma).
struct thumbnail {
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;
};

thumbnail make_thumbnail(const luma_view& frame, const scene_options& o = {});

/// Fraction of pixels changed between `a` and `b` at the vertical shift
/// that explains the change best (0 = same picture, 1 = all changed), and
/// that shift in rows.
struct change_score {
  double fraction = 0;
  int shift = 0;
  double content = 0;  ///< share of the picture that is not background (either picture)
};
change_score compare(const thumbnail& a, const thumbnail& b, const scene_options& o = {});

/// Feeds frames in time order; says which ones start a new scene.
class scene_detector {
public:
  explicit scene_detector(scene_options o = {}) : o_(o) {}
  /// @returns true when `frame` starts a new scene (never for the first).
  bool push(const luma_view& frame, change_score* score = nullptr);

private:
  scene_options o_;
  thumbnail previous_;
};

}  // namespace postroll
