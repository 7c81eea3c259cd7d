#include "actors/enrichment_worker.hpp"

#include "actors/stage_worker.hpp"

namespace postroll {

enrichment_worker_actor spawn_enrichment_worker(caf::actor_system& sys, stage_report_actor report, enrich_options options,
                   const path_map& paths, bool fenced) {
  return spawn_stage_worker(sys, std::move(report), "enrich",
                            [options, paths](const stage_order& order, const gst::cancel_token& cancel,
                                             const gst::progress_fn& progress) -> result<std::string> {
                              auto out = run_enrich_stage(order.stage, paths.to_local(order.session_dir), options, cancel, progress);
                              if (out)
                                *out = paths.to_remote_json(*out);
                              return out;
                            },
                            fenced);
}

}  // namespace postroll
