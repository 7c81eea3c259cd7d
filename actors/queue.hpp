// The queue actor: owns the job table (RocksDB), decides what runs next,
// retries with backoff, recovers after a crash. See docs/architecture.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "actors/interfaces.hpp"
#include "actors/stage_plan.hpp"

namespace postroll {

struct queue_config {
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
  bool missing_audio_as_silence = false;  ///< accept manifests naming absent audio files
  /// Every submitted session folder must be inside one of these ("" = any);
  /// checked on the folder as opened (no symlink race).
  std::vector<std::string> session_roots;
  std::int64_t max_session_ms = 24LL * 3600 * 1000;  ///< the longest session taken
  std::size_t max_session_files = 20000;             ///< files a manifest may list
  bool compress = true;  ///< jobs run media.compress unless their submit says otherwise
  /// media.playable: "compressed" merges straight at the compression preset
  /// (no media.compress stage), "fast" remuxes first.
  std::string playable = "fast";
  /// Jobs run the enrich.* stages unless their submit says otherwise. Off
  /// here (the queue alone has no enrichment workers); the runtime sets it
  /// from the config, where it is on.
  bool enrich = false;
  std::vector<extra_stage> extra_stages;  ///< external enrichers from the config
  int max_enrich_jobs = 5;  ///< jobs with an enrichment stage running at once (0: no limit)
  /// A job that completes or fails owes the notifier a durable delivery
  /// (webhook, command hook), written with the job's final state.
  bool outbox = false;
  /// Worker pools this node deliberately runs none of (media.workers = 0):
  /// their ready jobs wait and say so, instead of waiting silently.
  std::vector<std::string> unserved_pools;
  /// What happens to a completed job's originals unless its submit says:
  /// "keep", "trash" or "delete" (docs/storage.md).
  std::string retention = "keep";
  std::string output_dir = "postroll";      ///< outputs, relative to the session folder (removal deletes it)
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
