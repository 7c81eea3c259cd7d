// A stage worker: the actor shape shared by the media processor and the
// enrichment worker. It runs one stage at a time on a thread it owns (never
// on CAF's scheduler threads), reports progress to the queue every 100 ms,
// stops the stage when told to, and answers with the stage's result. What
// a stage does is the `run` function it is given.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>

#include "actors/interfaces.hpp"
#include "config/path_map.hpp"
#include "session/output_file.hpp"
#include "storage/job_codec.hpp"
#include "postroll/error.hpp"
#include "session/cancel_token.hpp"

namespace postroll {

/// Runs one stage: `order` says which; `progress` takes 0..1; the stage
/// stops early with `errc::cancelled` once `cancel` is set.
using stage_runner = std::function<result<std::string>(const stage_order& order, const cancel_token& cancel,
                                                       const progress_fn& progress)>;

/// A runner for a pool's stage function, `run(order, session_dir, cancel,
/// progress)`, on a node that sees the session folders through `paths`: the
/// order's folder is mapped to this node's, paths in the result back to the
/// coordinator's (an empty map changes nothing).
template <class Run>
stage_runner mapped_runner(path_map paths, Run run) {
  return [paths = std::move(paths), run = std::move(run)](const stage_order& order, const cancel_token& cancel,
                                                          const progress_fn& progress) -> result<std::string> {
    auto out = run(order, paths.to_local(order.session_dir), cancel, progress);
    if (out)
      *out = paths.to_remote_json(*out);
    return out;
  };
}

/// Spawns a worker that runs stages with `run` and reports to `report`
/// (the queue, or a worker node's agent); `pool` ("media", "enrich") names
/// it in logs. The caller registers it with the queue (register_atom, or a
/// node's join). With `fenced`, every output file a stage commits is first
/// cleared with `report` (lease_atom): a worker node's stage whose lease
/// lapsed never overwrites the newer attempt's output.
stage_worker_actor spawn_stage_worker(caf::actor_system& sys, stage_report_actor report, std::string pool,
                                      stage_runner run, bool fenced = false);

/// A worker of `pool` whose stages are `stage_fn(stage, session_dir,
/// options, cancel, progress)` (run_media_stage, run_enrich_stage): each
/// order's seal key and job id go into its copy of `options`.
template <class Options, class StageFn>
stage_worker_actor spawn_pool_worker(caf::actor_system& sys, stage_report_actor report, std::string pool,
                                     Options options, const path_map& paths, bool fenced, StageFn stage_fn) {
  auto run = [options = std::move(options), stage_fn](const stage_order& order, const std::string& dir,
                                                      const cancel_token& cancel, const progress_fn& progress) {
    auto o = options;
    o.seal_key = order.seal_key;
    o.job_id = order.job_id;
    auto out = stage_fn(order.stage, dir, o, cancel, progress);
    // What the outputs take now, measured here (the worker's thread), so
    // the queue never walks a folder.
    if (out)
      *out = with_output_bytes(*out, folder_bytes(std::filesystem::path{dir} / o.output_dir));
    return out;
  };
  return spawn_stage_worker(sys, std::move(report), std::move(pool), mapped_runner(paths, run), fenced);
}

}  // namespace postroll
