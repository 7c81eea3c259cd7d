#include "actors/queue/job_table.hpp"

#include <algorithm>

#include "actors/stage_plan.hpp"

namespace postroll::queue {

ready_key key_of(const job_record& j) { return {int(j.prio), j.created_at, j.id}; }

std::string run_key(const std::string& job, const std::string& stage) { return job + "/" + stage; }

stage_record* next_stage(job_record& j) {
  for (auto& s : j.stages)
    if (s.state != job_state::completed)
      return &s;
  return nullptr;
}

bool all_completed(const job_record& j) {
  return std::all_of(j.stages.begin(), j.stages.end(),
                     [](const stage_record& s) { return s.state == job_state::completed; });
}

bool any_in(const job_record& j, job_state state) {
  return std::any_of(j.stages.begin(), j.stages.end(), [&](const stage_record& s) { return s.state == state; });
}

bool needs_met(const job_record& j, const stage_record& s) {
  for (const auto& n : s.needs) {
    auto it = std::find_if(j.stages.begin(), j.stages.end(), [&](const stage_record& o) { return o.name == n; });
    if (it != j.stages.end() && it->state != job_state::completed)
      return false;
  }
  return true;
}

std::vector<stage_record*> startable(job_record& j, const std::string& pool) {
  std::vector<stage_record*> out;
  for (auto& s : j.stages)
    if (s.state == job_state::pending && pool_of(s.name) == pool && needs_met(j, s))
      out.push_back(&s);
  return out;
}

stage_record* find_stage(job_record& j, const std::string& name) {
  return find_stage_if(j, [&](const stage_record& s) { return s.name == name; });
}

void job_table::record(const job_record& j, const job_record* before) {
  if (before)
    --counts.by_state[size_t(before->state)];
  ++counts.by_state[size_t(j.state)];
  if (is_terminal(j.state)) {
    live.erase(j.id);
    for (auto& [pool, keys] : ready)
      keys.erase(key_of(j));
    if (auto s = live_session.find(j.session_id); s != live_session.end() && s->second == j.id)
      live_session.erase(s);
    return;
  }
  live[j.id] = j;
  live_session[j.session_id] = j.id;
  refresh_ready(j);
}

job_record& job_table::restore(const job_record& j) {
  auto& rec = live[j.id] = j;
  live_session[j.session_id] = j.id;
  refresh_ready(rec);
  return rec;
}

void job_table::refresh_ready(const job_record& j) {
  std::set<std::string> pools;
  if (!j.cancel_requested)
    for (const auto& s : j.stages)
      if (s.state == job_state::pending && needs_met(j, s))
        pools.insert(pool_of(s.name));
  for (auto& [pool, keys] : ready)
    if (!pools.count(pool))
      keys.erase(key_of(j));
  for (const auto& pool : pools)
    ready[pool].insert(key_of(j));
}

job_record* job_table::find(const std::string& id) {
  auto it = live.find(id);
  return it == live.end() ? nullptr : &it->second;
}

job_record* job_table::of_session(const std::string& session_id) {
  auto it = live_session.find(session_id);
  return it == live_session.end() ? nullptr : find(it->second);
}

}  // namespace postroll::queue
