#include "enrichment/screen_text.hpp"

#include <cstring>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>
#include <sstream>

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

namespace {

// Starts Tesseract with `language`; @returns the languages it lacks.
// "eng+deu" starts as long as one of them loads: every one must, or text
// in a missing language would be read as nonsense, unsaid.
std::vector<std::string> start_ocr(tesseract::TessBaseAPI& api, const std::string& language) {
  auto wanted = ocr_languages(language);
  if (wanted.empty() || api.Init(nullptr, language.c_str()) != 0)
    return wanted.empty() ? std::vector<std::string>{language} : wanted;
  std::vector<std::string> loaded, missing;
  api.GetLoadedLanguagesAsVector(&loaded);
  for (const auto& lang : wanted)
    if (std::find(loaded.begin(), loaded.end(), lang) == loaded.end())
      missing.push_back(lang);
  return missing;
}

}  // namespace

std::vector<std::string> missing_ocr_languages(const std::string& language) {
  tesseract::TessBaseAPI api;
  auto missing = start_ocr(api, language);
  api.End();
  return missing;
}

result<screen_reader> screen_reader::open(const std::string& language) {
  auto p = std::make_unique<impl>();
  if (auto missing = start_ocr(p->api, language); !missing.empty()) {
    std::string names, packages;
    for (const auto& lang : missing) {
      names += (names.empty() ? "" : "+") + lang;
      packages += " tesseract-ocr-" + lang;
    }
    return error{errc::unavailable, "OCR: Tesseract has no trained data for \"" + names +
                                      "\" (Debian: apt install" + packages + ")"};
  }
  // Screens are ~96 dpi; saying so skips Tesseract's guess (and its warning).
  p->api.SetVariable("user_defined_dpi", "96");
  p->api.SetVariable("debug_file", "/dev/null");
  // Sparse text: screens scatter text over the picture (menus, headings,
  // panels); page layout analysis (PSM_AUTO) missed large bold headings.
  p->api.SetPageSegMode(tesseract::PSM_SPARSE_TEXT);
  return screen_reader{std::move(p)};
}

std::vector<std::string> ocr_languages(const std::string& language) {
  std::vector<std::string> out;
  std::stringstream parts{language};
  for (std::string lang; std::getline(parts, lang, '+');)
    if (!lang.empty())
      out.push_back(lang);
  return out;
}

std::string screen_reader::engine_version() { return tesseract::TessBaseAPI::Version(); }

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

namespace {
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

// A token that is a name in code, not a word: snake_case, a.member,
// ns::name, a file name, camelCase, a call.
bool identifier_like(const std::string& w) {
  auto alpha = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
  for (std::size_t i = 1; i + 1 < w.size(); ++i) {
    char c = w[i];
    if ((c == '_' || c == '.' || c == ':' || c == '>') && alpha(w[i - 1]) && (alpha(w[i + 1]) || w[i + 1] == ':'))
      return true;
    if (std::islower(static_cast<unsigned char>(w[i - 1])) && std::isupper(static_cast<unsigned char>(c)) && i >= 2)
      return true;
  }
  return w.find('(') != std::string::npos;
}

const std::set<std::string>& code_keywords() {
  static const std::set<std::string> k = {"#include", "include", "import", "from", "def", "class", "return",
                                          "const", "auto", "void", "int", "let", "var", "fn", "function",
                                          "public", "private", "static", "struct", "namespace", "using",
                                          "template", "package", "func", "if", "for", "while", "else"};
  return k;
}
}  // namespace

bool looks_like_code(const std::string& text) {
  if (mostly_symbols(text))
    return true;
  std::istringstream in(text);
  std::string w, first;
  int words = 0, names = 0;
  while (in >> w) {
    if (first.empty())
      first = w;
    if (letters(w) == 0)
      continue;
    ++words;
    names += identifier_like(w);
  }
  if (words > 0 && names * 3 >= words)
    return true;
  // `namespace postroll {`, `return x;`: a keyword, then some code symbol.
  return code_keywords().count(first) && text.find_first_of("{}();=<>*&") != std::string::npos;
}

std::string title_line(const std::vector<text_line>& lines, int picture_height) {
  // The page's text size: the height most lines have (within 10 %; the
  // smaller of equally common ones). Headings are few, body lines many.
  std::vector<int> heights;
  for (const auto& l : lines)
    if (letters(l.text) >= 2)
      heights.push_back(l.height);
  if (heights.empty())
    return {};
  int body = 0;
  std::size_t most = 0;
  for (int h : heights) {
    auto n = std::size_t(std::count_if(heights.begin(), heights.end(), [&](int o) { return std::abs(o - h) * 10 <= h; }));
    if (n > most || (n == most && h < body)) {
      most = n;
      body = h;
    }
  }
  // A title stands out: clearly taller than the page's text, unless the
  // page has hardly any (a title slide).
  bool few = heights.size() <= 3;
  auto candidate = [&](const text_line& l) {
    return l.confidence >= 55 && letters(l.text) >= 3 && !looks_like_code(l.text) &&
           (few || l.height * 100 >= body * 115);
  };
  // Near the top counts: text in the lower 40 % weighs 15 % less.
  auto weight = [&](const text_line& l) {
    return double(l.height) * (picture_height > 0 && l.top > picture_height * 6 / 10 ? 0.85 : 1.0);
  };
  const text_line* best = nullptr;
  for (const auto& l : lines) {
    if (!candidate(l))
      continue;
    // Clearly taller wins; within 10 % the higher one (titles sit on top).
    if (!best || weight(l) > weight(*best) * 1.1)
      best = &l;
  }
  if (!best)
    return {};
  // A heading wrapped over lines: the lines right under it of its size.
  std::string title = best->text;
  int bottom = best->top + best->height;
  for (const auto& l : lines) {
    if (&l == best || l.top <= best->top || l.top > bottom + best->height)
      continue;
    if (std::abs(l.height - best->height) * 100 > best->height * 15 || !candidate(l))
      break;
    title += " " + l.text;
    bottom = l.top + l.height;
  }
  return clean(title);
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
