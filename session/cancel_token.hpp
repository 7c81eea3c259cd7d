// Stopping and following long work on a session (a pipeline, an enricher,
// retention): a flag the owner sets and the work polls, and a progress
// callback. No GStreamer here, so every layer can use them.
#pragma once

#include <atomic>
#include <functional>

namespace postroll {

/// Set by the owner of a run to stop it; the work polls it at least every 100 ms.
struct cancel_token {
  std::atomic<bool> cancelled{false};
  void cancel() { cancelled.store(true); }
  bool is_cancelled() const { return cancelled.load(); }
};

/// Called with a completion fraction in [0, 1].
using progress_fn = std::function<void(double)>;

}  // namespace postroll
