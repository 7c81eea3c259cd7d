// The queue actor: its behavior table and spawn function. What each
// message does is in queue_logic (actors/queue/*.cpp, by concern).
#include "actors/queue.hpp"

#include <chrono>
#include <future>
#include <limits>

#include <spdlog/spdlog.h>

#include "actors/janitor.hpp"
#include "actors/queue/queue_logic.hpp"
#include "session/output_file.hpp"

namespace postroll {

namespace {

using queue::queue_logic;
using queue::queue_ptr;

std::int64_t free_bytes_or_plenty(const std::string& dir) {
  // Unknown: do not hold jobs back.
  return volume_free_bytes(dir).value_or(std::numeric_limits<std::int64_t>::max());
}

// The queue's own messages (timers, the writer) come from the queue
// itself: one from anyone else (a client that learned the atoms) is dropped.
bool from_self(queue_ptr self) {
  if (self->current_sender() == self->ctrl())
    return true;
  spdlog::warn("queue: dropped an internal message from another actor");
  return false;
}

queue_internal_actor::behavior_type queue_behavior(queue_ptr self, queue_config cfg, std::shared_ptr<job_store> store,
                                                   notifier_actor notifier, janitor_actor janitor,
                                                   std::shared_ptr<std::atomic<bool>> stop,
                                                   std::shared_future<void> store_closed) {
  auto& st = self->state;
  st.release.closed = std::move(store_closed);
  st.cfg = std::move(cfg);
  if (st.cfg.clock)
    st.cfg.now_ms = [clock = st.cfg.clock] { return clock->now_ms(); };
  if (!st.cfg.now_ms)
    st.cfg.now_ms = unix_now_ms;
  if (!st.cfg.free_bytes)
    st.cfg.free_bytes = free_bytes_or_plenty;
  st.limits.aging_ms = st.cfg.aging_ms;
  st.limits.max_enrich_jobs = st.cfg.max_enrich_jobs;
  for (const auto& e : st.cfg.extra_stages)
    st.limits.extra_stages.push_back(e.name);
  st.limits.preempt = st.cfg.preempt;
  st.limits.preempt_window_ms = st.cfg.preempt_window_ms;
  st.store = std::move(store);
  st.notifier = std::move(notifier);
  st.janitor = std::move(janitor);
  st.janitor_stop = std::move(stop);
  // The writer reports to the queue by message, under the queue's own
  // identity; a weak handle, so the writer (owned by the queue's state)
  // does not keep the queue alive.
  caf::weak_actor_ptr weak{self->ctrl()};
  st.writer = std::make_unique<group_writer>(st.store, [weak](std::uint64_t ticket, const maybe_error& err) {
    if (auto strong = weak.lock()) {
      auto q = caf::actor_cast<queue_internal_actor>(strong);
      caf::send_as(q, q, committed_atom::value, ticket, std::uint8_t(err ? err->code : errc{}),
                   err ? err->message : std::string{});
    }
  });
  self->set_down_handler([self](caf::down_msg& msg) { queue_logic{self}.worker_down(msg.source, msg.reason); });
  queue_logic{self}.recover();
  if (st.cfg.purge_interval_ms > 0)
    queue_logic{self}.later(std::min<std::int64_t>(10000, st.cfg.purge_interval_ms), purge_atom::value);
  return {
    // -- clients ---------------------------------------------------------------
    [self](submit_atom, const std::string& dir, const std::string& prio) {
      return queue_logic{self}.submit(submit_request{dir, prio, -1, -1, {}, false});
    },
    [self](submit_atom, const submit_request& r) { return queue_logic{self}.submit(r); },
    [self](status_atom, const std::string& id) { return queue_logic{self}.status(id); },
    [self](append_atom, const std::string& id, const std::string& kind, const std::string& path, std::int64_t offset) {
      return queue_logic{self}.append(id, kind, path, offset);
    },
    [self](end_atom, const std::string& id) { return queue_logic{self}.end_recording(id); },
    [self](list_atom, std::uint32_t limit) { return queue_logic{self}.list(limit); },
    [self](list_atom, const list_query& q) { return queue_logic{self}.list(q); },
    [self](drain_atom) { return queue_logic{self}.drain(); },
    [self](cancel_atom, const std::string& id) { return queue_logic{self}.cancel(id); },
    [self](history_atom, const std::string& id) { return queue_logic{self}.history(id); },
    [self](history_atom, std::uint64_t after, std::uint32_t limit) { return queue_logic{self}.journal(after, limit); },
    [self](count_atom) { return queue_logic{self}.counts(); },
    [self](retry_atom, const std::string& id) { return queue_logic{self}.retry(id); },
    [self](delete_atom, const std::string& id, std::uint8_t what) { return queue_logic{self}.remove(id, what); },
    [self](nodes_atom) { return queue_logic{self}.node_list(); },
    // -- workers and worker nodes ---------------------------------------------
    [self](register_atom, stage_worker_actor w) { queue_logic{self}.add_worker(std::move(w), "media"); },
    [self](register_atom, stage_worker_actor w, std::string& pool) {
      queue_logic{self}.add_worker(std::move(w), std::move(pool));
    },
    [self](const stage_progress& p) { queue_logic{self}.on_progress(p); },
    [self](const stage_result& r) { queue_logic{self}.on_result(r); },
    [self](lease_atom, const std::string& id, const std::string& stage, std::int32_t attempt) {
      return queue_logic{self}.lease(id, stage, attempt);
    },
    [self](join_atom, const node_join& j, const std::vector<stage_worker_actor>& workers) {
      return queue_logic{self}.join(j, workers);
    },
    [self](report_atom, const stage_result& r) {
      queue_logic{self}.on_result(r);
      return true;
    },
    // -- its own timers and writer ----------------------------------------------
    [self](adopt_atom) {
      if (from_self(self))
        queue_logic{self}.on_adopt_deadline();
    },
    [self](wakeup_atom) {
      if (from_self(self))
        queue_logic{self}.on_wakeup();
    },
    [self](purge_atom) {
      if (!from_self(self))
        return;
      queue_logic{self}.purge_trash();
      queue_logic{self}.later(self->state.cfg.purge_interval_ms, purge_atom::value);
    },
    [self](watchdog_atom) {
      if (from_self(self))
        queue_logic{self}.on_watchdog();
    },
    [self](committed_atom, std::uint64_t ticket, std::uint8_t code, const std::string& message) {
      if (from_self(self))
        queue_logic{self}.on_committed(ticket, code, message);
    },
    [self](deadline_atom, const std::string& id, const std::string& stage, std::int32_t attempt) {
      if (from_self(self))
        queue_logic{self}.on_deadline(id, stage, attempt);
    },
  };
}

}  // namespace

result<queue_actor> spawn_queue(caf::actor_system& sys, queue_config cfg, notifier_actor notifier) {
  std::string moved;
  auto store = job_store::open(cfg.data_dir, &moved);
  if (!store)
    return store.err();
  if (!moved.empty()) {
    // Nothing silently dropped: every record still readable in the broken
    // database comes back; unfinished jobs resume from their last
    // completed stage (their outputs are still in the session folders).
    std::vector<store_op> salvaged;
    for (auto& j : job_store::salvage(moved)) {
      store_op op;
      op.job = std::move(j);
      op.reason = "recovered from the unreadable database moved aside to " + moved;
      salvaged.push_back(std::move(op));
    }
    if (auto err = (*store)->apply(salvaged))
      spdlog::error("queue: {}", err->message);
    else
      spdlog::warn("queue: the job database could not be read and was moved aside to {}; {} job(s) "
                   "recovered from it",
                   moved, salvaged.size());
  }
  // The last holder to let the store go (the queue or its janitor) closes
  // it and says so: the queue waits for that as it stops.
  auto closed = std::make_shared<std::promise<void>>();
  std::shared_future<void> closed_future = closed->get_future().share();
  std::shared_ptr<job_store> shared{(*store).release(), [closed](job_store* s) {
                                      delete s;
                                      closed->set_value();
                                    }};
  janitor_config jc = cfg;  // its part of the queue's settings
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto janitor = spawn_janitor(sys, std::move(jc), shared, stop);
  if (!janitor)
    return janitor.err();
  queue_internal_actor q = sys.spawn(queue_behavior, std::move(cfg), std::move(shared), std::move(notifier),
                                     *janitor, stop, std::move(closed_future));
  // Clients get the public interface only (actors/interfaces.hpp).
  return queue_actor{q};
}

}  // namespace postroll
