// What a stage's progress and end do to its job: events with ETA, completion, retry with backoff, failure, cancel, preemption.
#include "actors/queue/queue_logic.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/backoff.hpp"
#include "session/output_file.hpp"
#include "postroll/stage_results.hpp"
#include "postroll/stages.hpp"

namespace postroll::queue {

bool optional_stage(const std::string& stage) { return stage == stage_compress; }

std::string skipped_result(const std::string& reason) {
  return nlohmann::json{{"skipped", true}, {"replaced", false}, {"reason", reason}}.dump();
}

int attempts_used(const stage_record& s) { return s.attempts - s.preemptions; }

namespace {

// What a host should hear when a stage completes: for media.repair, each
// file's recovered and lost seconds (the record has the details); for a
// compression that was not swapped in, why.
std::string completion_note(const stage_result& r) {
  if (r.stage == stage_compress)
    return compress_result_of(r.output).note();
  if (r.stage == stage_live) {
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    return j.is_object() ? j.value("warning", std::string{}) : std::string{};
  }
  if (r.stage != stage_repair)
    return {};
  std::string note;
  for (const auto& f : repairs_of(r.output)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f s recovered, ~%.1f s lost", f.seconds_recovered, f.seconds_lost);
    note += (note.empty() ? "" : "; ") + f.file + " repaired (" + f.damage + "): " + buf;
  }
  return note;
}

// What the outputs took when the job's last measured stage ended (the
// workers measure; a stage the job went on without did not write).
std::int64_t last_output_bytes(const job_record& j) {
  std::int64_t bytes = 0, at = -1;
  for (const auto& s : j.stages)
    if (auto b = output_bytes_of(s.result); b > 0 && s.finished_at >= at) {
      bytes = b;
      at = s.finished_at;
    }
  return bytes;
}

}  // namespace

stage_record* queue_logic::current_attempt(const std::string& id, const std::string& stage, int attempt) {
  auto* live = st_.jobs.find(id);
  auto* s = live ? find_stage(*live, stage) : nullptr;
  return s && s->attempts == attempt && s->state == job_state::processing ? s : nullptr;
}

void queue_logic::on_progress(const stage_progress& p) {
  auto t = now();
  auto slot = slot_running(p.job_id, p.stage, p.attempt);
  if (slot != st_.workers.end() && slot->lapsed) {
    // Back from a lapse (SIGCONT, the network healed): its stage runs
    // elsewhere now; stop this copy (its output is fenced anyway).
    self_->send(slot->handle, cancel_atom::value, p.job_id);
    return;
  }
  if (slot != st_.workers.end() && slot->remote)
    slot->lease_until = t + st_.cfg.lease_ms;
  auto* s = current_attempt(p.job_id, p.stage, p.attempt);
  if (!s)
    return;
  auto& job = *st_.jobs.find(p.job_id);
  auto key = run_key(p.job_id, p.stage);
  // live.record has no fraction to move: its beat every second while it
  // follows the recording is what shows it is alive.
  if (auto w = st_.watches.find(key); w != st_.watches.end() && (p.fraction != w->second.fraction || p.stage == stage_live)) {
    w->second.fraction = p.fraction;
    w->second.changed_at = t;
  }
  auto& last = st_.last_progress[key];
  if (t - last < 100 && p.fraction < 1.0)
    return;  // at most one progress event per job per 100 ms
  // A live job's follower beats ten times a second for hours: one event a
  // second, or when what it says changed.
  if (p.stage == stage_live && t - last < 1000 && p.note == st_.live_notes[key])
    return;
  last = t;
  if (p.stage == stage_live)
    st_.live_notes[key] = p.note;
  std::int64_t eta = -1;
  auto elapsed = t - s->started_at;
  if (p.fraction > 0.02 && elapsed > 0)
    eta = std::int64_t(double(elapsed) * (1.0 - p.fraction) / p.fraction);
  emit(job, events::stage_progress, p.stage, p.note, p.fraction, p.stage == stage_live ? -1 : eta);
}

void queue_logic::on_result(const stage_result& r, bool worker_already_freed) {
  if (!worker_already_freed)
    for (auto& w : st_.workers)
      if (w.job == r.job_id && w.stage == r.stage && w.attempt == r.attempt) {
        if (!w.lapsed)
          if (auto n = st_.nodes.find(w.node); n != st_.nodes.end())
            ++(r.ok() ? n->second.completed : n->second.failed);
        w.job.clear();
        w.stage.clear();
        w.attempt = 0;
        w.lapsed = false;
        w.preempting = false;
      }
  auto it = st_.jobs.live.find(r.job_id);
  if (it == st_.jobs.live.end()) {
    // A worker (node) that was given up on reports after its job ended.
    spdlog::warn("queue: refused a stale result for job {} stage {} attempt {} (the job has ended)", r.job_id,
                 r.stage, r.attempt);
    dispatch();
    return;
  }
  if (!current_attempt(r.job_id, r.stage, r.attempt)) {
    auto* s = find_stage(it->second, r.stage);
    spdlog::warn("queue: refused a stale result for job {} stage {} attempt {} (the stage is at attempt {}, {})",
                 r.job_id, r.stage, r.attempt, s ? s->attempts : 0, s ? to_string(s->state) : "gone");
    dispatch();
    return;
  }
  auto code = r.failure ? r.failure.code : errc::internal;
  auto key = run_key(r.job_id, r.stage);
  bool stalled = st_.watches[key].stalled;
  bool preempted = st_.watches[key].preempted;
  st_.watches.erase(key);
  if (r.ok() && !it->second.cancel_requested && r.stage == stage_live) {
    live_ended(r);  // completes once the rest is planned
    return;
  } else if (r.ok() && !it->second.cancel_requested) {
    stage_completed(r);
  } else if (preempted && !it->second.cancel_requested) {
    // Stopped for a higher-priority job (or lost while stopping): its run
    // does not count; it goes back to pending.
    stage_preempted(r);
  } else if (stalled && !it->second.cancel_requested) {
    // Stopped by the watchdog: a failed attempt, retried like any other.
    auto failed = r;
    failed.failure.message = "stalled: no progress for " + std::to_string(st_.cfg.stall_timeout_ms / 1000) + " s";
    stage_failed(failed, errc::media);
  } else if ((!r.ok() && code == errc::cancelled) || it->second.cancel_requested) {
    stage_cancelled(r);
  } else {
    stage_failed(r, code);
  }
  dispatch();
}

void queue_logic::stage_completed(const stage_result& r) {
  std::string output;
  bool media_ready = false;
  job_record rec;
  auto err = transition(r.job_id, r.stage + " completed", [&](job_record& j) {
    auto* s = find_stage(j, r.stage);
    s->state = job_state::completed;
    s->finished_at = now();
    s->error.clear();
    s->result = r.output;
    if (r.stage == stage_merge) {
      output = output_file_of(r.output);
      if (!output.empty()) {
        j.output = output;
        media_ready = true;
      }
    }
    if (r.stage == stage_trash_originals || r.stage == stage_delete_originals)
      j.bytes_reclaimed = retention_result_of(r.output).bytes_reclaimed;
    if (all_completed(j)) {
      j.state = job_state::completed;
      j.bytes_written = last_output_bytes(j);
    }
  }, &rec);
  if (err)
    return;
  emit(rec, events::stage_completed, r.stage, completion_note(r), 1.0, 0);
  if (media_ready)
    emit(rec, events::media_ready, r.stage, output);
  if (rec.state == job_state::completed) {
    emit(rec, events::job_completed, {}, rec.output);
    spdlog::info("queue: job {} completed: {}", rec.id, rec.output);
  } else {
    settle(rec.id);
  }
}

// A job with a stage failed for good ends `failed` once nothing of it
// runs and nothing else of it can start: independent stages still finish
// (their results are kept), so a retry re-runs only what did not complete.
void queue_logic::settle(const std::string& id) {
  auto it = st_.jobs.live.find(id);
  if (it == st_.jobs.live.end())
    return;
  auto& live = it->second;
  auto failed = std::find_if(live.stages.begin(), live.stages.end(),
                             [](const stage_record& s) { return s.state == job_state::failed; });
  if (failed == live.stages.end() || any_in(live, job_state::processing))
    return;
  for (auto& s : live.stages)
    if (s.state == job_state::pending && needs_met(live, s))
      return;
  job_record before = live;
  job_record j = live;
  j.state = job_state::failed;
  if (live.error.empty()) {
    j.error = failed->name + ": " + failed->error;
    j.error_code = errc::internal;
  }
  persist(j, &before, j.error);
  emit(j, events::job_failed, {}, j.error);
  spdlog::warn("queue: job {} failed: {}", j.id, j.error);
}

void queue_logic::stage_failed(const stage_result& r, errc code) {
  // A worker lost under it (crashed, killed, its lease lapsed) is tried
  // again elsewhere like any stage; anything else, or the last attempt,
  // skips it.
  auto* running = find_stage(st_.jobs.live[r.job_id], r.stage);
  bool lost = code == errc::internal && running && attempts_used(*running) < st_.cfg.max_attempts;
  if (optional_stage(r.stage) && !lost) {
    spdlog::warn("queue: job {} {} did not complete ({}); the job goes on without it", r.job_id, r.stage, r.failure.message);
    auto skipped = r;
    skipped.failure = fault{};
    skipped.output = skipped_result(r.failure.message);
    stage_completed(skipped);
    return;
  }
  auto& live = st_.jobs.live[r.job_id];
  auto* s = find_stage(live, r.stage);
  bool permanent = code == errc::bad_input;
  bool exhausted = attempts_used(*s) >= st_.cfg.max_attempts;
  if (permanent || exhausted) {
    auto message = r.stage + ": " + r.failure.message +
                   (permanent ? "" : " (after " + std::to_string(attempts_used(*s)) + " attempts)");
    job_record rec;
    transition(r.job_id, message, [&](job_record& j) {
      auto* js = find_stage(j, r.stage);
      js->state = job_state::failed;
      js->finished_at = now();
      js->error = r.failure.message;
      if (j.error.empty()) {  // the first stage to fail names the job's failure
        j.error = message;
        j.error_code = code;
      }
    }, &rec);
    emit(rec, events::stage_failed, r.stage, r.failure.message);
    settle(r.job_id);
    return;
  }
  backoff_policy policy;
  policy.base_ms = st_.cfg.retry_base_ms;
  policy.cap_ms = st_.cfg.retry_cap_ms;
  auto delay = backoff_delay(policy, attempts_used(*s), std::uniform_real_distribution<double>{0, 1}(st_.rng));
  transition(r.job_id, r.stage + " failed (" + r.failure.message + "), retry in " + std::to_string(delay) + " ms",
             [&](job_record& j) {
               auto* js = find_stage(j, r.stage);
               js->state = job_state::pending;
               js->error = r.failure.message;
               js->not_before = now() + delay;
             });
  emit(st_.jobs.live[r.job_id], events::stage_failed, r.stage,
       r.failure.message + " (retry in " + std::to_string(delay) + " ms)");
  later(delay, wakeup_atom::value);
}

// Stopped for a higher-priority job: back to pending, its run not counted
// against the attempt limit (the attempt number still grows: it fences the
// stopped run's late messages). The window keeps it from being stopped
// again soon, so low-priority work still finishes.
void queue_logic::stage_preempted(const stage_result& r) {
  job_record rec;
  auto err = transition(r.job_id, r.stage + " preempted by a higher-priority job", [&](job_record& j) {
    auto* js = find_stage(j, r.stage);
    js->state = job_state::pending;
    js->not_before = 0;
    ++js->preemptions;
  }, &rec);
  if (err)
    return;
  spdlog::info("queue: job {} {} stopped for a higher-priority job; it runs again when a worker is free", r.job_id,
               r.stage);
  emit(rec, events::stage_preempted, r.stage, "stopped for a higher-priority job; runs again when a worker is free");
}

// A stage of a job being cancelled answered: the job ends cancelled when
// the last of its running stages has stopped.
void queue_logic::stage_cancelled(const stage_result& r) {
  auto& live = st_.jobs.live[r.job_id];
  bool others = std::any_of(live.stages.begin(), live.stages.end(), [&](const stage_record& s) {
    return s.state == job_state::processing && s.name != r.stage;
  });
  if (!others) {
    finish_cancelled(live);
    return;
  }
  transition(r.job_id, r.stage + " stopped", [&](job_record& j) { find_stage(j, r.stage)->state = job_state::cancelled; });
}

job_record queue_logic::finish_cancelled(const job_record& current) {
  job_record before = current;
  job_record j = current;
  j.state = job_state::cancelled;
  for (auto& s : j.stages)
    if (s.state == job_state::processing || s.state == job_state::pending)
      s.state = job_state::cancelled;
  persist(j, &before, "cancelled");
  emit(j, events::job_cancelled);
  spdlog::info("queue: job {} cancelled", j.id);
  return j;
}

}  // namespace postroll::queue
