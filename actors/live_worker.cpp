#include "actors/live_worker.hpp"

#include <nlohmann/json.hpp>

#include "actors/stage_worker.hpp"

namespace postroll {

stage_worker_actor spawn_live_follower(caf::actor_system& sys, stage_report_actor report, live_options options) {
  auto run = [options = std::move(options)](const stage_order& order, const cancel_token& cancel,
                                            const progress_fn& progress) -> result<std::string> {
    auto o = options;
    o.seal_key = order.seal_key;
    o.job_id = order.job_id;
    auto choices = nlohmann::json::parse(order.choices, nullptr, false);
    if (choices.is_object() && choices.value("enrich", -1) >= 0)
      o.transcribe = choices.value("enrich", -1) > 0;
    return run_live_stage(order.stage, order.session_dir, o, cancel, progress);
  };
  return spawn_stage_worker(sys, std::move(report), "live", std::move(run));
}

}  // namespace postroll
