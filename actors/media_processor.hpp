// The media-processor actor: a stage worker (actors/stage_worker) whose
// stages are the media ones: one at a time on a thread it owns (never on
// CAF's scheduler threads), progress to the queue every 100 ms, the result.
#pragma once

#include "actors/interfaces.hpp"
#include "config/path_map.hpp"
#include "pipelines/stages.hpp"

namespace postroll {

/// Spawns a media processor that reports to `report` (the queue, or a
/// worker node's agent). On a worker node, `paths` maps the coordinator's
/// session folders to this machine's and `fenced` clears every commit with
/// the coordinator (see spawn_stage_worker).
media_processor_actor spawn_media_processor(caf::actor_system& sys, stage_report_actor report, media_options options,
                                            const path_map& paths = {}, bool fenced = false);

}  // namespace postroll
