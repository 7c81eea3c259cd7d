// Worker slots and nodes: local workers, worker nodes joining with their capabilities, leases (fencing), a node or worker lost.
#include "actors/queue/queue_logic.hpp"

#include "actors/caf_errors.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace postroll::queue {

void queue_logic::add_worker(stage_worker_actor w, std::string pool) {
  self_->monitor(w);
  // Live followers alone do not make this node one that runs stages.
  auto& local = st_.nodes[st_.cfg.local_node.id];
  if (local.joined_at == 0 && pool == "live") {
    st_.nodes.erase(st_.cfg.local_node.id);
  } else if (local.joined_at == 0) {
    local.info = st_.cfg.local_node;
    local.local = true;
    local.joined_at = now();
    st_.caps[local.info.id] = node_caps{true, local.info.hardware_encoder, local.info.stages};
  }
  worker_slot slot;
  slot.handle = std::move(w);
  slot.pool = std::move(pool);
  slot.node = st_.cfg.local_node.id;
  slot.kind = slot_kind(slot, st_.caps);
  st_.workers.push_back(std::move(slot));
  dispatch();
}

// A worker node joins: its capabilities are checked, its workers become
// slots, and the stages it still holds (it ran them across a restart of
// either side) are re-adopted instead of run again.
join_reply queue_logic::join(const node_join& j, const std::vector<stage_worker_actor>& handles) {
  const auto& info = j.info;
  auto refuse = [&](std::string why) {
    spdlog::error("queue: node {} refused: {}", info.id, why);
    return join_reply{fault::of(errc::bad_input, std::move(why)), 0};
  };
  if (info.id.empty())
    return refuse("a worker node needs an id (node.id)");
  if (info.id == st_.cfg.local_node.id)
    return refuse("node id \"" + info.id + "\" is the coordinator's own; give each node its own node.id");
  for (const auto& p : info.paths)
    if (!p.problem.empty())
      return refuse("node " + info.id + ": session root " + p.local + " (mapped from " + p.remote + ") " + p.problem);
  if (handles.size() != std::size_t(info.media_workers + info.enrich_workers))
    return refuse("node " + info.id + " sent " + std::to_string(handles.size()) + " workers for " +
                  std::to_string(info.media_workers + info.enrich_workers) + " slots");
  auto t = now();
  // An earlier incarnation's slots (a rejoin): stages it still holds move
  // to the new slots below; the others were lost with it.
  std::vector<worker_slot> old;
  for (auto it = st_.workers.begin(); it != st_.workers.end();) {
    if (it->node == info.id) {
      self_->demonitor(it->handle.address());
      old.push_back(std::move(*it));
      it = st_.workers.erase(it);
    } else {
      ++it;
    }
  }
  auto& entry = st_.nodes[info.id];
  entry.info = info;
  entry.local = false;
  entry.joined_at = t;
  st_.caps[info.id] = node_caps{false, info.hardware_encoder, info.stages};
  std::size_t first = st_.workers.size();
  for (std::size_t i = 0; i < handles.size(); ++i) {
    worker_slot slot;
    slot.handle = handles[i];
    slot.pool = int(i) < info.media_workers ? "media" : "enrich";
    slot.node = info.id;
    slot.remote = true;
    slot.kind = slot_kind(slot, st_.caps);
    self_->monitor(slot.handle);
    st_.workers.push_back(std::move(slot));
  }
  std::set<std::string> adopted;
  for (const auto& h : j.held) {
    if (h.worker >= handles.size())
      continue;
    auto& slot = st_.workers[first + h.worker];
    auto key = run_key(h.job_id, h.stage);
    bool current = current_attempt(h.job_id, h.stage, h.attempt) != nullptr;
    bool was_held = st_.orphans.count(key) ||
                    std::any_of(old.begin(), old.end(), [&](const worker_slot& w) {
                      return w.job == h.job_id && w.stage == h.stage && w.attempt == h.attempt && !w.lapsed;
                    });
    if (!current || !was_held || !slot.job.empty()) {
      // Not its stage any more (run elsewhere meanwhile): stop it; its
      // result, if any comes, is refused as stale.
      spdlog::warn("queue: node {} still runs job {} {} attempt {}, which is no longer its own; stopping it",
                   info.id, h.job_id, h.stage, h.attempt);
      self_->send(slot.handle, cancel_atom::value, h.job_id);
      continue;
    }
    slot.job = h.job_id;
    slot.stage = h.stage;
    slot.attempt = h.attempt;
    slot.lease_until = t + st_.cfg.lease_ms;
    st_.orphans.erase(key);
    st_.watches[key] = queue_state::watch{-1, t, false, false};
    adopted.insert(key);
    spdlog::info("queue: node {} re-adopted job {} {} attempt {}", info.id, h.job_id, h.stage, h.attempt);
  }
  for (const auto& w : old)
    if (!w.job.empty() && !w.lapsed && !adopted.count(run_key(w.job, w.stage)))
      on_result(stage_result{w.job, w.stage, w.attempt, fault::of(errc::internal,
                             "node " + info.id + " rejoined without this stage (it restarted)"), {}},
                /*worker_already_freed=*/true);
  spdlog::info("queue: node {} joined: {} media + {} enrichment workers, {} cores, encoder {}{}", info.id,
               info.media_workers, info.enrich_workers, info.cores,
               info.encoders.empty() ? std::string{"none"} : info.encoders.front(),
               adopted.empty() ? std::string{} : ", " + std::to_string(adopted.size()) + " stages re-adopted");
  dispatch();
  arm_watchdog();
  return join_reply{fault{}, st_.cfg.lease_ms};
}

