// The queue at start-up: owed notifications again, interrupted removals finished, interrupted stages requeued (or left for their worker nodes to re-adopt).
#include "actors/queue/queue_logic.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace postroll::queue {

void queue_logic::recover() {
  if (auto owed = st_.store->outbox()) {
    for (auto& [id, payload] : *owed) {
      spdlog::info("queue: notification {} was not delivered before the last stop; sending it again", id);
      deliver(id, payload);
    }
  } else {
    spdlog::error("queue: {}", owed.err().message);
  }
  st_.jobs.counts = st_.store->count_by_state();
  // Removals a stop interrupted: their files first, then the record.
  auto removing = st_.store->recent(100000, {}, nullptr, [](const job_record& j) { return j.removing != 0; });
  if (removing)
    for (const auto& j : *removing) {
      spdlog::info("queue: finishing the removal of job {} ({})", j.id, j.session_dir);
      start_removal(j);
    }
  for (auto state : {job_state::processing, job_state::pending}) {
    auto jobs = st_.store->in_state(state);
    if (!jobs) {
      spdlog::error("queue: recovery cannot read {} jobs: {}", to_string(state), jobs.err().message);
      continue;
    }
    for (auto& j : *jobs) {
      bool running = std::any_of(j.stages.begin(), j.stages.end(),
                                 [](const stage_record& s) { return s.state == job_state::processing; });
      if (running && st_.cfg.adopt_ms > 0) {
        // A coordinator: worker nodes may still run these stages; they
        // get adopt_ms to say so before the stages count as interrupted.
        for (const auto& s : j.stages)
          if (s.state == job_state::processing)
            st_.orphans.insert(run_key(j.id, s.name));
        st_.jobs.restore(j);
        spdlog::info("queue: job {} had stages running at the last stop; waiting {} ms for their workers", j.id,
                     st_.cfg.adopt_ms);
        continue;
      }
      st_.jobs.live[j.id] = j;  // so persist() sees a live job
      requeue_interrupted(j.id, {}, "recovered at start-up");
    }
  }
  if (!st_.orphans.empty())
    later(st_.cfg.adopt_ms, adopt_atom::value);
  schedule_wakeup();
}

// Stages of a live job that were running when their node (or the
// coordinator) stopped: each such run counts as an attempt; a stage out
// of attempts fails the job. `only` limits it to some stages ("" = all).
void queue_logic::requeue_interrupted(const std::string& id, const std::set<std::string>& only, const std::string& reason) {
  auto it = st_.jobs.live.find(id);
  if (it == st_.jobs.live.end())
    return;
  job_record before = it->second;
  job_record j = before;
  bool poisoned = false;
  for (auto& s : j.stages) {
    if (s.state != job_state::processing || (!only.empty() && !only.count(s.name)))
      continue;
    s.state = job_state::pending;
    s.error = "interrupted: the node stopped while this stage ran";
    if (attempts_used(s) >= st_.cfg.max_attempts && optional_stage(s.name)) {
      s.state = job_state::completed;
      s.finished_at = now();
      s.result = skipped_result("crashed the worker " + std::to_string(attempts_used(s)) + " times");
      continue;
    }
    if (attempts_used(s) >= st_.cfg.max_attempts) {
      j.state = job_state::failed;
      j.error_code = errc::internal;
      j.error = s.name + ": crashed the worker " + std::to_string(attempts_used(s)) + " times";
      s.state = job_state::failed;
      poisoned = true;
    }
  }
  if (!poisoned && std::none_of(j.stages.begin(), j.stages.end(),
                                [](const stage_record& s) { return s.state == job_state::processing; }))
    j.state = all_completed(j) ? job_state::completed : job_state::pending;
  persist(j, &before, poisoned ? j.error : reason);
  if (j.state == job_state::completed) {
    emit(j, events::job_completed, {}, j.output);
  } else if (poisoned) {
    emit(j, events::job_failed, {}, j.error);
    spdlog::warn("queue: job {} failed at recovery: {}", j.id, j.error);
  } else {
    spdlog::info("queue: resuming job {} ({}) at {}", j.id, j.session_dir,
                 next_stage(j) ? next_stage(j)->name : "end");
  }
}

// adopt_ms after a start: stages no worker node re-adopted were lost.
void queue_logic::on_adopt_deadline() {
  std::map<std::string, std::set<std::string>> lost;
  for (const auto& key : st_.orphans) {
    auto slash = key.find('/');
    lost[key.substr(0, slash)].insert(key.substr(slash + 1));
  }
  st_.orphans.clear();
  for (const auto& [id, stages] : lost) {
    spdlog::warn("queue: no worker re-adopted job {}'s running stages within {} ms; running them again", id,
                 st_.cfg.adopt_ms);
    requeue_interrupted(id, stages, "recovered at start-up: no worker still ran it");
  }
  dispatch();
}

}  // namespace postroll::queue
