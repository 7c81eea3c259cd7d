// A storyboard image: pictures in a grid, each with a caption, under a
// heading — one GStreamer pipeline (compositor, textoverlay, jpegenc/pngenc).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "postroll/error.hpp"

namespace postroll {

struct storyboard_tile {
  std::optional<std::filesystem::path> picture;  ///< JPEG or PNG; none = a dark tile
  std::string caption;
};

struct storyboard_layout {
  int columns = 4;
  int tile_width = 480, tile_height = 270;
  int gap = 12;
  int heading_height = 64;
};

/// The grid for `tiles` tiles: at most 4 columns, as square as it gets.
storyboard_layout layout_for(std::size_t tiles);

/// Writes the storyboard to `file` (.jpg or .png, by extension).
maybe_error write_storyboard(const std::vector<storyboard_tile>& tiles, const std::string& heading,
                             const storyboard_layout& layout, const std::filesystem::path& file);

/// The image size for a layout and tile count.
std::pair<int, int> storyboard_size(const storyboard_layout& layout, std::size_t tiles);

}  // namespace postroll
