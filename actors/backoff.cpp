#include "actors/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace postroll {

std::int64_t backoff_delay(const backoff_policy& p, int failed_attempts, double unit) {
  double d = double(p.base_ms) * std::pow(p.factor, std::max(0, failed_attempts - 1));
  d = std::min(d, double(p.cap_ms));
  unit = std::clamp(unit, 0.0, 1.0);
  return std::int64_t(d * (1.0 - p.jitter * unit));
}

}  // namespace postroll
