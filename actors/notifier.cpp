#include "actors/notifier.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>

namespace postroll {

namespace {

struct notifier_state {
  static inline const char* name = "postroll.notifier";
  std::vector<event_sink_actor> subscribers;
  std::unique_ptr<notification_sender> outside;  ///< desktop + webhook, on its own thread
  /// Durable deliveries in flight: answered when the sender is done.
  std::map<std::string, caf::typed_response_promise<bool>> in_flight;
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
  spdlog::log(level, "event {} job={} session={}{}{}{}{}{}{}", e.kind, e.job_id, e.session_id,
              e.stage.empty() ? "" : " stage=", e.stage, e.node.empty() ? "" : " node=", e.node,
              e.message.empty() ? "" : " : ", e.message);
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
      [self](deliver_atom, const std::string& id, const std::string& payload) -> caf::result<bool> {
        auto& st = self->state;
        if (st.in_flight.count(id))
          return true;  // already on its way (sent again after a restart race)
        auto rp = self->make_response_promise<bool>();
        st.in_flight.emplace(id, rp);
        notifier_actor me = self;
        st.outside->deliver(id, payload, [me, id] { caf::anon_send(me, delivered_atom::value, id); });
        return rp;
      },
      [self](delivered_atom, const std::string& id) {
        auto& st = self->state;
        if (auto it = st.in_flight.find(id); it != st.in_flight.end()) {
          it->second.deliver(true);
          st.in_flight.erase(it);
        }
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
