// A node serving a queue, as hosts, `postroll nodes` and GET /api/nodes see it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "postroll/export.h"

namespace postroll {

/// A node serving a queue: the coordinator's own workers, or a worker node
/// (docs/scale-out.md).
struct node_summary {
  std::string id;
  bool local = false;                  ///< the coordinator's (or standalone node's) own workers
  std::string version;
  std::uint32_t cores = 0;
  std::int64_t free_bytes = -1;        ///< free disk where it writes, at join (-1 unknown)
  std::vector<std::string> encoders;   ///< the H.264 encoder it compresses with
  bool hardware_encoder = false;
  std::vector<std::string> stages;     ///< what it runs ("media.*", "enrich.*", external enrichers)
  int media_workers = 0;
  int enrich_workers = 0;
  std::vector<std::string> paths;      ///< its path mappings, "COORDINATOR=LOCAL"
  std::int64_t joined_at = 0;          ///< Unix ms
  int slots = 0;                       ///< stages it may run at once
  int running = 0;                     ///< stages running there now
  std::vector<std::string> leases;     ///< "job/stage#attempt (N ms left)"
  std::uint64_t completed = 0;         ///< stages it completed since it joined
  std::uint64_t failed = 0;            ///< stage attempts it failed (lost, lapsed, errors)
};

/// The node as a JSON object (`postroll nodes --json`, GET /api/nodes).
POSTROLL_API std::string to_json(const node_summary& n);

}  // namespace postroll
