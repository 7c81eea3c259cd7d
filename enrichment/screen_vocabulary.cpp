#include "enrichment/screen_vocabulary.hpp"

#include <algorithm>
#include <cctype>

namespace postroll {

namespace {
constexpr std::size_t max_chapter_words = 400;    // a page of code: its words say little
constexpr std::size_t max_session_words = 2000;
}  // namespace

std::vector<std::string> screen_words(const std::string& text) {
  std::vector<std::string> out;
  std::string w;
  auto flush = [&] {
    if (w.size() >= 3 && w.size() <= 24)
      out.push_back(w);
    w.clear();
  };
  for (unsigned char ch : text) {
    if (std::isalpha(ch) || (ch == '\'' && !w.empty()))
      w += char(std::tolower(ch));
    else
      flush();
  }
  flush();
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<screen_vocabulary> screen_vocabulary::of(const std::vector<screen_span>& spans, double weight) {
  if (weight <= 0)
    return std::nullopt;
  screen_vocabulary v;
  v.weight_ = weight;
  std::vector<std::string> all;
  for (const auto& s : spans) {
    span sp{s.start_ms, s.end_ms, screen_words(s.text)};
    if (sp.words.size() > max_chapter_words)
      sp.words.resize(max_chapter_words);
    all.insert(all.end(), sp.words.begin(), sp.words.end());
    v.spans_.push_back(std::move(sp));
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  v.all_ = all.size();
  if (all.empty())
    return std::nullopt;
  return v;
}

std::optional<screen_vocabulary> screen_vocabulary::of_chapters(const nlohmann::json& chapters, double weight) {
  if (!chapters.is_object() || !chapters.contains("chapters") || !chapters["chapters"].is_array())
    return std::nullopt;
  std::vector<screen_span> spans;
  for (const auto& ch : chapters["chapters"]) {
    if (!ch.is_object())
      continue;
    screen_span s;
    s.start_ms = ch.value("startMs", std::int64_t{0});
    s.end_ms = ch.value("endMs", s.start_ms);
    s.text = ch.value("screenText", std::string{});
    spans.push_back(std::move(s));
  }
  return of(spans, weight);
}

vocabulary_bias screen_vocabulary::operator()(std::int64_t start_ms, std::int64_t end_ms, std::string& key) const {
  vocabulary_bias b;
  b.weight = weight_;
  std::int64_t best = 0;
  std::size_t seen = 0;  // spans started before the piece ends
  std::string chapter = "none";
  for (std::size_t i = 0; i < spans_.size() && spans_[i].start_ms < end_ms; ++i) {
    seen = i + 1;
    auto overlap = std::min(end_ms, spans_[i].end_ms) - std::max(start_ms, spans_[i].start_ms);
    if (overlap > best) {
      best = overlap;
      b.words = spans_[i].words;
      chapter = std::to_string(i);
    }
  }
  for (std::size_t i = 0; i < seen; ++i)
    b.background.insert(b.background.end(), spans_[i].words.begin(), spans_[i].words.end());
  std::sort(b.background.begin(), b.background.end());
  b.background.erase(std::unique(b.background.begin(), b.background.end()), b.background.end());
  if (b.background.size() > max_session_words)
    b.background.resize(max_session_words);
  key = chapter + "/" + std::to_string(seen);
  return b;
}

}  // namespace postroll
