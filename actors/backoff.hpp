// Retry delays: exponential backoff with jitter, capped.
#pragma once

#include <cstdint>

namespace postroll {

struct backoff_policy {
  std::int64_t base_ms = 2000;   ///< delay before the second attempt
  std::int64_t cap_ms = 300000;  ///< longest delay
  double factor = 2.0;           ///< growth per attempt
  /// Share of the delay that is random: the delay is drawn from
  /// [d * (1 - jitter), d]. Spreads the retries of jobs that failed together
  /// (a disk full, a node restart) instead of retrying them in lockstep.
  double jitter = 0.2;
};

/// The delay after `failed_attempts` (>= 1) failed runs. `unit` in [0, 1)
/// is the random draw (callers pass a uniform random number; tests pass
/// fixed values).
std::int64_t backoff_delay(const backoff_policy& p, int failed_attempts, double unit);

}  // namespace postroll
