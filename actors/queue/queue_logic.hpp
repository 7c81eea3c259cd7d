// The queue's handlers, one object per message over the actor's state. The
// members are defined by concern, each in the file named in its section:
// what is durable when (persistence.cpp), the outbox, start-up recovery,
// client requests, removal, the cluster (slots, nodes, leases), stage
// outcomes, watchdogs and timers, and dispatch (which applies the pure
// scheduler's plan). Private to actors/queue/.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "actors/queue/queue_state.hpp"

namespace postroll::queue {

job_reply reply_error(errc code, std::string message);
job_reply reply_ok(const job_record& j);
/// media.compress is an optimisation: whatever ends it (an error, a stall,
/// a crash, no encoder) leaves the playable file, and the job goes on.
bool optional_stage(const std::string& stage);
/// The result of a stage the job went on without.
std::string skipped_result(const std::string& reason);
/// Runs of `s` that count against the attempt limit (not the preempted ones).
int attempts_used(const stage_record& s);

class queue_logic {
public:
  explicit queue_logic(queue_ptr self) : self_(self), st_(self->state) {}

  std::int64_t now() const { return st_.cfg.now_ms(); }

  // -- persistence.cpp: durable before it is told -----------------------------
  /// Publishes an event once everything before it is durable.
  void emit(const job_record& j, const char* kind, const std::string& stage = {}, std::string message = {},
            double progress = 0, std::int64_t eta = -1);
  void after_commit(std::function<void(const maybe_error&)> fn) { st_.commits.after_commit(std::move(fn)); }
  /// A reply computed by `make` once everything before it is durable.
  template <class T, class Make>
  caf::result<T> when_durable(Make make) {
    if (st_.commits.idle())
      return make(std::nullopt);
    auto rp = self_->template make_response_promise<T>();
    after_commit([rp, make](const maybe_error& err) mutable { rp.deliver(make(err)); });
    return rp;
  }
  caf::result<job_reply> reply_when_durable(job_reply r);
  void on_committed(std::uint64_t ticket, std::uint8_t code, const std::string& message);
  /// Hands `j` to the writer and updates memory at once; `before` is the
  /// stored version. Whatever must not run before it is durable goes
  /// through after_commit.
  void persist(job_record& j, const job_record* before, const std::string& reason);
  /// Applies `change` to the live job `id` and persists it; `out` receives
  /// the new record (also when it became terminal and left the table).
  template <class Change>
  maybe_error transition(const std::string& id, const std::string& reason, Change&& change,
                         job_record* out = nullptr) {
    auto* live = st_.jobs.find(id);
    if (!live)
      return error{errc::not_found, "job " + id + " is not live"};
    job_record before = *live;
    job_record after = before;
    change(after);
    persist(after, &before, reason);
    if (out)
      *out = std::move(after);
    return std::nullopt;
  }
  std::string new_id();

  // -- outbox.cpp -----------------------------------------------------------
  /// Hands a durable notification to the notifier; it leaves the outbox
  /// once delivered (or given up).
  void deliver(const std::string& id, const std::string& payload);

  // -- recovery.cpp ---------------------------------------------------------
  void recover();
  /// Stages of a live job that were running when their node stopped: each
  /// such run counts as an attempt. `only` limits it to some stages.
  void requeue_interrupted(const std::string& id, const std::set<std::string>& only, const std::string& reason);
  void on_adopt_deadline();

  // -- requests.cpp ---------------------------------------------------------
  std::optional<job_reply> refuse_if_broken() const;
  caf::result<job_reply> submit(const submit_request& req);
  /// The janitor's verdict on a submitted folder: a job, or why not.
  job_reply accept(const submit_request& req, const session_check& c);
  job_reply status(const std::string& id);
  caf::result<job_list> list(std::uint32_t limit);
  caf::result<job_list> list(const list_query& q);
  void add_live_details(std::vector<job_record>& jobs);
  caf::result<bool> drain();
  caf::result<job_history> journal(std::uint64_t after, std::uint32_t limit);
  caf::result<job_history> history(const std::string& id);
  std::vector<std::uint64_t> counts() const;
  caf::result<job_reply> cancel(const std::string& id);
  caf::result<job_reply> retry(const std::string& id);

