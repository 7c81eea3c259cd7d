// The enrichment-worker actor: runs one enrichment stage at a time
// (transcript, chapters, summary, canvas, external enrichers) on a thread
// it owns, reports progress to the queue every 100 ms, stops the stage
// within a second when told to. It never touches RocksDB.
#pragma once

#include "actors/interfaces.hpp"
#include "enrichment/enrich_stages.hpp"

namespace postroll {

/// Spawns an enrichment worker that reports to `queue`.
enrichment_worker_actor spawn_enrichment_worker(caf::actor_system& sys, queue_actor queue, enrich_options options);

}  // namespace postroll
