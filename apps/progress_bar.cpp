#include "apps/progress_bar.hpp"

#include <unistd.h>

namespace postroll::cli {

progress_bar::progress_bar(int stages, std::FILE* out)
  : out_(out), tty_(::isatty(::fileno(out)) != 0), stages_(stages) {}

void progress_bar::update(const event& e) {
  if (e.kind == events::stage_started) {
    stage_ = e.stage;
    ++stage_index_;
    fraction_ = 0;
    eta_ms_ = -1;
    last_decile_ = -1;
  } else if (e.kind == events::stage_progress || e.kind == events::stage_completed) {
    if (e.stage != stage_)
      return;
    fraction_ = e.kind == events::stage_completed ? 1.0 : e.progress;
    eta_ms_ = e.eta_ms;
  } else {
    return;
  }
  draw();
}

void progress_bar::draw() {
  int pct = int(fraction_ * 100 + 0.5);
  std::string eta = eta_ms_ >= 0 ? " eta " + std::to_string((eta_ms_ + 999) / 1000) + "s" : "";
  if (tty_) {
    constexpr int width = 30;
    int filled = int(fraction_ * width + 0.5);
    std::string bar(size_t(filled), '#');
    bar.append(size_t(width - filled), '-');
    std::fprintf(out_, "\r\033[K[%s] %3d%%  %d/%d %s%s", bar.c_str(), pct, stage_index_, stages_,
                 stage_.c_str(), eta.c_str());
    drawn_ = true;
  } else {
    int decile = pct / 10;
    if (decile == last_decile_)
      return;
    last_decile_ = decile;
    std::fprintf(out_, "progress %d/%d %s %d%%%s\n", stage_index_, stages_, stage_.c_str(), pct,
                 eta.c_str());
  }
  std::fflush(out_);
}

void progress_bar::finish() {
  if (tty_ && drawn_)
    std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace postroll::cli
