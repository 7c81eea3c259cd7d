// Reading the text on screen (Tesseract OCR) and picking the line that
// names what is shown: the tallest confidently read line, which on a page,
// a slide or a document is its title.
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
class screen_reader {
public:
  /// `language`: Tesseract language(s), e.g. "eng" or "eng+deu".
  static result<screen_reader> open(const std::string& language);
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

/// The line that best names a screen: the tallest line with at least three
/// letters read with confidence >= 55 (the topmost of equally tall ones),
/// cleaned of stray symbols and cut to 80 characters; "" if none.
std::string title_line(const std::vector<text_line>& lines);

/// All lines joined with newlines (confidence >= 40), at most `max_chars`.
std::string screen_text(const std::vector<text_line>& lines, std::size_t max_chars = 2000);

}  // namespace postroll
