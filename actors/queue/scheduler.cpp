#include "actors/queue/scheduler.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "actors/stage_plan.hpp"
#include "postroll/stages.hpp"

namespace postroll::queue {

bool preemptible(const std::string& stage) { return stage == stage_compress || pool_of(stage) == "enrich"; }

bool can_run(const slot& s, const std::string& stage, const std::map<std::string, node_caps>& nodes,
             const std::vector<std::string>& extra_stages) {
  if (!s.remote)
    return true;
  auto n = nodes.find(s.node);
  if (n == nodes.end())
    return false;
  const auto& stages = n->second.stages;
  if (std::find(stages.begin(), stages.end(), stage) != stages.end())
    return true;
  bool extra = std::find(extra_stages.begin(), extra_stages.end(), stage) != extra_stages.end();
  return !extra && std::find(stages.begin(), stages.end(), pool_of(stage) + ".*") != stages.end();
}

bool hardware_node(const std::string& node, const std::map<std::string, node_caps>& nodes) {
  auto n = nodes.find(node);
  return n != nodes.end() && n->second.hardware_encoder;
}

std::string slot_kind(const slot& s, const std::map<std::string, node_caps>& nodes) {
  std::string k = s.pool + (hardware_node(s.node, nodes) ? "|hw|" : "|sw|");
  if (s.remote)
    if (auto n = nodes.find(s.node); n != nodes.end())
      for (const auto& stage : n->second.stages)
        k += stage + ",";
  return k;
}

namespace {

// One round: the slots' occupancy as this round's starts change it.
class round {
public:
  round(const schedule_input& in, std::int64_t now) : in_(in), t_(now) {
    for (const auto* s : in.slots)
      jobs_.push_back(s->job);
  }

  schedule_plan run() {
    schedule_plan plan;
    start_idle(plan);
    if (in_.limits->preempt)
      preempt(plan);
    return plan;
  }

private:
  const std::map<std::string, node_caps>& nodes() const { return *in_.nodes; }

  bool hardware(const std::string& node) const { return hardware_node(node, nodes()); }

  // The stage a slot of `pool` may start in job `j` now, or null. With a
  // slot: only what its node can run, and media.compress only on a node
  // with a hardware encoder while one of those is idle.
  stage_record* stage_to_start(job_record& j, const std::string& pool, const slot* s, bool hardware_idle,
                               bool check_disk = true) {
    if (j.cancel_requested)
      return nullptr;
    for (auto* st : startable(j, pool)) {
      if (taken_.count(run_key(j.id, st->name)))
        continue;
      if (s && !can_run(*s, st->name, nodes(), in_.limits->extra_stages))
        continue;
      if (s && hardware_idle && st->name == stage_compress && !hardware(s->node))
        continue;
      if (st->not_before <= t_ && (!check_disk || pool != "media" || !in_.disk_ok || in_.disk_ok(j)))
        return st;
    }
    return nullptr;
  }

  bool runs_something_of(const std::string& job) const {
    return std::find(jobs_.begin(), jobs_.end(), job) != jobs_.end();
  }

  // Jobs with an enrichment stage running (limited by max_enrich_jobs).
  std::size_t jobs_in_enrichment() const {
    std::set<std::string> jobs;
    for (std::size_t i = 0; i < jobs_.size(); ++i)
      if (!jobs_[i].empty() && in_.slots[i]->pool == "enrich")
        jobs.insert(jobs_[i]);
    return jobs.size();
  }

  bool enrich_full(const std::string& pool) const {
    return pool == "enrich" && in_.limits->max_enrich_jobs > 0 &&
           jobs_in_enrichment() >= std::size_t(in_.limits->max_enrich_jobs);
  }

