#include "actors/media_processor.hpp"

#include "actors/stage_worker.hpp"

namespace postroll {

media_processor_actor spawn_media_processor(caf::actor_system& sys, stage_report_actor report, media_options options,
                   const path_map& paths, bool fenced) {
  return spawn_stage_worker(sys, std::move(report), "media",
                            [options, paths](const stage_order& order, const gst::cancel_token& cancel,
                                             const gst::progress_fn& progress) -> result<std::string> {
                              auto out = run_media_stage(order.stage, paths.to_local(order.session_dir), options, cancel, progress);
                              if (out)
                                *out = paths.to_remote_json(*out);
                              return out;
                            },
                            fenced);
}

}  // namespace postroll
