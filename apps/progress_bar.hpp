// Shows a job's progress on stderr: a redrawn bar on a terminal (the whole
// job's progress, naming the stages running now — enrichment runs some in
// parallel), plain lines (one per stage and per 10%) when stderr is a file
// or a pipe.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "postroll/event.hpp"

namespace postroll::cli {

class progress_bar {
public:
  /// @param stages how many stages the job has (for "stage 2/3")
  explicit progress_bar(int stages, std::FILE* out = stderr);
  /// Updates the display with an event of the job.
  void update(const event& e);
  /// Ends the bar's line (call once the job ended).
  void finish();
  /// The job has this many stages now (a live job's plan grows when its
  /// recording ends).
  void set_stages(int stages) { stages_ = std::max(stages_, stages); }

private:
  struct stage_view {
    int index = 0;  ///< in start order, from 1
    double fraction = 0;
    std::int64_t eta_ms = -1;
    int last_decile = -1;
    bool done = false;
  };
  void draw(const std::string& stage);
  void draw_live(const std::string& note);
  std::FILE* out_;
  bool tty_;
  int stages_;
  int started_ = 0;
  std::map<std::string, stage_view> seen_;
  bool drawn_ = false;
  std::string live_note_;  // what the live follower said last
  std::chrono::steady_clock::time_point live_printed_{};
};

}  // namespace postroll::cli
