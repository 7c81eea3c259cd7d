// Reading the text on screen (Tesseract OCR) and picking the line that
// names what is shown: the largest prose text near the top, which on a
// page, a slide or a document is its title.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipelines/frame_dedup.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

struct text_line {
  std::string text;
  int top = 0, height = 0;  ///< pixels
  float confidence = 0;     ///< 0..100
};

/// One OCR engine (not thread-safe; one per stage run).
/// The languages of a Tesseract language setting: "eng+deu" -> eng, deu
/// (Debian ships each as tesseract-ocr-<language>).
std::vector<std::string> ocr_languages(const std::string& language);

/// Those of `language`'s languages Tesseract has no trained data for here.
std::vector<std::string> missing_ocr_languages(const std::string& language);

class screen_reader {
public:
  /// `language`: Tesseract language(s), e.g. "eng" or "eng+deu".
  static result<screen_reader> open(const std::string& language);
  /// "5.3.0": the Tesseract library this process runs with.
  static std::string engine_version();
  screen_reader(screen_reader&&) noexcept;
  screen_reader& operator=(screen_reader&&) noexcept;
  ~screen_reader();

  /// The text lines of a full-resolution luma picture, top to bottom.
  /// Stops early (returns what it has) when `cancel` is set.
  std::vector<text_line> read(const luma_view& picture, const cancel_token& cancel);

private:
  struct impl;
  explicit screen_reader(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// The line that best names a screen: the largest text near the top (a
/// line clearly taller than the page's median line, text in the lower 40 %
/// of a `picture_height` tall picture weighing less), with at least three
/// letters read with confidence >= 55 and not code or window chrome
/// (looks_like_code), joined with the lines of its size right under it (a
/// wrapped heading), cleaned of stray symbols and cut to 80 characters;
/// "" if the screen has no such line (a code editor, a terminal).
std::string title_line(const std::vector<text_line>& lines, int picture_height = 0);

/// A line of code, a file name or window chrome rather than prose: mostly
/// brackets and operators, a third of its words names in code
/// (snake_case, a.b, ns::x, camelCase, calls), or a code keyword followed by
/// code punctuation.
bool looks_like_code(const std::string& text);

/// All lines joined with newlines (confidence >= 40), at most `max_chars`.
std::string screen_text(const std::vector<text_line>& lines, std::size_t max_chars = 2000);

}  // namespace postroll
