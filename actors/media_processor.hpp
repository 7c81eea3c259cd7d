// The media-processor actor: a stage worker (actors/stage_worker) whose
// stages are the media ones: one at a time on a thread it owns (never on
// CAF's scheduler threads), progress to the queue every 100 ms, the result.
#pragma once

#include "actors/interfaces.hpp"
#include "pipelines/stages.hpp"

namespace postroll {

/// Spawns a media processor that reports to `queue`.
media_processor_actor spawn_media_processor(caf::actor_system& sys, queue_actor queue,
                                            media_options options);

}  // namespace postroll