  // -- live.cpp -------------------------------------------------------------
  caf::result<job_reply> append(const std::string& id, const std::string& kind, const std::string& path,
                                std::int64_t offset_ms);
  caf::result<job_reply> end_recording(const std::string& id);
  /// Keeps a live job's submit choices for the plan made when it ends.
  void remember_choices(job_record& j, const submit_request& req);
  /// live.record completed: plan the rest, then complete it.
  void live_ended(const stage_result& r);
  void plan_after_recording(const stage_result& r, const session_check& c);

  // -- removal.cpp ----------------------------------------------------------
  caf::result<job_reply> remove(const std::string& id, std::uint8_t what);
  void drop_record(const job_record& job);
  /// The janitor deletes the files; the queue hears back by reply.
  void start_removal(const job_record& job);
  void removal_done(const std::string& id, const std::string& failure);
  void purge_trash();

  // -- cluster.cpp ----------------------------------------------------------
  void add_worker(stage_worker_actor w, std::string pool);
  join_reply join(const node_join& j, const std::vector<stage_worker_actor>& handles);
  bool lease(const std::string& id, const std::string& stage, int attempt);
  /// The slot given attempt `attempt` of a job's stage (lapsed or not).
  std::vector<worker_slot>::iterator slot_running(const std::string& job, const std::string& stage, int attempt);
  /// Every node serving this queue as hosts see it (`postroll nodes`).
  std::vector<node_summary> node_list();
  void worker_down(const caf::actor_addr& addr, const caf::error& reason);

  // -- outcomes.cpp ---------------------------------------------------------
  /// The stage if attempt `attempt` of it is the one running now; null for
  /// a late or stale message (the job ended, the stage moved on): fencing.
  stage_record* current_attempt(const std::string& id, const std::string& stage, int attempt);
  void on_progress(const stage_progress& p);
  void on_result(const stage_result& r, bool worker_already_freed = false);

  // -- watchdogs.cpp --------------------------------------------------------
  void on_wakeup();
  void on_watchdog();
  void on_deadline(const std::string& id, const std::string& stage, std::int32_t attempt);
  void schedule_wakeup();
  /// Sends the queue `msg` after `delay_ms` on the queue's clock.
  template <class... Ts>
  void later(std::int64_t delay_ms, Ts... xs) {
    if (auto clock = st_.cfg.clock) {
      caf::weak_actor_ptr weak{self_->ctrl()};
      clock->after(delay_ms, [weak, xs...] {
        if (auto strong = weak.lock()) {
          auto q = caf::actor_cast<queue_internal_actor>(strong);
          caf::send_as(q, q, xs...);
        }
      });
      return;
    }
    self_->delayed_send(self_, std::chrono::milliseconds(std::max<std::int64_t>(0, delay_ms)), xs...);
  }

  // -- dispatch.cpp ---------------------------------------------------------
  void dispatch();
  /// Sends the start order of a stage whose "processing" transition is
  /// now durable, unless things changed meanwhile.
  void start_run(const std::string& id, const std::string& stage, int attempt, const caf::actor_addr& worker);

private:
  template <class... Ts>
  caf::result<job_reply> live_change(const std::string& id, const char* what, Ts... xs);
  // dispatch.cpp
  bool has_disk_space(job_record& j);
  void fail_disk_expired();
  void apply(const stage_start& s, std::int64_t t);
  void apply(const preemption& p);
  void say_unserved();
  // watchdogs.cpp
  void stop_running(const worker_slot& w);
  void arm_watchdog();
  // outcomes.cpp
  void stage_completed(const stage_result& r);
  void settle(const std::string& id);
  void stage_failed(const stage_result& r, errc code);
  void stage_cancelled(const stage_result& r);
  void stage_preempted(const stage_result& r);
  job_record finish_cancelled(const job_record& current);

  queue_ptr self_;
  queue_state& st_;
};

}  // namespace postroll::queue
