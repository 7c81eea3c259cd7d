#include "actors/supervisor.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>

#include "actors/enrichment_worker.hpp"
#include "actors/media_processor.hpp"
#include "actors/live_worker.hpp"
#include "actors/stage_worker.hpp"
#include "actors/notifier.hpp"

namespace postroll {

namespace {

struct supervisor_state {
  static inline const char* name = "postroll.supervisor";
  supervisor_config cfg;
  queue_actor queue;
  notifier_actor notifier;
  std::vector<media_processor_actor> processors;
  std::vector<enrichment_worker_actor> enrichers;
  std::vector<stage_worker_actor> followers;  ///< the "live" pool: live.record of recordings being made
  int restarts = 0;
  // Everything started, for shutdown. Shared with the exit functor because a
  // stateful actor's state is gone by the time attached functors run. Weak
  // (addresses): the functor lives as long as the supervisor object, and a
  // strong handle here would keep the queue's thread from ever ending.
  std::shared_ptr<std::vector<caf::actor_addr>> children = std::make_shared<std::vector<caf::actor_addr>>();
};

using supervisor_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

// Starts a worker of a pool ("media", "enrich" or "live") and offers it to the queue.
void start_worker(supervisor_ptr self, const std::string& pool) {
  auto& st = self->state;
  auto w = pool == "media"    ? spawn_media_processor(self->system(), st.queue, st.cfg.media)
           : pool == "enrich" ? spawn_enrichment_worker(self->system(), st.queue, st.cfg.enrich)
                              : spawn_live_follower(self->system(), st.queue, st.cfg.live);
  self->monitor(w);
  (pool == "media" ? st.processors : pool == "enrich" ? st.enrichers : st.followers).push_back(w);
  st.children->push_back(w.address());
  self->send(st.queue, register_atom::value, w, pool);
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
    start_worker(self, "media");
  for (int i = 0; i < st.cfg.enrich_workers; ++i)
    start_worker(self, "enrich");
  for (int i = 0; i < st.cfg.live_workers; ++i)
    start_worker(self, "live");
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.queue.address()) {
      spdlog::critical("supervisor: the queue stopped ({}); jobs stay durable for the next start",
                       caf::to_string(msg.reason));
      return;
    }
    auto find_in = [&](std::vector<stage_worker_actor>& v) {
      return std::find_if(v.begin(), v.end(), [&](const stage_worker_actor& p) { return p.address() == msg.source; });
    };
    std::string pool = "media";
    if (auto it = find_in(st.processors); it != st.processors.end()) {
      st.processors.erase(it);
    } else if (auto e = find_in(st.enrichers); e != st.enrichers.end()) {
      st.enrichers.erase(e);
      pool = "enrich";
    } else if (auto l = find_in(st.followers); l != st.followers.end()) {
      st.followers.erase(l);
      pool = "live";
    } else {
      return;
    }
    auto& kids = *st.children;
    kids.erase(std::remove_if(kids.begin(), kids.end(),
                              [&](const caf::actor_addr& c) { return c == msg.source; }),
               kids.end());
    if (msg.reason == caf::exit_reason::normal || msg.reason == caf::exit_reason::user_shutdown)
      return;
    ++st.restarts;
    spdlog::warn("supervisor: a {} worker crashed ({}); starting a new one (restart {})", pool,
                 caf::to_string(msg.reason), st.restarts);
    start_worker(self, pool);
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
  auto notifier = spawn_notifier(sys, cfg.notify);
  auto queue = spawn_queue(sys, cfg.queue, notifier);
  if (!queue) {
    caf::anon_send_exit(notifier, caf::exit_reason::user_shutdown);
    return queue.err();
  }
  return sys.spawn(supervisor_behavior, std::move(cfg), std::move(*queue), std::move(notifier));
}

}  // namespace postroll
