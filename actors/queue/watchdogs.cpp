// Timers: backoff wakeups, the stall and lease watchdog, the hung-worker deadline.
#include "actors/queue/queue_logic.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace postroll::queue {

void queue_logic::on_wakeup() {
  st_.disk_recheck_armed = false;
  dispatch();
  schedule_wakeup();
}

// Stops running stages whose progress has not moved for stall_timeout_ms.
void queue_logic::on_watchdog() {
  st_.watchdog_armed = false;
  auto t = now();
  std::vector<const slot*> view;
  for (const auto& w : st_.workers)
    view.push_back(&w);
  std::vector<stage_result> lapsed;
  for (auto index : lapsed_leases(view, t)) {
    // No word from the node for a whole lease (killed without the
    // connection noticing, stopped, cut off): its stage goes elsewhere
    // under a new attempt; anything this one still writes is fenced.
    auto& w = st_.workers[index];
    w.lapsed = true;
    if (auto n = st_.nodes.find(w.node); n != st_.nodes.end())
      ++n->second.failed;
    spdlog::warn("queue: node {} let the lease of job {} {} attempt {} lapse ({} ms without word)", w.node, w.job,
                 w.stage, w.attempt, st_.cfg.lease_ms);
    lapsed.push_back(stage_result{w.job, w.stage, w.attempt, fault::of(errc::internal,
                                  "node " + w.node + " let its lease lapse (no word for " +
                                    std::to_string(st_.cfg.lease_ms / 1000) + " s)"),
                                  {}});
  }
  for (auto& w : st_.workers) {
    if (w.job.empty() || w.lapsed)
      continue;
    if (st_.cfg.stall_timeout_ms <= 0)
      continue;
    auto& watch = st_.watches[run_key(w.job, w.stage)];
    if (!watch.stalled && t - watch.changed_at > st_.cfg.stall_timeout_ms) {
      watch.stalled = true;
      spdlog::warn("queue: job {} {} made no progress for {} ms; stopping it", w.job, w.stage,
                   t - watch.changed_at);
      stop_running(w);
    }
  }
  for (const auto& r : lapsed)
    on_result(r, /*worker_already_freed=*/true);
  arm_watchdog();
}

// A worker that was told to stop a job and still runs it after the grace
// time is hung (a pipeline stuck in a driver, a filesystem that does not
// answer): it is killed, which ends the job's attempt as a crash; the
// supervisor starts a fresh worker.
void queue_logic::on_deadline(const std::string& id, const std::string& stage, std::int32_t attempt) {
  auto slot = std::find_if(st_.workers.begin(), st_.workers.end(),
                           [&](const worker_slot& w) { return w.job == id && w.stage == stage; });
  if (slot == st_.workers.end() || !current_attempt(id, stage, attempt))
    return;
  spdlog::error("queue: the worker running job {} {} did not stop within {} ms; stopping the worker", id,
                stage, st_.cfg.cancel_grace_ms);
  self_->send_exit(slot->handle, caf::exit_reason::kill);
}

// Tells a worker to stop its job and gives it cancel_grace_ms to answer.
void queue_logic::stop_running(const worker_slot& w) {
  self_->send(w.handle, cancel_atom::value, w.job);
  auto live = st_.jobs.live.find(w.job);
  auto* s = live == st_.jobs.live.end() ? nullptr : find_stage(live->second, w.stage);
  if (s && st_.cfg.cancel_grace_ms > 0)
    later(st_.cfg.cancel_grace_ms, deadline_atom::value, w.job, w.stage, std::int32_t(s->attempts));
}

void queue_logic::arm_watchdog() {
  if (st_.watchdog_armed)
    return;
  bool leases = std::any_of(st_.workers.begin(), st_.workers.end(),
                            [](const worker_slot& w) { return w.remote && !w.job.empty() && !w.lapsed; });
  if (st_.cfg.stall_timeout_ms <= 0 && !leases)
    return;
  if (std::none_of(st_.workers.begin(), st_.workers.end(), [](const worker_slot& w) { return !w.job.empty(); }))
    return;
  st_.watchdog_armed = true;
  auto period = st_.cfg.stall_timeout_ms > 0 ? st_.cfg.stall_timeout_ms : st_.cfg.lease_ms;
  if (leases)
    period = std::min(period, st_.cfg.lease_ms);
  auto every = std::clamp<std::int64_t>(period / 4, 100, 1000);
  later(every, watchdog_atom::value);
}

void queue_logic::schedule_wakeup() {
  // The earliest backoff among live jobs.
  std::int64_t soonest = -1;
  for (auto& [id, j] : st_.jobs.live)
    for (auto& s : j.stages)
      if (s.state == job_state::pending && s.not_before > 0)
        soonest = soonest < 0 ? s.not_before : std::min(soonest, s.not_before);
  if (soonest >= 0)
    later(std::max<std::int64_t>(0, soonest - now()), wakeup_atom::value);
}

}  // namespace postroll::queue
