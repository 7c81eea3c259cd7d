// The queue's live jobs and what is ready to run, as plain data: no actor,
// no clock, no store. Every change of a job goes through record(), which
// keeps the ready sets, the per-session index and the counts in step.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "postroll/job.hpp"

namespace postroll::queue {

/// Dispatch order inside one pool: priority, then creation time, then id.
using ready_key = std::tuple<int, std::int64_t, std::string>;
ready_key key_of(const job_record& j);

/// "job/stage": one running stage.
std::string run_key(const std::string& job, const std::string& stage);

// -- one job's stages ---------------------------------------------------------

/// The first stage not completed, or null.
stage_record* next_stage(job_record& j);
bool all_completed(const job_record& j);
bool any_in(const job_record& j, job_state state);
/// Whether every stage `s` needs has completed (backoff aside).
bool needs_met(const job_record& j, const stage_record& s);
/// The pending stages of `pool` whose needs are met, in plan order.
std::vector<stage_record*> startable(job_record& j, const std::string& pool);
stage_record* find_stage(job_record& j, const std::string& name);
template <class Pred>
stage_record* find_stage_if(job_record& j, Pred pred) {
  for (auto& s : j.stages)
    if (pred(s))
      return &s;
  return nullptr;
}

// -- the table -----------------------------------------------------------------

class job_table {
public:
  /// Takes `j` as it now is (`before`: its previous version, null for a new
  /// job): live and in the ready set of every pool it has a startable
  /// stage for, or, terminal, out of the table. Counts follow.
  void record(const job_record& j, const job_record* before);

  /// Recovery: a job read back from the store, live again (counts come
  /// from the store as a whole).
  job_record& restore(const job_record& j);

  /// Puts a live job in the ready set of every pool it has a startable
  /// stage for, and takes it out of the others.
  void refresh_ready(const job_record& j);

  job_record* find(const std::string& id);
  /// The live job of a session, or null.
  job_record* of_session(const std::string& session_id);

  /// A removed record leaves the counts.
  void forget(const job_record& j) { --counts.by_state[size_t(j.state)]; }

  std::unordered_map<std::string, job_record> live;  ///< every non-terminal job
  /// Per worker pool, the jobs with a stage of that pool whose needs are
  /// met, waiting for a worker (maybe in backoff).
  std::map<std::string, std::set<ready_key>> ready;
  std::unordered_map<std::string, std::string> live_session;  ///< session id -> its live job
  job_counts counts;  ///< jobs per state, stored ones included
};

}  // namespace postroll::queue
