// The queue actor: owns the job table (RocksDB), decides what runs next,
// retries with backoff, recovers after a crash. See docs/architecture.md.
#pragma once

#include "postroll/config.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/janitor.hpp"
#include "actors/stage_plan.hpp"

namespace postroll {

/// A clock the queue reads its time from and runs its timers on, moved by
/// hand: a test advances it and the queue's backoffs, watchdogs and disk
/// rechecks fire, with no test waiting on real time. Thread-safe.
class manual_clock {
public:
  explicit manual_clock(std::int64_t start_ms) : now_(start_ms) {}
  std::int64_t now_ms() const {
    std::lock_guard<std::mutex> g{mtx_};
    return now_;
  }
  /// Calls `fire` once the clock has been advanced by `delay_ms`.
  void after(std::int64_t delay_ms, std::function<void()> fire) {
    std::lock_guard<std::mutex> g{mtx_};
    timers_.emplace(now_ + std::max<std::int64_t>(0, delay_ms), std::move(fire));
  }
  /// Moves the time forward by `ms` and fires every timer now due, in
  /// the order they are due.
  void advance(std::int64_t ms) {
    std::vector<std::function<void()>> due;
    {
      std::lock_guard<std::mutex> g{mtx_};
      now_ += ms;
      while (!timers_.empty() && timers_.begin()->first <= now_) {
        due.push_back(std::move(timers_.begin()->second));
        timers_.erase(timers_.begin());
      }
    }
    for (auto& fire : due)
      fire();
  }
  /// Timers not fired yet.
  std::size_t pending() const {
    std::lock_guard<std::mutex> g{mtx_};
    return timers_.size();
  }

private:
  mutable std::mutex mtx_;
  std::int64_t now_;
  std::multimap<std::int64_t, std::function<void()>> timers_;
};

/// The queue's settings; how a submitted folder is read and planned (the
/// janitor's part) comes first.
struct queue_config : janitor_config {
  std::string data_dir;                ///< the RocksDB folder
  int max_attempts = 3;                ///< runs per stage, a crashed run included
  std::int64_t retry_base_ms = 2000;   ///< first backoff; doubles per attempt
  std::int64_t retry_cap_ms = 300000;  ///< longest backoff
  std::int64_t aging_ms = 600000;      ///< a low job waiting this long counts as normal (-1: never)
  std::int64_t stall_timeout_ms = 120000;  ///< a running stage without progress this long is stopped (0: off)
  std::int64_t cancel_grace_ms = 1000;  ///< a worker still running a job this long after "stop" is killed (0: never)
  /// A media stage starts only while the session's volume has this many
  /// times the session's media size free (0: no check).
  double min_free_factor = 1.4;
  /// A job held back for disk space this long fails with "disk full" (0: never).
  std::int64_t disk_wait_ms = 1800000;
  /// Free bytes on the volume holding `dir`; injectable for tests.
  std::function<std::int64_t(const std::string& dir)> free_bytes;
  std::function<std::int64_t()> now_ms;  ///< Unix ms; injectable for tests
  /// Tests: the time and every timer of the queue from this clock (then
  /// `now_ms` is its time). Unset: the system clock and CAF's timers.
  std::shared_ptr<manual_clock> clock;
  /// A higher-priority job whose stage finds no idle worker stops a
  /// running preemptible stage (media.compress, enrich.*) of a lower-priority
  /// job; that stage goes back to pending without using up an attempt.
  bool preempt = true;
  /// A stage is preempted at most once in this window, so low-priority
  /// work still finishes under a stream of high-priority jobs.
  std::int64_t preempt_window_ms = 600000;
  int max_enrich_jobs = 5;  ///< jobs with an enrichment stage running at once (0: no limit)
  /// A job that completes or fails owes the notifier a durable delivery
  /// (webhook, command hook), written with the job's final state.
  bool outbox = false;
  /// Worker pools this node deliberately runs none of (media.workers = 0):
  /// their ready jobs wait and say so, instead of waiting silently.
  std::vector<std::string> unserved_pools;
  /// This node's id (events, `postroll nodes`, the stage records) and what
  /// its own workers can do.
  node_info local_node;
  /// A stage on a worker node holds a lease this long, renewed by its
  /// progress; lapsed, the stage goes to another node (docs/scale-out.md).
  std::int64_t lease_ms = 30000;
  /// A coordinator waits this long after a start for worker nodes to
  /// report the stages they still run (re-adopted, not re-run) before it
  /// counts them as interrupted (0: at once, a standalone node's way).
  std::int64_t adopt_ms = 0;
  int trash_days = 30;                        ///< trashed originals older than this are purged
  std::int64_t purge_interval_ms = 3600000;   ///< how often the trash is looked at (0: never)
};

/// Spawns the queue. Fails if the database cannot be opened.
///
/// Its synced RocksDB writes run on a group-commit writer thread
/// (storage/group_writer): the queue updates memory at once and holds back
/// what must not happen before a change is durable (replies, events,
/// starting a stage) until the writer reports it committed.
result<queue_actor> spawn_queue(caf::actor_system& sys, queue_config cfg,
                                notifier_actor notifier);

}  // namespace postroll
