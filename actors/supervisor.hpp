// The supervisor actor: starts the notifier, the queue and the media
// processors, restarts a media processor that crashed, and stops them all
// when it stops. It holds no business logic.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/queue.hpp"
#include "pipelines/stages.hpp"

namespace postroll {

struct supervisor_config {
  queue_config queue;
  media_options media;
  int media_workers = 1;
};

/// Starts the actors. Fails when the job database cannot be opened.
result<supervisor_actor> start_supervisor(caf::actor_system& sys, supervisor_config cfg);

}  // namespace postroll
