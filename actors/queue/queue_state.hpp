// The queue actor's state: the job table, the worker slots and nodes, the
// commit tracker and the timers' bookkeeping. Private to actors/queue/.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <spdlog/spdlog.h>

#include "actors/interfaces.hpp"
#include "actors/queue.hpp"
#include "actors/queue/commit_tracker.hpp"
#include "actors/queue/job_table.hpp"
#include "actors/queue/scheduler.hpp"
#include "storage/group_writer.hpp"
#include "storage/job_store.hpp"

namespace postroll::queue {

/// A slot with the worker behind it.
struct worker_slot : slot {
  stage_worker_actor handle;
};

/// A node serving the queue: the coordinator's own workers or a worker node.
struct node_entry {
  node_info info;
  bool local = false;
  std::int64_t joined_at = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
};

/// Waits, as the queue's state is destroyed last of all, until every other
/// holder of the job store (the janitor) has let it go, so that the database
/// is closed by the time monitors see the queue down: a host or test that
/// reopens it right after finds no lock held.
struct store_release {
  std::shared_future<void> closed;
  ~store_release() {
    if (closed.valid() && closed.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
      spdlog::warn("queue: the job database is still held 30 s after the queue stopped");
  }
};

struct queue_state {
  static inline const char* name = "postroll.queue";
  store_release release;  ///< first member: destroyed after the store and writer
  queue_config cfg;
  std::shared_ptr<job_store> store;
  notifier_actor notifier;
  janitor_actor janitor;  ///< file-system work off the queue's thread
  /// Set when the queue stops: the janitor's trash sweep ends early (the
  /// janitor itself is stopped with it).
  std::shared_ptr<std::atomic<bool>> janitor_stop;
  ~queue_state() {
    if (janitor_stop)
      janitor_stop->store(true);
    caf::anon_send_exit(janitor, caf::exit_reason::user_shutdown);
  }
  job_table jobs;
  std::vector<worker_slot> workers;
  std::map<std::string, node_entry> nodes;  ///< by node id
  std::map<std::string, node_caps> caps;    ///< by node id: what the scheduler needs of each
  schedule_limits limits;                   ///< the scheduler's part of cfg, made once at spawn
  /// Stages found running at start-up (run_key), waiting for a worker node
  /// to re-adopt them until adopt_ms has passed.
  std::unordered_set<std::string> orphans;
  std::unordered_map<std::string, std::int64_t> last_progress;  ///< run_key -> ms of last event
  std::unordered_map<std::string, std::string> live_notes;  ///< run_key -> the live follower's last note
  std::mt19937_64 rng{std::random_device{}()};  ///< retry jitter
  /// Running stages' last progress, for the stall watchdog.
  struct watch {
    double fraction = -1;
    std::int64_t changed_at = 0;
    bool stalled = false;    ///< cancelled by the watchdog: its end counts as a failure
    bool preempted = false;  ///< stopped for a higher-priority job: back to pending, no attempt used
  };
  std::unordered_map<std::string, watch> watches;  ///< run_key -> its running stage
  std::map<std::string, std::int64_t> preempted_at;  ///< run_key -> Unix ms it was last preempted
  bool watchdog_armed = false;
  /// Callers of remove() waiting for a removal's files to go.
  std::unordered_map<std::string, std::vector<std::function<void(job_reply)>>> removal_waiters;
  bool disk_recheck_armed = false;  ///< a wakeup is due to look at jobs waiting for disk space
  std::unordered_map<std::string, std::int64_t> disk_waiting_since;  ///< job -> Unix ms it began to wait
  std::set<std::string> disk_expired;  ///< jobs that waited disk_wait_ms: failed after this dispatch round
  std::uint64_t id_counter = 0;
  commit_tracker commits;
  /// Jobs that left the table (ended, or removed: nullopt) whose change is
  /// not durable yet: status answers from here, not from the older stored copy.
  std::unordered_map<std::string, std::pair<std::uint64_t, std::optional<job_record>>> unflushed;
  bool draining = false;  ///< a graceful stop: no new stage starts
  /// The job database could not be written (a full disk): nothing is
  /// dispatched or accepted any more; reads still answer. Set from the
  /// writer's first failed commit.
  std::string store_broken;
  std::vector<caf::typed_response_promise<bool>> drained;  ///< answered once no stage runs
  std::unique_ptr<group_writer> writer;  ///< last: destroyed (and drained) first
};

using queue_ptr = queue_internal_actor::stateful_pointer<queue_state>;

}  // namespace postroll::queue
