// The media-processor actor: runs one media stage at a time on a thread it
// owns (never on CAF's scheduler threads), forwards progress to the queue at
// most every 100 ms, and answers with the stage's result.
#pragma once

#include "actors/interfaces.hpp"
#include "pipelines/stages.hpp"

namespace postroll {

/// Spawns a media processor that reports to `queue`.
media_processor_actor spawn_media_processor(caf::actor_system& sys, queue_actor queue,
                                            media_options options);

}  // namespace postroll
