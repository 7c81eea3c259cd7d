#include "net/http/metrics.hpp"

#include <cstdio>

namespace postroll::http {

void stage_metrics::on_event(const event& e) {
  std::lock_guard<std::mutex> g{mtx_};
  auto key = e.job_id + "/" + e.stage;
  if (e.kind == events::stage_started) {
    started_[key] = e.time;
  } else if (e.kind == events::stage_preempted) {
    // Stopped for a higher-priority job: counted, not timed (it runs again).
    outcomes_[{e.stage, "preempted"}]++;
    started_.erase(key);
  } else if (e.kind == events::stage_completed || e.kind == events::stage_failed) {
    outcomes_[{e.stage, e.kind == events::stage_completed ? "completed" : "failed"}]++;
    auto it = started_.find(key);
    if (it == started_.end())
      return;  // started before this process: its duration is unknown
    double seconds = double(e.time - it->second) / 1000.0;
    started_.erase(it);
    auto& h = durations_[e.stage];
    std::size_t b = 0;
    while (b < bounds.size() && seconds > bounds[b])
      ++b;
    h.buckets[b]++;
    h.sum += seconds;
    h.count++;
  } else if (e.kind == events::job_completed) {
    completed_jobs_.push_back(e.job_id);
  } else if (e.kind == events::job_failed || e.kind == events::job_cancelled) {
    // A cancelled stage sends no stage event: forget what the job started.
    for (auto it = started_.begin(); it != started_.end();)
      it = it->first.compare(0, e.job_id.size() + 1, e.job_id + "/") == 0 ? started_.erase(it) : std::next(it);
  }
}

namespace {
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
}  // namespace

std::string stage_metrics::render(const std::function<std::int64_t(const std::string&)>& media_bytes_of) {
  std::vector<std::string> pending;
  {
    std::lock_guard<std::mutex> g{mtx_};
    pending.swap(completed_jobs_);
  }
  std::uint64_t added = 0;
  for (const auto& id : pending)
    added += std::uint64_t(std::max<std::int64_t>(0, media_bytes_of(id)));

  std::lock_guard<std::mutex> g{mtx_};
  bytes_ += added;
  jobs_counted_ += pending.size();
  std::string out;
  out += "# HELP postroll_stage_duration_seconds Wall time of successful and failed stage attempts.\n"
         "# TYPE postroll_stage_duration_seconds histogram\n";
  for (const auto& [stage, h] : durations_) {
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= bounds.size(); ++b) {
      cumulative += h.buckets[b];
      out += "postroll_stage_duration_seconds_bucket{stage=\"" + stage + "\",le=\"" +
             (b < bounds.size() ? number(bounds[b]) : "+Inf") + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += "postroll_stage_duration_seconds_sum{stage=\"" + stage + "\"} " + number(h.sum) + "\n";
    out += "postroll_stage_duration_seconds_count{stage=\"" + stage + "\"} " + std::to_string(h.count) + "\n";
  }
  out += "# HELP postroll_stage_runs_total Stage attempts by how they ended.\n# TYPE postroll_stage_runs_total counter\n";
  for (const auto& [k, n] : outcomes_)
    out += "postroll_stage_runs_total{stage=\"" + k.first + "\",result=\"" + k.second + "\"} " + std::to_string(n) + "\n";
  out += "# HELP postroll_processed_bytes_total Bytes of recordings (video and audio files) of completed jobs.\n"
         "# TYPE postroll_processed_bytes_total counter\npostroll_processed_bytes_total " +
         std::to_string(bytes_) + "\n";
  out += "# HELP postroll_completed_jobs_total Jobs completed since the node started.\n"
         "# TYPE postroll_completed_jobs_total counter\npostroll_completed_jobs_total " +
         std::to_string(jobs_counted_) + "\n";
  return out;
}

}  // namespace postroll::http
