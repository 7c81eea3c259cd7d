// Shows a job's progress on stderr: a redrawn bar on a terminal, plain lines
// (one per stage and per 10%) when stderr is a file or a pipe.
#pragma once

#include <chrono>
#include <cstdio>
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

private:
  void draw();
  std::FILE* out_;
  bool tty_;
  int stages_;
  int stage_index_ = 0;
  std::string stage_;
  double fraction_ = 0;
  std::int64_t eta_ms_ = -1;
  int last_decile_ = -1;
  bool drawn_ = false;
};

}  // namespace postroll::cli
