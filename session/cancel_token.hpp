// Stopping and following long work on a session (a pipeline, an enricher,
// retention): a flag the owner sets and the work polls, and a progress
// callback. No GStreamer here, so every layer can use them.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

namespace postroll {

/// Set by the owner of a run to stop it; the work polls it at least every 100 ms.
/// It also carries a line the run shows beside its progress (a live
/// job's "transcript 42 s behind"), which the owner reads on its beat.
struct cancel_token {
  std::atomic<bool> cancelled{false};
  void cancel() { cancelled.store(true); }
  bool is_cancelled() const { return cancelled.load(); }

  void set_note(std::string text) const {
    std::lock_guard<std::mutex> lock{note_mutex_};
    note_ = std::move(text);
  }
  std::string note() const {
    std::lock_guard<std::mutex> lock{note_mutex_};
    return note_;
  }

private:
  mutable std::mutex note_mutex_;
  mutable std::string note_;
};

/// Called with a completion fraction in [0, 1].
using progress_fn = std::function<void(double)>;

}  // namespace postroll
