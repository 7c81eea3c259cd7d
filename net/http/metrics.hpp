// Prometheus figures the node's /metrics serves beyond the queue's counts:
// how long each stage took (a histogram per stage) and how many bytes of
// recordings went through. Fed by the runtime's event stream, so it counts
// what this node process saw since it started (Prometheus counters reset
// on restart by convention; rate() handles it).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "postroll/event.hpp"

namespace postroll::http {

class stage_metrics {
public:
  /// Upper bounds of the duration buckets, in seconds (a merge takes
  /// seconds, enrichment of a long session many minutes).
  static constexpr std::array<double, 12> bounds{0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800};

  /// Takes one event (any kind; cheap, called on the runtime's thread).
  void on_event(const event& e);

  /// The metrics in Prometheus text format. `media_bytes_of` looks up how
  /// many bytes of recordings a completed job had (called here, outside the
  /// event callback, because it asks the queue).
  std::string render(const std::function<std::int64_t(const std::string& job_id)>& media_bytes_of);

private:
  struct histogram {
    std::array<std::uint64_t, bounds.size() + 1> buckets{};  ///< last = +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  std::mutex mtx_;
  std::unordered_map<std::string, std::int64_t> started_;  ///< "job/stage" -> Unix ms
  std::map<std::string, histogram> durations_;             ///< by stage
  std::map<std::pair<std::string, std::string>, std::uint64_t> outcomes_;  ///< (stage, result) -> runs
  std::vector<std::string> completed_jobs_;                ///< not yet counted into bytes_
  std::uint64_t bytes_ = 0;
  std::uint64_t jobs_counted_ = 0;
};

}  // namespace postroll::http
