#include "actors/enrichment_worker.hpp"

#include "actors/stage_worker.hpp"

namespace postroll {

enrichment_worker_actor spawn_enrichment_worker(caf::actor_system& sys, stage_report_actor report, enrich_options options,
                                                const path_map& paths, bool fenced) {
  auto run = [options](const stage_order& order, const std::string& dir, const gst::cancel_token& cancel,
                       const gst::progress_fn& progress) {
    auto o = options;
    o.seal_key = order.seal_key;
    return run_enrich_stage(order.stage, dir, o, cancel, progress);
  };
  return spawn_stage_worker(sys, std::move(report), "enrich", mapped_runner(paths, run), fenced);
}

}  // namespace postroll
