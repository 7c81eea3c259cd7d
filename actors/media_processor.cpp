#include "actors/media_processor.hpp"

#include "actors/stage_worker.hpp"

namespace postroll {

media_processor_actor spawn_media_processor(caf::actor_system& sys, queue_actor queue, media_options options) {
  return spawn_stage_worker(sys, std::move(queue), "media",
                            [options](const stage_order& order, const gst::cancel_token& cancel,
                                      const gst::progress_fn& progress) {
                              return run_media_stage(order.stage, order.session_dir, options, cancel, progress);
                            });
}

}  // namespace postroll
