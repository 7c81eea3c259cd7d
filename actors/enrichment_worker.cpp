#include "actors/enrichment_worker.hpp"

#include "actors/stage_worker.hpp"

namespace postroll {

enrichment_worker_actor spawn_enrichment_worker(caf::actor_system& sys, queue_actor queue, enrich_options options) {
  return spawn_stage_worker(sys, std::move(queue), "enrich",
                            [options](const stage_order& order, const gst::cancel_token& cancel,
                                      const gst::progress_fn& progress) {
                              return run_enrich_stage(order.stage, order.session_dir, options, cancel, progress);
                            });
}

}  // namespace postroll
