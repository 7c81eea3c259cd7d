#include "actors/supervisor.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>

#include "actors/media_processor.hpp"
#include "actors/notifier.hpp"

namespace postroll {

namespace {

struct supervisor_state {
  static inline const char* name = "postroll.supervisor";
  supervisor_config cfg;
  queue_actor queue;
  notifier_actor notifier;
  std::vector<media_processor_actor> processors;
  int restarts = 0;
  // Everything started, for shutdown. Shared with the exit functor because a
  // stateful actor's state is gone by the time attached functors run. Weak
  // (addresses): the functor lives as long as the supervisor object, and a
  // strong handle here would keep the queue's thread from ever ending.
  std::shared_ptr<std::vector<caf::actor_addr>> children = std::make_shared<std::vector<caf::actor_addr>>();
};

using supervisor_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

void start_processor(supervisor_ptr self) {
  auto& st = self->state;
  auto p = spawn_media_processor(self->system(), st.queue, st.cfg.media);
  self->monitor(p);
  st.processors.push_back(p);
  st.children->push_back(p.address());
  self->send(st.queue, register_atom::value, p);
}

supervisor_actor::behavior_type supervisor_behavior(supervisor_ptr self, supervisor_config cfg,
                                                    queue_actor queue, notifier_actor notifier) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.queue = std::move(queue);
  st.notifier = std::move(notifier);
  self->monitor(st.queue);
  st.children->push_back(st.queue.address());
  st.children->push_back(st.notifier.address());
  for (int i = 0; i < st.cfg.media_workers; ++i)
    start_processor(self);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.queue.address()) {
      spdlog::critical("supervisor: the queue stopped ({}); jobs stay durable for the next start",
                       caf::to_string(msg.reason));
      return;
    }
    auto it = std::find_if(st.processors.begin(), st.processors.end(),
                           [&](const media_processor_actor& p) { return p.address() == msg.source; });
    if (it == st.processors.end())
      return;
    st.processors.erase(it);
    auto& kids = *st.children;
    kids.erase(std::remove_if(kids.begin(), kids.end(),
                              [&](const caf::actor_addr& c) { return c == msg.source; }),
               kids.end());
    if (msg.reason == caf::exit_reason::normal || msg.reason == caf::exit_reason::user_shutdown)
      return;
    ++st.restarts;
    spdlog::warn("supervisor: a media processor crashed ({}); starting a new one (restart {})",
                 caf::to_string(msg.reason), st.restarts);
    start_processor(self);
  });
  // Stopping the supervisor stops everything it started.
  self->attach_functor([children = st.children] {
    for (auto& c : *children)
      if (auto handle = caf::actor_cast<caf::actor>(c))
        caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
  });
  return {
    [self](get_atom) { return caf::result<queue_actor, notifier_actor>(self->state.queue, self->state.notifier); },
    [self](list_atom) {
      return caf::result<std::vector<media_processor_actor>, std::int32_t>(self->state.processors,
                                                                          self->state.restarts);
    },
  };
}

}  // namespace

result<supervisor_actor> start_supervisor(caf::actor_system& sys, supervisor_config cfg) {
  auto notifier = spawn_notifier(sys);
  auto queue = spawn_queue(sys, cfg.queue, notifier);
  if (!queue) {
    caf::anon_send_exit(notifier, caf::exit_reason::user_shutdown);
    return queue.err();
  }
  return sys.spawn(supervisor_behavior, std::move(cfg), std::move(*queue), std::move(notifier));
}

}  // namespace postroll
