// The supervisor actor: starts the notifier, the queue, the media
// processors and the enrichment workers, restarts a worker that crashed,
// and stops them all when it stops. It holds no business logic.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/queue.hpp"
#include "actors/notifier.hpp"
#include "enrichment/enrich_stages.hpp"
#include "pipelines/stages.hpp"
#include "enrichment/live/live_follower.hpp"

namespace postroll {

struct supervisor_config {
  queue_config queue;
  media_options media;
  int media_workers = 1;
  enrich_options enrich;
  int enrich_workers = 2;  ///< enrichment stages run at once (0: none on this node)
  live_options live;
  int live_workers = 4;    ///< recordings followed at once (live.record stages)
  notifier_config notify;
};

/// Starts the actors. Fails when the job database cannot be opened.
result<supervisor_actor> start_supervisor(caf::actor_system& sys, supervisor_config cfg);

}  // namespace postroll