// A worker node's stage may commit its output only while its attempt is
// the stage's current one and its lease holds (fencing).
bool queue_logic::lease(const std::string& id, const std::string& stage, int attempt) {
  auto slot = slot_running(id, stage, attempt);
  bool owned = slot != st_.workers.end() && !slot->lapsed && current_attempt(id, stage, attempt);
  if (!owned) {
    spdlog::warn("queue: refused a commit of job {} {} attempt {}: a newer attempt owns the stage", id, stage,
                 attempt);
    return false;
  }
  if (slot->remote)
    slot->lease_until = now() + st_.cfg.lease_ms;
  return true;
}

// The slot given attempt `attempt` of a job's stage (lapsed or not).
std::vector<worker_slot>::iterator queue_logic::slot_running(const std::string& job, const std::string& stage, int attempt) {
  return std::find_if(st_.workers.begin(), st_.workers.end(), [&](const worker_slot& w) {
    return w.job == job && w.stage == stage && w.attempt == attempt;
  });
}

std::vector<node_summary> queue_logic::node_list() {
  std::vector<node_summary> out;
  auto t = now();
  for (const auto& [id, n] : st_.nodes) {
    node_summary s;
    s.id = n.info.id;
    s.local = n.local;
    s.version = n.info.version;
    s.cores = n.info.cores;
    s.free_bytes = n.info.free_bytes;
    s.encoders = n.info.encoders;
    s.hardware_encoder = n.info.hardware_encoder;
    s.stages = n.info.stages;
    s.media_workers = n.info.media_workers;
    s.enrich_workers = n.info.enrich_workers;
    for (const auto& m : n.info.paths)
      s.paths.push_back(m.remote + "=" + m.local);
    s.joined_at = n.joined_at;
    s.completed = n.completed;
    s.failed = n.failed;
    for (const auto& w : st_.workers) {
      // Live followers are not stage slots a node offers (they follow the
      // recordings this queue's node sees): a coordinator is no worker node.
      if (w.node != id || w.pool == "live")
        continue;
      ++s.slots;
      if (w.job.empty())
        continue;
      ++s.running;
      auto lease = w.job + "/" + w.stage + "#" + std::to_string(w.attempt);
      if (w.remote)
        lease += w.lapsed ? " (lapsed)" : " (" + std::to_string(std::max<std::int64_t>(0, w.lease_until - t)) + " ms left)";
      s.leases.push_back(std::move(lease));
    }
    if (s.slots > 0 || n.local)
      out.push_back(std::move(s));
  }
  return out;
}

void queue_logic::worker_down(const caf::actor_addr& addr, const caf::error& reason) {
  auto it = std::find_if(st_.workers.begin(), st_.workers.end(),
                         [&](const worker_slot& w) { return w.handle.address() == addr; });
  if (it == st_.workers.end())
    return;
  auto slot = *it;
  st_.workers.erase(it);
  if (slot.remote && std::none_of(st_.workers.begin(), st_.workers.end(),
                                  [&](const worker_slot& w) { return w.node == slot.node; }))
    spdlog::warn("queue: node {} left ({})", slot.node, caf::to_string(reason));
  if (slot.job.empty() || slot.lapsed)
    return;
  if (auto n = st_.nodes.find(slot.node); n != st_.nodes.end())
    ++n->second.failed;
  stage_result r;
  r.job_id = slot.job;
  r.stage = slot.stage;
  r.attempt = slot.attempt;
  r.failure = fault::of(errc::internal, "");
  r.failure.message = slot.remote ? "node " + slot.node + " was lost while running it (" + plain_words(reason) + ")"
                          : "the " + slot.pool + " worker crashed (" + plain_words(reason) + ")";
  on_result(r, /*worker_already_freed=*/true);
}

}  // namespace postroll::queue
