#include "enrichment/screen_text.hpp"

#include <cstring>

#include <algorithm>
#include <cctype>
#include <memory>

#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>

namespace postroll {

struct screen_reader::impl {
  tesseract::TessBaseAPI api;
};

screen_reader::screen_reader(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
screen_reader::screen_reader(screen_reader&&) noexcept = default;
screen_reader& screen_reader::operator=(screen_reader&&) noexcept = default;
screen_reader::~screen_reader() {
  if (impl_)
    impl_->api.End();
}

result<screen_reader> screen_reader::open(const std::string& language) {
  auto p = std::make_unique<impl>();
  if (p->api.Init(nullptr, language.c_str()) != 0)
    return error{errc::unavailable, "OCR: Tesseract has no trained data for \"" + language +
                                      "\" (Debian: apt install tesseract-ocr-" + language.substr(0, 3) + ")"};
  // Screens are ~96 dpi; saying so skips Tesseract's guess (and its warning).
  p->api.SetVariable("user_defined_dpi", "96");
  p->api.SetVariable("debug_file", "/dev/null");
  // Sparse text: screens scatter text over the picture (menus, headings,
  // panels); page layout analysis (PSM_AUTO) missed large bold headings.
  p->api.SetPageSegMode(tesseract::PSM_SPARSE_TEXT);
  return screen_reader{std::move(p)};
}

std::vector<text_line> screen_reader::read(const luma_view& picture, const cancel_token& cancel) {
  std::vector<text_line> out;
  auto& api = impl_->api;
  api.SetImage(picture.data, picture.width, picture.height, 1, picture.stride);
  tesseract::ETEXT_DESC monitor;
  monitor.cancel = [](void* token, int) { return static_cast<const cancel_token*>(token)->is_cancelled(); };
  monitor.cancel_this = const_cast<cancel_token*>(&cancel);
  if (api.Recognize(&monitor) != 0 || cancel.is_cancelled()) {
    api.Clear();
    return out;
  }
  // Word by word: a line's height is its median word height, which stays
  // right when Tesseract merges a title with the text beside it into one
  // tall line box.
  std::unique_ptr<tesseract::ResultIterator> it{api.GetIterator()};
  std::vector<int> heights;
  float conf_sum = 0;
  auto close_line = [&] {
    if (!out.empty() && !heights.empty()) {
      std::nth_element(heights.begin(), heights.begin() + std::ptrdiff_t(heights.size() / 2), heights.end());
      out.back().height = heights[heights.size() / 2];
      out.back().confidence = conf_sum / float(heights.size());
    }
    heights.clear();
    conf_sum = 0;
  };
  if (it) {
    do {
      std::unique_ptr<char[]> word{it->GetUTF8Text(tesseract::RIL_WORD)};
      if (!word || word[0] == 0)
        continue;
      int l = 0, t = 0, r = 0, b = 0;
      it->BoundingBox(tesseract::RIL_WORD, &l, &t, &r, &b);
      if (out.empty() || it->IsAtBeginningOf(tesseract::RIL_TEXTLINE)) {
        close_line();
        out.push_back(text_line{{}, t, 0, 0});
      }
      auto& line = out.back();
      line.text += (line.text.empty() ? "" : " ") + std::string{word.get()};
      line.top = std::min(line.top, t);
      heights.push_back(b - t);
      conf_sum += it->Confidence(tesseract::RIL_WORD);
    } while (it->Next(tesseract::RIL_WORD));
  }
  close_line();
  api.Clear();
  std::stable_sort(out.begin(), out.end(), [](const text_line& a, const text_line& b) { return a.top < b.top; });
  return out;
}

namespace {
int letters(const std::string& s) {
  return int(std::count_if(s.begin(), s.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }));
}

// Trims OCR debris (bullets, bars, quotes misread at the edges).
std::string clean(std::string s) {
  auto junk = [](char c) { return !std::isalnum(static_cast<unsigned char>(c)) && c != '(' && c != ')' && c != '"' && (static_cast<unsigned char>(c) < 0x80); };
  while (!s.empty() && (junk(s.front()) || std::isspace(static_cast<unsigned char>(s.front()))))
    s.erase(s.begin());
  while (!s.empty() && (junk(s.back()) || std::isspace(static_cast<unsigned char>(s.back()))))
    s.pop_back();
  if (s.size() > 80) {
    auto cut = s.rfind(' ', 80);
    s = s.substr(0, cut == std::string::npos || cut < 40 ? 80 : cut);
  }
  return s;
}
}  // namespace

// A line of code or window chrome rather than prose: many of its visible
// characters are brackets, operators or punctuation.
bool mostly_symbols(const std::string& text) {
  std::size_t visible = 0, symbols = 0;
  for (unsigned char c : text) {
    if (std::isspace(c))
      continue;
    ++visible;
    if (std::strchr("{}()[];=<>#*/\\|&^%$@~`+_:\"", c))
      ++symbols;
  }
  return visible == 0 || symbols * 100 >= visible * 12;
}

std::string title_line(const std::vector<text_line>& lines) {
  const text_line* best = nullptr;
  for (const auto& l : lines) {
    if (l.confidence < 55 || letters(l.text) < 3 || mostly_symbols(l.text))
      continue;
    // Clearly taller wins; within 10 % the higher one (titles sit on top).
    if (!best || l.height > best->height * 1.1)
      best = &l;
  }
  return best ? clean(best->text) : std::string{};
}

std::string screen_text(const std::vector<text_line>& lines, std::size_t max_chars) {
  std::string out;
  for (const auto& l : lines) {
    if (l.confidence < 40 || letters(l.text) < 2)
      continue;
    if (out.size() + l.text.size() + 1 > max_chars)
      break;
    out += (out.empty() ? "" : "\n") + l.text;
  }
  return out;
}

}  // namespace postroll