  // The ready job a slot of `pool` runs next: the first runnable one (not
  // in backoff) of the highest priority, where a low job that has waited
  // `aging_ms` counts as normal (by its age, so it goes before younger
  // normal jobs). Each priority is a contiguous, age-ordered range of the
  // pool's ready set, so this looks at the head of each range only.
  job_record* next_ready(const std::string& pool, const slot* s, bool hardware_idle) {
    auto& ready = in_.jobs->ready[pool];
    bool full = enrich_full(pool);
    auto runnable = [&](const ready_key& k) -> job_record* {
      auto* j = in_.jobs->find(std::get<2>(k));
      if (!j)
        return nullptr;
      if (full && !runs_something_of(j->id))
        return nullptr;  // a job already in enrichment may add its parallel stage
      return stage_to_start(*j, pool, s, hardware_idle) ? j : nullptr;
    };
    auto first_of = [&](priority p) -> std::pair<job_record*, std::int64_t> {
      auto it = ready.lower_bound(ready_key{int(p), std::numeric_limits<std::int64_t>::min(), ""});
      for (; it != ready.end() && std::get<0>(*it) == int(p); ++it)
        if (auto* j = runnable(*it))
          return {j, std::get<1>(*it)};
      return {nullptr, 0};
    };
    if (auto high = first_of(priority::high); high.first)
      return high.first;
    auto normal = first_of(priority::normal);
    auto low = first_of(priority::low);
    if (!low.first)
      return normal.first;
    bool aged = in_.limits->aging_ms >= 0 && t_ - low.second >= in_.limits->aging_ms;
    if (!normal.first || (aged && low.second < normal.second))
      return low.first;
    return normal.first;
  }

  void start(schedule_plan& plan, std::size_t index, job_record& j, const stage_record& st) {
    bool first = j.state == job_state::pending && !started_.count(j.id) &&
                 std::none_of(j.stages.begin(), j.stages.end(), [](const stage_record& s) { return s.attempts > 0; });
    plan.starts.push_back(stage_start{index, j.id, st.name, st.attempts + 1, first});
    taken_.insert(run_key(j.id, st.name));
    started_.insert(j.id);
    jobs_[index] = j.id;
  }

  // Placement (docs/scale-out.md): idle slots of the least loaded node
  // first (running / slots); what a node cannot run is skipped for it.
  void start_idle(schedule_plan& plan) {
    bool anything_ready = std::any_of(in_.jobs->ready.begin(), in_.jobs->ready.end(),
                                      [](const auto& r) { return !r.second.empty(); });
    if (!anything_ready)
      return;
    std::map<std::string, std::pair<int, int>> load;  // node -> running, slots
    for (const auto* s : in_.slots) {
      auto& l = load[s->node];
      ++l.second;
      l.first += s->job.empty() ? 0 : 1;
    }
    std::vector<std::pair<double, std::size_t>> order;  // (node's load share, slot)
    for (std::size_t i = 0; i < in_.slots.size(); ++i)
      if (in_.slots[i]->job.empty()) {
        const auto& l = load[in_.slots[i]->node];
        order.emplace_back(double(l.first) / double(std::max(1, l.second)), i);
      }
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    // Computed once per round (an idle hardware node taken in this round
    // only makes a software node skip compress once more: harmless).
    bool hardware_idle = std::any_of(in_.slots.begin(), in_.slots.end(), [&](const slot* s) {
      return s->job.empty() && s->pool == "media" && hardware(s->node);
    });
    // Slots of one kind that found nothing: the others of that kind would
    // not either. Keeps a round linear in the idle slots with hundreds of
    // worker nodes.
    std::set<std::string> exhausted;
    for (const auto& [share, index] : order) {
      const auto* s = in_.slots[index];
      if (!jobs_[index].empty() || exhausted.count(s->kind))
        continue;
      bool hw_idle = s->pool == "media" && !hardware(s->node) && hardware_idle;
      auto* j = next_ready(s->pool, s, hw_idle);
      if (!j) {
        exhausted.insert(s->kind);
        continue;
      }
      start(plan, index, *j, *stage_to_start(*j, s->pool, s, hw_idle));
    }
  }

  int rank(const std::string& job) const {
    auto* j = in_.jobs->find(job);
    return j ? int(j->prio) : int(priority::low) + 1;
  }

