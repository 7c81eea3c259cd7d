#include "actors/media_processor.hpp"

#include "actors/stage_worker.hpp"

namespace postroll {

media_processor_actor spawn_media_processor(caf::actor_system& sys, stage_report_actor report, media_options options,
                                            const path_map& paths, bool fenced) {
  auto run = [options](const stage_order& order, const std::string& dir, const gst::cancel_token& cancel,
                       const gst::progress_fn& progress) {
    auto o = options;
    o.seal_key = order.seal_key;
    o.job_id = order.job_id;
    return run_media_stage(order.stage, dir, o, cancel, progress);
  };
  return spawn_stage_worker(sys, std::move(report), "media", mapped_runner(paths, run), fenced);
}

}  // namespace postroll
