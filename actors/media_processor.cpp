#include "actors/media_processor.hpp"

#include "actors/stage_worker.hpp"

namespace postroll {

media_processor_actor spawn_media_processor(caf::actor_system& sys, stage_report_actor report, media_options options,
                                            const path_map& paths, bool fenced) {
  return spawn_pool_worker(sys, std::move(report), "media", std::move(options), paths, fenced, run_media_stage);
}

}  // namespace postroll
