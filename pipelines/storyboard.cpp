#include "pipelines/storyboard.hpp"

#include <algorithm>
#include <cmath>

#include "pipelines/gst_support.hpp"
#include "session/output_file.hpp"
#include "session/manifest.hpp"

namespace postroll {

namespace {
// textoverlay reads Pango markup; control characters (a NUL would end the
// C string) never reach it.
std::string markup_escape(const std::string& s) {
  std::string out;
  for (char c : one_line(s)) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}
}  // namespace

storyboard_layout layout_for(std::size_t tiles) {
  storyboard_layout l;
  l.columns = int(std::clamp<double>(std::ceil(std::sqrt(double(std::max<std::size_t>(1, tiles)))), 1, 4));
  return l;
}

std::pair<int, int> storyboard_size(const storyboard_layout& l, std::size_t tiles) {
  int rows = int((std::max<std::size_t>(1, tiles) + l.columns - 1) / l.columns);
  // At least ~960 px wide: the heading (name, length, chapters) must fit
  // even over a single tile.
  int w = std::max(960, l.columns * l.tile_width + (l.columns + 1) * l.gap);
  int h = l.heading_height + rows * l.tile_height + (rows + 1) * l.gap;
  return {w & ~1, h & ~1};
}

maybe_error write_storyboard(const std::vector<storyboard_tile>& tiles, const std::string& heading,
                             const storyboard_layout& l, const std::filesystem::path& file) {
  gst::ensure_init();
  auto [w, h] = storyboard_size(l, tiles.size());
  bool png = file.extension() == ".png";
  // The description holds postroll's element names and numbers only; file
  // names and texts (a session's name, chapter titles) are set as element
  // properties afterwards, so none of them can ever be read as pipeline
  // syntax (docs/security.md).
  std::string pads, sources;
  std::vector<gst::property> props;
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    int col = int(i) % l.columns, row = int(i) / l.columns;
    int x = l.gap + col * (l.tile_width + l.gap), y = l.heading_height + l.gap + row * (l.tile_height + l.gap);
    auto n = std::to_string(i);
    auto pad = "sink_" + n;
    // One caption line per tile: long titles are cut (the full title is
    // in canvas.json).
    auto caption = one_line(tiles[i].caption);
    if (caption.size() > 52) {
      caption.resize(49);
      while (!caption.empty() && (static_cast<unsigned char>(caption.back()) & 0xC0) == 0x80)
        caption.pop_back();  // never cut inside a UTF-8 character
      if (!caption.empty())
        caption.pop_back();
      caption += "...";
    }
    pads += " " + pad + "::xpos=" + std::to_string(x) + " " + pad + "::ypos=" + std::to_string(y);
    auto size = "video/x-raw,format=AYUV,width=" + std::to_string(l.tile_width) +
                ",height=" + std::to_string(l.tile_height) + ",pixel-aspect-ratio=1/1";
    std::string source;
    if (tiles[i].picture) {
      source = "filesrc name=picture" + n + " ! decodebin ! videoconvert ! videoscale add-borders=true ! " + size;
      props.push_back({"picture" + n, "location", tiles[i].picture->string()});
    } else {
      source = "videotestsrc pattern=solid-color foreground-color=0xff303030 num-buffers=1 ! " + size;
    }
    // auto-resize=false: textoverlay otherwise scales fonts with the
    // picture's size (a 2000 px canvas got a heading over the tiles).
    sources += " " + source + " ! imagefreeze num-buffers=1 ! textoverlay name=caption" + n +
               " auto-resize=false valignment=bottom halignment=left font-desc=\"Sans 13\" shaded-background=true"
               " shading-value=200 wrap-mode=none ! videoconvert ! c.sink_" + n;
    props.push_back({"caption" + n, "text", markup_escape(caption)});
  }
  auto description = "compositor name=c background=black" + pads + " ! video/x-raw,format=AYUV,width=" +
                     std::to_string(w) + ",height=" + std::to_string(h) +
                     ",framerate=1/1 ! videoconvert ! textoverlay name=heading auto-resize=false wrap-mode=none"
                     " valignment=top halignment=left font-desc=\"Sans Bold 22\" ypad=18 xpad=16 ! videoconvert ! " +
                     (png ? "pngenc" : "jpegenc quality=88") + " ! filesink name=sink" + sources;
  props.push_back({"heading", "text", markup_escape(heading)});
  props.push_back({"sink", "location", partial_path(file).string()});
  auto pipeline = gst::parse(description, "storyboard " + file.string(), props);
  if (!pipeline)
    return pipeline.err();
  // The filesink writes partial_path(file): this thread's partial, which
  // write_atomically commits or removes.
  auto drawn = write_atomically(file, [&](const std::filesystem::path&) -> result<bool> {
    cancel_token never;
    if (auto err = gst::run(pipeline->get(), never))
      return error{errc::media, file.string() + ": cannot draw the storyboard: " + err->message};
    return true;
  });
  if (!drawn)
    return drawn.err();
  return std::nullopt;
}

}  // namespace postroll
