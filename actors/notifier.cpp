#include "actors/notifier.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>

namespace postroll {

namespace {

struct notifier_state {
  static inline const char* name = "postroll.notifier";
  std::vector<event_sink_actor> subscribers;
  std::unique_ptr<notification_sender> outside;  ///< desktop + webhook, on its own thread
};

void log_event(const event& e) {
  if (e.kind == events::stage_progress) {
    spdlog::debug("event {} job={} stage={} progress={:.3f} eta_ms={}", e.kind, e.job_id, e.stage,
                  e.progress, e.eta_ms);
    return;
  }
  auto level = (e.kind == events::job_failed || e.kind == events::stage_failed)
                 ? spdlog::level::warn
                 : spdlog::level::info;
  spdlog::log(level, "event {} job={} session={}{}{}{}{}", e.kind, e.job_id, e.session_id,
              e.stage.empty() ? "" : " stage=", e.stage, e.message.empty() ? "" : " : ", e.message);
}

}  // namespace

notifier_actor spawn_notifier(caf::actor_system& sys, notifier_config cfg) {
  return sys.spawn([cfg](notifier_actor::stateful_pointer<notifier_state> self)
                     -> notifier_actor::behavior_type {
    self->state.outside = std::make_unique<notification_sender>(cfg);
    self->set_down_handler([self](caf::down_msg& msg) {
      auto& subs = self->state.subscribers;
      subs.erase(std::remove_if(subs.begin(), subs.end(),
                                [&](const event_sink_actor& s) { return s.address() == msg.source; }),
                 subs.end());
    });
    return {
      [self](publish_atom, const event& e) {
        log_event(e);
        for (auto& s : self->state.subscribers)
          self->send(s, e);
        self->state.outside->post(e);
      },
      [self](subscribe_atom, event_sink_actor sink) {
        self->monitor(sink);
        self->state.subscribers.push_back(std::move(sink));
        return true;
      },
    };
  });
}

}  // namespace postroll
