// The queue actor: owns the job table (RocksDB), decides what runs next,
// retries with backoff, recovers after a crash. See docs/architecture.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "actors/interfaces.hpp"

namespace postroll {

struct queue_config {
  std::string data_dir;                ///< the RocksDB folder
  int max_attempts = 3;                ///< runs per stage, a crashed run included
  std::int64_t retry_base_ms = 2000;   ///< first backoff; doubles per attempt
  std::int64_t retry_cap_ms = 300000;  ///< longest backoff
  std::function<std::int64_t()> now_ms;  ///< Unix ms; injectable for tests
};

/// Spawns the queue on a thread of its own (RocksDB's synced writes block).
/// Fails if the database cannot be opened.
result<queue_actor> spawn_queue(caf::actor_system& sys, queue_config cfg,
                                notifier_actor notifier);

}  // namespace postroll
