// The enrichment-worker actor: runs one enrichment stage at a time
// (transcript, chapters, summary, canvas, external enrichers) on a thread
// it owns, reports progress to the queue every 100 ms, stops the stage
// within a second when told to. It never touches RocksDB.
#pragma once

#include "actors/interfaces.hpp"
#include "config/path_map.hpp"
#include "enrichment/enrich_stages.hpp"

namespace postroll {

/// Spawns an enrichment worker that reports to `report` (the queue, or a
/// worker node's agent). On a worker node, `paths` maps the coordinator's
/// session folders to this machine's and `fenced` clears every commit with
/// the coordinator (see spawn_stage_worker).
enrichment_worker_actor spawn_enrichment_worker(caf::actor_system& sys, stage_report_actor report, enrich_options options,
                                            const path_map& paths = {}, bool fenced = false);

}  // namespace postroll
