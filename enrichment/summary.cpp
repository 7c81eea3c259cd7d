#include "enrichment/summary.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "net/http_post.hpp"

namespace postroll {

using json = nlohmann::json;

namespace {

const std::set<std::string>& stopwords() {
  static const std::set<std::string> words = {
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "done", "down",
    "each", "few", "for", "from", "get", "got", "had", "has", "have", "having", "he", "her", "here", "him", "his",
    "how", "i", "if", "in", "into", "is", "it", "its", "just", "let", "like", "me", "more", "most", "my", "no",
    "not", "now", "of", "off", "ok", "okay", "on", "once", "one", "only", "or", "other", "our", "out", "over",
    "own", "really", "right", "said", "same", "see", "she", "should", "so", "some", "such", "than", "that", "the",
    "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "um", "uh", "under",
    "up", "us", "very", "was", "we", "well", "were", "what", "when", "where", "which", "while", "who", "why",
    "will", "with", "would", "yeah", "yes", "you", "your", "going", "gonna", "want", "know", "think", "thing",
    "things", "look", "go", "way", "make", "two", "three", "first", "next", "new"};
  return words;
}

std::vector<std::string> tokens(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'') {
      cur += char(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty())
    out.push_back(cur);
  return out;
}

bool content_word(const std::string& w) { return w.size() >= 3 && !stopwords().count(w); }

struct timed_text {
  std::int64_t start_ms = 0, end_ms = 0;
  std::string text;
};

std::vector<timed_text> utterances_of(const json& transcript) {
  std::vector<timed_text> out;
  if (!transcript.is_object() || !transcript.contains("utterances"))
    return out;
  for (const auto& u : transcript["utterances"])
    out.push_back({u.value("startMs", std::int64_t{0}), u.value("endMs", std::int64_t{0}), u.value("text", "")});
  return out;
}

std::vector<std::string> top_words(const std::vector<std::string>& words, std::size_t n) {
  std::map<std::string, int> freq;
  for (const auto& w : words)
    if (content_word(w))
      ++freq[w];
  std::vector<std::pair<std::string, int>> v(freq.begin(), freq.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size() && i < n; ++i)
    out.push_back(v[i].first);
  return out;
}

std::string first_words(const std::string& text, std::size_t n) {
  std::istringstream in(text);
  std::string w, out;
  for (std::size_t i = 0; i < n && in >> w; ++i)
    out += (out.empty() ? "" : " ") + w;
  if (!out.empty())
    out[0] = char(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

json extractive(const summary_inputs& in, const json& chapters, const summary_options& o) {
  auto utts = utterances_of(in.transcript);
  // Words said often across the session but not everywhere: an utterance's
  // score is the sum of its content words' session frequencies, damped by
  // its length so long rambles do not win by size alone.
  std::map<std::string, int> freq;
  for (const auto& u : utts)
    for (const auto& w : tokens(u.text))
      if (content_word(w))
        ++freq[w];
  std::vector<std::pair<double, std::size_t>> scored;
  for (std::size_t i = 0; i < utts.size(); ++i) {
    auto ws = tokens(utts[i].text);
    if (ws.size() < 4)
      continue;  // "okay", "so yes": not a summary sentence
    double s = 0;
    std::set<std::string> seen;
    for (const auto& w : ws)
      if (content_word(w) && seen.insert(w).second)
        s += std::log(1.0 + freq[w]);
    scored.push_back({s / std::sqrt(double(ws.size())), i});
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::size_t> picked;
  for (std::size_t i = 0; i < scored.size() && picked.size() < o.sentences; ++i)
    picked.push_back(scored[i].second);
  std::sort(picked.begin(), picked.end());

  std::string overview = (in.session_name.empty() ? std::string{"Session"} : in.session_name) + ": " +
                         clock_text(in.duration_ms) + " in " + std::to_string(chapters.size()) +
                         (chapters.size() == 1 ? " chapter" : " chapters");
  std::string titles;
  for (const auto& c : chapters)
    if (!c.value("title", "").empty())
      titles += (titles.empty() ? "" : "; ") + c.value("title", "");
  if (!titles.empty())
    overview += " — " + titles;
  overview += ".";
  json bullets = json::array();
  json moments = json::array();
  std::string text = overview;
  for (auto i : picked) {
    auto sentence = first_words(utts[i].text, 40);
    bullets.push_back({{"startMs", utts[i].start_ms}, {"text", sentence}});
    moments.push_back({{"timeMs", utts[i].start_ms}, {"kind", "speech"}, {"label", first_words(utts[i].text, 10)}});
    text += "\n- " + sentence + " (" + clock_text(utts[i].start_ms) + ")";
  }
  std::vector<std::string> all;
  for (const auto& u : utts)
    for (auto& w : tokens(u.text))
      all.push_back(std::move(w));
  for (const auto& c : chapters)
    for (auto& w : tokens(c.value("screenText", "")))
      all.push_back(std::move(w));
  return json{{"engine", "extractive"}, {"text", text}, {"overview", overview}, {"bullets", bullets},
              {"keyMoments", moments}, {"keywords", top_words(all, 8)}};
}

std::string chat_endpoint(const std::string& url) {
  const std::string tail = "/chat/completions";
  if (url.size() >= tail.size() && url.compare(url.size() - tail.size(), tail.size(), tail) == 0)
    return url;
  return (url.back() == '/' ? url.substr(0, url.size() - 1) : url) + tail;
}

result<std::string> chat_summary(const summary_inputs& in, const json& chapters, const summary_options& o,
                                 const cancel_token& cancel) {
  std::string material = "Session: " + in.session_name + " (" + clock_text(in.duration_ms) + ")\nChapters:\n";
  for (const auto& c : chapters)
    material += "- " + clock_text(c.value("startMs", std::int64_t{0})) + " " + c.value("title", "") + "\n";
  material += "Transcript:\n";
  for (const auto& u : utterances_of(in.transcript)) {
    if (material.size() > 24000)
      break;  // a bounded prompt: the start of a long session, plus the chapters
    material += "[" + clock_text(u.start_ms) + "] " + u.text + "\n";
  }
  json request = {{"model", o.chat_model},
                  {"messages",
                   {{{"role", "system"},
                     {"content", "You summarise recorded work sessions (screen recording with narration). Write a "
                                 "short overview sentence, then 3 to 6 bullet points with what was done and decided. "
                                 "Plain text."}},
                    {{"role", "user"}, {"content", material}}}},
                  {"temperature", 0.2}};
  std::vector<std::string> headers = {"Content-Type: application/json"};
  if (!o.chat_key_env.empty()) {
    const char* key = std::getenv(o.chat_key_env.c_str());
    if (!key || !*key)
      return error{errc::unavailable, "environment variable " + o.chat_key_env + " (the chat API key) is not set"};
    headers.push_back(std::string{"Authorization: Bearer "} + key);
  }
  auto r = http_post(chat_endpoint(o.chat_url), request.dump(), headers, o.chat_timeout_ms, &cancel.cancelled);
  if (!r)
    return r.err();
  if (r->status != 200)
    return error{errc::unavailable, "chat endpoint answered HTTP " + std::to_string(r->status)};
  auto answer = json::parse(r->body, nullptr, false);
  try {
    auto text = answer.at("choices").at(0).at("message").at("content").get<std::string>();
    if (text.empty())
      return error{errc::unavailable, "chat endpoint returned an empty summary"};
    return text;
  } catch (const json::exception&) {
    return error{errc::unavailable, "chat endpoint's answer has no choices[0].message.content"};
  }
}

}  // namespace

std::string clock_text(std::int64_t ms) {
  auto s = std::max<std::int64_t>(0, ms / 1000);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  return buf;
}

namespace {
// The chapter an utterance belongs to: the one it overlaps most (an
// utterance straddling a cut counts once, where most of it was said).
std::vector<std::vector<const timed_text*>> utterances_by_chapter(const json& list,
                                                                   const std::vector<timed_text>& utts) {
  std::vector<std::vector<const timed_text*>> out(list.size());
  for (const auto& u : utts) {
    std::int64_t best = 0;
    std::size_t at = list.size();
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto from = list[i].value("startMs", std::int64_t{0}), to = list[i].value("endMs", std::int64_t{0});
      auto overlap = std::min(u.end_ms, to) - std::max(u.start_ms, from);
      if (overlap > best) {
        best = overlap;
        at = i;
      }
    }
    if (at < list.size())
      out[at].push_back(&u);
  }
  return out;
}

// The chapter's key phrase from speech: the run of at most six words of
// one utterance, beginning and ending with a content word, whose content
// words are most particular to the chapter (said in it, rarely elsewhere).
std::string key_phrase(const std::vector<const timed_text*>& said, const std::map<std::string, int>& chapters_with,
                       std::size_t chapters) {
  std::map<std::string, int> here;
  for (const auto* u : said)
    for (const auto& w : tokens(u->text))
      if (content_word(w))
        ++here[w];
  auto weight = [&](const std::string& w) {
    auto it = chapters_with.find(w);
    double spread = it == chapters_with.end() ? 1 : it->second;
    return std::log(1.0 + here[w]) * std::log(1.0 + double(chapters) / spread);
  };
  double best = 0;
  std::string phrase;
  for (const auto* u : said) {
    std::istringstream in(u->text);
    std::vector<std::string> shown;
    for (std::string w; in >> w;)
      shown.push_back(w);
    std::vector<std::string> plain;
    for (const auto& w : shown) {
      auto t = tokens(w);
      plain.push_back(t.empty() ? std::string{} : t[0]);
    }
    for (std::size_t i = 0; i < plain.size(); ++i) {
      if (!content_word(plain[i]))
        continue;
      double score = 0;
      std::set<std::string> seen;
      for (std::size_t j = i; j < plain.size() && j < i + 6; ++j) {
        if (!content_word(plain[j]))
          continue;
        if (seen.insert(plain[j]).second)
          score += weight(plain[j]);
        // Longer phrases must earn their words: a small cost per word.
        double s = score - 0.05 * double(j - i);
        if (s > best) {
          best = s;
          phrase.clear();
          for (std::size_t k = i; k <= j; ++k)
            phrase += (phrase.empty() ? "" : " ") + shown[k];
        }
      }
    }
  }
  while (!phrase.empty() && std::ispunct(static_cast<unsigned char>(phrase.back())))
    phrase.pop_back();
  if (!phrase.empty())
    phrase[0] = char(std::toupper(static_cast<unsigned char>(phrase[0])));
  return phrase;
}
}  // namespace

json titled_chapters(const summary_inputs& in) {
  json out = json::array();
  auto utts = utterances_of(in.transcript);
  const json* list = in.chapters.is_object() && in.chapters.contains("chapters") ? &in.chapters["chapters"] : nullptr;
  if (!list || !list->is_array())
    return out;
  auto by_chapter = utterances_by_chapter(*list, utts);
  std::map<std::string, int> chapters_with;  // content word -> chapters it is said in
  for (const auto& said : by_chapter) {
    std::set<std::string> words;
    for (const auto* u : said)
      for (auto& w : tokens(u->text))
        if (content_word(w))
          words.insert(std::move(w));
    for (const auto& w : words)
      ++chapters_with[w];
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    json c = (*list)[i];
    std::vector<std::string> words;
    for (const auto* u : by_chapter[i])
      for (auto& w : tokens(u->text))
        words.push_back(std::move(w));
    c["keywords"] = top_words(words, 4);
    c["titleSource"] = "screen";
    if (c.value("title", "").empty()) {
      c["title"] = key_phrase(by_chapter[i], chapters_with, list->size());
      c["titleSource"] = "speech";
      if (c["title"].get<std::string>().empty()) {
        c["title"] = "Chapter " + std::to_string(c.value("index", 0));
        c["titleSource"] = "none";
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

result<json> summarize(const summary_inputs& in, const summary_options& o, const cancel_token& cancel) {
  auto chapters = titled_chapters(in);
  auto out = extractive(in, chapters, o);
  out["chapters"] = chapters;
  out["durationMs"] = in.duration_ms;
  if (!o.chat_url.empty()) {
    auto chat = chat_summary(in, chapters, o, cancel);
    if (chat) {
      out["engine"] = "chat";
      out["model"] = o.chat_model;
      out["text"] = *chat;
    } else if (chat.err().code == errc::cancelled) {
      return chat.err();
    } else {
      spdlog::warn("summary: chat endpoint failed ({}); using the extractive summary", chat.err().message);
      out["fallbackReason"] = chat.err().message;
    }
  }
  return out;
}

}  // namespace postroll