  // A job that found no idle slot stops a running stage of a job of lower
  // priority, where that stage is preemptible, was not preempted within
  // the window, and its slot can run what the waiting job needs. One stop
  // per waiting job: a slot already stopping counts as promised.
  void preempt(schedule_plan& plan) {
    std::map<std::string, int> promised;  // pool -> slots already stopping for someone
    for (const auto* s : in_.slots)
      if (s->preempting)
        ++promised[s->pool];
    for (auto& [pool, keys] : in_.jobs->ready) {
      bool any_preemptible = std::any_of(in_.slots.begin(), in_.slots.end(), [&, p = pool](const slot* s) {
        return s->pool == p && !s->job.empty() && preemptible(s->stage);
      });
      if (!any_preemptible)
        continue;
      for (const auto& k : keys) {
        if (std::get<0>(k) == int(priority::low))
          break;  // nothing is below low
        auto* j = in_.jobs->find(std::get<2>(k));
        // The disk guard is asked last (it notes why a job waits): only
        // for a job that would otherwise stop someone.
        if (!j || !stage_to_start(*j, pool, nullptr, false, false))
          continue;
        if (promised[pool] > 0) {
          --promised[pool];
          continue;
        }
        auto victim = pick_victim(pool, *j);
        if (victim < 0)
          break;  // none for this one: none for the lower ones either
        if (!stage_to_start(*j, pool, nullptr, false))
          continue;  // held by the disk guard
        const auto* s = in_.slots[std::size_t(victim)];
        plan.preemptions.push_back(preemption{std::size_t(victim), s->job, s->stage, s->attempt, j->id});
        stopping_.insert(std::size_t(victim));
      }
    }
  }

  // The running stage to stop for `waiting`: the lowest priority, then the
  // most recently started (the least work lost); -1 if none qualifies.
  int pick_victim(const std::string& pool, job_record& waiting) {
    int best = -1;
    std::int64_t best_started = 0;
    int best_rank = -1;
    for (std::size_t i = 0; i < in_.slots.size(); ++i) {
      const auto* s = in_.slots[i];
      if (s->pool != pool || s->job.empty() || s->lapsed || s->preempting || stopping_.count(i) ||
          jobs_[i] != s->job || !preemptible(s->stage))
        continue;
      int r = rank(s->job);
      if (r <= int(waiting.prio))
        continue;
      auto key = run_key(s->job, s->stage);
      if (in_.preempted_at)
        if (auto p = in_.preempted_at->find(key);
            p != in_.preempted_at->end() && t_ - p->second < in_.limits->preempt_window_ms)
          continue;
      if (!stage_to_start(waiting, pool, s, false, false))
        continue;  // its node cannot run what the waiting job needs
      if (enrich_full(pool) && !runs_something_of(waiting.id) && other_enrichment_of(s->job, i))
        continue;  // stopping it would not free a place in enrichment
      auto* victim = in_.jobs->find(s->job);
      auto* st = victim ? find_stage(*victim, s->stage) : nullptr;
      auto started = st ? st->started_at : 0;
      if (r > best_rank || (r == best_rank && started > best_started)) {
        best = int(i);
        best_rank = r;
        best_started = started;
      }
    }
    return best;
  }

  bool other_enrichment_of(const std::string& job, std::size_t except) const {
    for (std::size_t i = 0; i < jobs_.size(); ++i)
      if (i != except && jobs_[i] == job && in_.slots[i]->pool == "enrich")
        return true;
    return false;
  }

  const schedule_input& in_;
  std::int64_t t_;
  std::vector<std::string> jobs_;  ///< per slot: its job, with this round's starts
  std::set<std::string> taken_;    ///< run keys started this round
  std::set<std::string> started_;  ///< jobs that got a start this round
  std::set<std::size_t> stopping_; ///< slots this round preempts
};

}  // namespace

schedule_plan plan_round(const schedule_input& in, std::int64_t now) { return round{in, now}.run(); }

std::vector<std::size_t> lapsed_leases(const std::vector<const slot*>& slots, std::int64_t now) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < slots.size(); ++i)
    if (slots[i]->remote && !slots[i]->job.empty() && !slots[i]->lapsed && now > slots[i]->lease_until)
      out.push_back(i);
  return out;
}

}  // namespace postroll::queue
