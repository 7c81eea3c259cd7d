#include "apps/progress_bar.hpp"

#include <algorithm>

#include "postroll/stages.hpp"

#include <unistd.h>

namespace postroll::cli {

progress_bar::progress_bar(int stages, std::FILE* out)
  : out_(out), tty_(::isatty(::fileno(out)) != 0), stages_(stages) {}

void progress_bar::update(const event& e) {
  if (e.kind == events::stage_started) {
    // A retry is the same stage again: it keeps its number (not "4/3").
    auto known = seen_.find(e.stage);
    int index = known == seen_.end() ? ++started_ : known->second.index;
    auto& s = seen_[e.stage];
    s = stage_view{};
    s.index = index;
  } else if (e.kind == events::stage_progress && e.stage == stage_live) {
    // While it records there is no fraction: the line says what arrived.
    draw_live(e.message);
    return;
  } else if (e.kind == events::stage_progress || e.kind == events::stage_completed) {
    auto it = seen_.find(e.stage);
    if (it == seen_.end())
      return;
    it->second.done = e.kind == events::stage_completed;
    it->second.fraction = it->second.done ? 1.0 : e.progress;
    it->second.eta_ms = e.eta_ms;
  } else {
    return;
  }
  draw(e.stage);
}

void progress_bar::draw(const std::string& stage) {
  auto eta_text = [](std::int64_t ms) { return ms >= 0 ? " eta " + std::to_string((ms + 999) / 1000) + "s" : std::string{}; };
  if (!tty_) {
    auto& s = seen_[stage];
    int pct = int(s.fraction * 100 + 0.5);
    int decile = pct / 10;
    if (decile == s.last_decile)
      return;
    s.last_decile = decile;
    // A live job's stages after its recording are counted once it planned them.
    auto total = s.index > stages_ ? std::string{"?"} : std::to_string(stages_);
    std::fprintf(out_, "progress %d/%s %s %d%%%s\n", s.index, total.c_str(), stage.c_str(), pct, eta_text(s.eta_ms).c_str());
    std::fflush(out_);
    return;
  }
  // The whole job: finished stages count whole, running ones by fraction.
  double total = 0;
  std::int64_t eta = -1;
  std::string running;
  for (const auto& [name, s] : seen_) {
    total += s.fraction;
    if (!s.done) {
      running += (running.empty() ? "" : " + ") + name;
      eta = std::max(eta, s.eta_ms);
    }
  }
  double fraction = stages_ > 0 ? std::min(1.0, total / stages_) : 0;
  constexpr int width = 30;
  int filled = int(fraction * width + 0.5);
  std::string bar(size_t(filled), '#');
  bar.append(size_t(width - filled), '-');
  int done = int(std::count_if(seen_.begin(), seen_.end(), [](const auto& s) { return s.second.done; }));
  std::fprintf(out_, "\r\033[K[%s] %3d%%  %d/%d %s%s", bar.c_str(), int(fraction * 100 + 0.5), done, stages_,
               running.empty() ? stage.c_str() : running.c_str(), eta_text(eta).c_str());
  drawn_ = true;
  std::fflush(out_);
}

void progress_bar::draw_live(const std::string& note) {
  if (note.empty() || note == live_note_)
    return;
  live_note_ = note;
  auto now = std::chrono::steady_clock::now();
  if (!tty_) {
    // A log, not a screen: a line every 2 s at most.
    if (now - live_printed_ < std::chrono::seconds(2))
      return;
    live_printed_ = now;
    std::fprintf(out_, "live %s\n", note.c_str());
  } else {
    std::fprintf(out_, "\r\033[K[%s] %s", "live", note.c_str());
    drawn_ = true;
  }
  std::fflush(out_);
}

void progress_bar::finish() {
  if (tty_ && drawn_)
    std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace postroll::cli
