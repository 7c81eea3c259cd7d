#include "actors/enrichment_worker.hpp"

#include "actors/stage_worker.hpp"

namespace postroll {

enrichment_worker_actor spawn_enrichment_worker(caf::actor_system& sys, stage_report_actor report, enrich_options options,
                                                const path_map& paths, bool fenced) {
  return spawn_pool_worker(sys, std::move(report), "enrich", std::move(options), paths, fenced, run_enrich_stage);
}

}  // namespace postroll
