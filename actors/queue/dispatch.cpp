// Dispatch: the scheduler's plan applied (persisted, announced, run orders once durable), the disk guard, jobs no worker serves.
#include "actors/queue/queue_logic.hpp"

#include <algorithm>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "actors/stage_plan.hpp"
#include "postroll/stages.hpp"
#include "session/output_file.hpp"
#include "session/seal.hpp"

namespace postroll::queue {

// One round: the scheduler plans from the table as it is; the plan is
// applied in order (each start persisted, announced, and its run order
// sent once that is durable).
void queue_logic::dispatch() {
  if (!st_.store_broken.empty())
    return;  // nothing new starts that could not be saved
  if (st_.draining) {
    if (std::all_of(st_.workers.begin(), st_.workers.end(), [](const worker_slot& w) { return w.job.empty(); })) {
      for (auto& rp : st_.drained)
        rp.deliver(true);
      st_.drained.clear();
    }
    return;
  }
  auto t = now();
  schedule_input in;
  in.jobs = &st_.jobs;
  in.slots.reserve(st_.workers.size());
  for (const auto& w : st_.workers)
    in.slots.push_back(&w);
  in.nodes = &st_.caps;
  in.limits = &st_.limits;
  in.disk_ok = [this](job_record& j) { return has_disk_space(j); };
  in.preempted_at = &st_.preempted_at;
  auto plan = plan_round(in, t);
  for (const auto& s : plan.starts)
    apply(s, t);
  for (const auto& p : plan.preemptions)
    apply(p);
  fail_disk_expired();
  say_unserved();
}

void queue_logic::apply(const stage_start& start, std::int64_t t) {
  auto& w = st_.workers[start.slot];
  const auto& id = start.job;
  const auto& stage_name = start.stage;
  int attempt = start.attempt;
  auto reason = stage_name + " started (attempt " + std::to_string(attempt) + ")";
  auto err = transition(id, reason, [&](job_record& r) {
    auto* s = find_stage(r, stage_name);
    s->state = job_state::processing;
    s->attempts = attempt;
    s->started_at = t;
    s->not_before = 0;
    s->node = w.node;
    r.state = job_state::processing;
  });
  if (err)
    return;
  auto& rec = *st_.jobs.find(id);
  w.job = id;
  w.stage = stage_name;
  w.attempt = attempt;
  w.lapsed = false;
  w.preempting = false;
  w.lease_until = t + st_.cfg.lease_ms;
  if (start.first_start)
    emit(rec, events::job_started);
  emit(rec, events::stage_started, stage_name, "attempt " + std::to_string(attempt));
  // The worker starts only once the attempt is counted on disk: a stage
  // that crashes the node at once must still use up its attempts.
  after_commit([self = self_, id, stage_name, attempt, worker = w.handle.address()](const maybe_error& err) {
    if (!err)
      queue_logic{self}.start_run(id, stage_name, attempt, worker);
  });
  st_.watches[run_key(id, stage_name)] = queue_state::watch{0, t, false, false};
  arm_watchdog();
  rec.waiting.clear();
}

// Stops a lower-priority job's stage so a higher-priority one can start on
// its slot; the slot stays busy until the worker answers (then dispatch
// gives it to the job that waits).
void queue_logic::apply(const preemption& p) {
  auto& w = st_.workers[p.slot];
  if (w.job != p.job || w.stage != p.stage || w.attempt != p.attempt)
    return;
  auto key = run_key(p.job, p.stage);
  st_.watches[key].preempted = true;
  st_.preempted_at[key] = now();
  w.preempting = true;
  spdlog::info("queue: stopping job {} {} attempt {} for higher-priority job {}", p.job, p.stage, p.attempt,
               p.for_job);
  stop_running(w);
}

// A pool this node runs no worker of (media.workers = 0) and no worker
// node serves either: its jobs say so.
void queue_logic::say_unserved() {
  for (const auto& pool : st_.cfg.unserved_pools) {
    if (std::any_of(st_.workers.begin(), st_.workers.end(), [&](const worker_slot& w) { return w.pool == pool; }))
      continue;
    auto& keys = st_.jobs.ready[pool];
    auto reason = "waiting for a " + pool + " worker: this node runs none (" + pool + ".workers = 0)" +
                  (st_.cfg.adopt_ms > 0 ? " and no worker node serving " + pool + " stages is connected" : "");
    for (const auto& key : keys) {
      auto& j = st_.jobs.live[std::get<2>(key)];
      if (j.waiting != reason) {
        j.waiting = reason;
        emit(j, events::job_waiting, {}, reason);
      }
    }
  }
}

// Sends the start order of a stage whose "processing" transition is now
// durable, unless things changed meanwhile.
void queue_logic::start_run(const std::string& id, const std::string& stage, int attempt, const caf::actor_addr& worker) {
  auto slot = std::find_if(st_.workers.begin(), st_.workers.end(), [&](const worker_slot& w) {
    return w.job == id && w.stage == stage && w.handle.address() == worker;
  });
  if (slot == st_.workers.end() || !current_attempt(id, stage, attempt))
    return;
  auto live = st_.jobs.live.find(id);
  if (live->second.cancel_requested) {
    on_result(stage_result{id, stage, attempt, fault::of(errc::cancelled, "cancelled before it started"), {}});
    return;
  }
  auto& rec = live->second;
  auto* s = find_stage(rec, stage);
  self_->send(slot->handle, run_atom::value,
              stage_order{rec.id, rec.session_id, rec.session_dir, stage, attempt,
                          session_seal_key(st_.store->seal_secret(), rec.session_dir),
                          stage == stage_live && s ? s->result : std::string{}});
}

// Disk guard: a media stage needs min_free_factor x the session's media
// size free on its volume. A job held back says why (status, event) and
// is looked at again every 5 s.
bool queue_logic::has_disk_space(job_record& j) {
  if (st_.cfg.min_free_factor <= 0 || j.media_bytes <= 0)
    return true;
  auto needed = std::int64_t(double(j.media_bytes) * st_.cfg.min_free_factor);
  auto free = st_.cfg.free_bytes(j.session_dir);
  if (free >= needed) {
    j.waiting.clear();
    st_.disk_waiting_since.erase(j.id);
    return true;
  }
  auto reason = "waiting for disk space: " + megabytes(free) + " free on the volume of " + j.session_dir +
                ", needs " + megabytes(needed) + " (" + std::to_string(st_.cfg.min_free_factor).substr(0, 3) +
                "x the session's media)";
  auto since = st_.disk_waiting_since.emplace(j.id, now()).first->second;
  if (st_.cfg.disk_wait_ms > 0 && now() - since >= st_.cfg.disk_wait_ms) {
    // Space that did not come in disk_wait_ms is not coming: the job fails
    // with the reason instead of waiting without end.
    st_.disk_expired.insert(j.id);
    return false;
  }
  if (j.waiting.empty()) {
    spdlog::warn("queue: job {} {}", j.id, reason);
    emit(j, events::job_waiting, {}, reason);
  }
  j.waiting = reason;
  if (!st_.disk_recheck_armed) {
    st_.disk_recheck_armed = true;
    later(5000, wakeup_atom::value);
  }
  return false;
}

// Jobs that waited disk_wait_ms for space: their waiting stage fails
// (io, not retried: the wait was the retry), and the job once nothing runs.
void queue_logic::fail_disk_expired() {
  auto expired = std::move(st_.disk_expired);
  st_.disk_expired.clear();
  for (const auto& id : expired) {
    auto it = st_.jobs.live.find(id);
    st_.disk_waiting_since.erase(id);
    if (it == st_.jobs.live.end())
      continue;
    auto* s = find_stage_if(it->second, [](const stage_record& r) {
      return r.state == job_state::pending && pool_of(r.name) == "media";
    });
    if (!s)
      continue;
    const std::string prefix = "waiting for disk space: ";
    const auto& w = it->second.waiting;
    auto message = "disk full: " + (w.rfind(prefix, 0) == 0 ? w.substr(prefix.size()) : w) + "; waited " +
                   std::to_string(st_.cfg.disk_wait_ms / 1000) + " s (queue.disk_wait_ms)";
    auto stage = s->name;
    job_record rec;
    transition(id, stage + ": " + message, [&](job_record& j) {
      auto* js = find_stage(j, stage);
      js->state = job_state::failed;
      js->finished_at = now();
      js->error = message;
      j.waiting.clear();
      if (j.error.empty()) {
        j.error = stage + ": " + message;
        j.error_code = errc::io;
      }
    }, &rec);
    spdlog::error("queue: job {} {}: {}", id, stage, message);
    emit(rec, events::stage_failed, stage, message);
    settle(id);
  }
}

}  // namespace postroll::queue
