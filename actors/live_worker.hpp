// The live-follower worker: runs live.record of a recording being made (one
// at a time per worker, for as long as the recording lasts) and reports to
// the queue like any stage worker. It never touches RocksDB.
#pragma once

#include "actors/interfaces.hpp"
#include "enrichment/live/live_follower.hpp"

namespace postroll {

/// Spawns a follower reporting to `report` (the queue). Each order's job
/// choices say whether the live work includes the transcript.
stage_worker_actor spawn_live_follower(caf::actor_system& sys, stage_report_actor report, live_options options);

}  // namespace postroll
