#include "actors/node_agent.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <tuple>

#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/enrichment_worker.hpp"
#include "actors/interfaces.hpp"
#include "actors/media_processor.hpp"
#include "actors/node_setup.hpp"
#include "config/endpoint.hpp"
#include "config/path_map.hpp"
#include "pipelines/gst_init.hpp"

namespace postroll {

namespace fs = std::filesystem;

namespace {

struct agent_config {
  supervisor_config sc;
  node_info info;
  path_map paths;
  std::string host;
  std::uint16_t port = 0;
  bool tls = false;
  std::int64_t reconnect_max_ms = 30000;
  std::function<void(const std::string&)> refused;
};

// A held stage's key: job/stage#attempt.
std::string held_key(const std::string& job, const std::string& stage, int attempt) {
  return job + "/" + stage + "#" + std::to_string(attempt);
}

struct agent_state {
  static inline const char* name = "postroll.node_agent";
  agent_config cfg;
  std::vector<stage_worker_actor> workers;  ///< media first, then enrichment
  queue_actor queue;                        ///< the coordinator's, while joined
  std::int64_t backoff_ms = 0;
  int failed_connects = 0;
  bool refused = false;
  std::map<std::string, held_stage> held;       ///< running, or ended and not acknowledged
  std::map<std::string, stage_result> results;  ///< ended, not acknowledged
  struct pending_lease {
    caf::typed_response_promise<bool> rp;
    std::string job, stage;
    std::int32_t attempt;
  };
  std::vector<pending_lease> leases;  ///< asked while the coordinator was away
};

using agent_ptr = node_agent_actor::stateful_pointer<agent_state>;

stage_worker_actor spawn_worker(agent_ptr self, bool media) {
  auto& st = self->state;
  stage_report_actor report = caf::actor_cast<stage_report_actor>(self);
  auto w = media ? spawn_media_processor(self->system(), report, st.cfg.sc.media, st.cfg.paths, true)
                 : spawn_enrichment_worker(self->system(), report, st.cfg.sc.enrich, st.cfg.paths, true);
  self->monitor(w);
  return w;
}

// Which of this node's stage workers sent the current message.
std::optional<std::uint32_t> sender_index(agent_ptr self) {
  auto& workers = self->state.workers;
  auto sender = self->current_sender();
  auto it = std::find_if(workers.begin(), workers.end(), [&](const stage_worker_actor& w) {
    return caf::actor_cast<caf::strong_actor_ptr>(w) == sender;
  });
  if (it == workers.end())
    return std::nullopt;
  return std::uint32_t(it - workers.begin());
}

void retry_connect(agent_ptr self) {
  auto& st = self->state;
  st.backoff_ms = std::min<std::int64_t>(st.cfg.reconnect_max_ms, st.backoff_ms <= 0 ? 250 : st.backoff_ms * 2);
  self->delayed_send(self, std::chrono::milliseconds(st.backoff_ms), connect_atom::value);
}

void send_result(agent_ptr self, const std::string& key) {
  auto& st = self->state;
  auto it = st.results.find(key);
  if (it == st.results.end() || !st.queue)
    return;
  self->request(st.queue, std::chrono::seconds(30), report_atom::value, it->second)
    .then(
      [self, key](bool) {
        // Acknowledged (accepted, or refused as stale: either way settled).
        self->state.results.erase(key);
        self->state.held.erase(key);
      },
      [key](caf::error& e) {
        spdlog::warn("node: result of {} not acknowledged ({}); it is sent again after the next join", key,
                     caf::to_string(e));
      });
}

void join(agent_ptr self, queue_actor queue) {
  auto& st = self->state;
  node_join nj;
  nj.info = st.cfg.info;
  for (const auto& [key, h] : st.held)
    nj.held.push_back(h);
  self->request(queue, std::chrono::seconds(30), join_atom::value, nj, st.workers)
    .then(
      [self, queue](join_reply& r) {
        auto& st = self->state;
        if (r.failure) {
          st.refused = true;
          spdlog::error("node: the coordinator refused this node: {}", r.failure.message);
          if (st.cfg.refused)
            st.cfg.refused(r.failure.message);
          return;
        }
        st.queue = queue;
        st.backoff_ms = 0;
        st.failed_connects = 0;
        self->monitor(st.queue);
        spdlog::info("node: joined the coordinator at {}:{} (lease {} ms, {} stages held)", st.cfg.host,
                     st.cfg.port, r.lease_ms, st.held.size());
        for (const auto& [key, result] : st.results)
          send_result(self, key);
        for (auto& l : st.leases)
          self->request(st.queue, std::chrono::seconds(30), lease_atom::value, l.job, l.stage, l.attempt)
            .then([rp = l.rp](bool owned) mutable { rp.deliver(owned); },
                  [rp = l.rp](caf::error&) mutable { rp.deliver(false); });
        st.leases.clear();
      },
      [self](caf::error& e) {
        spdlog::warn("node: joining the coordinator failed ({}); retrying", caf::to_string(e));
        retry_connect(self);
      });
}

node_agent_actor::behavior_type agent_behavior(agent_ptr self, agent_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  for (int i = 0; i < st.cfg.info.media_workers; ++i)
    st.workers.push_back(spawn_worker(self, true));
  for (int i = 0; i < st.cfg.info.enrich_workers; ++i)
    st.workers.push_back(spawn_worker(self, false));
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.queue && msg.source == st.queue.address()) {
      st.queue = nullptr;
      spdlog::warn("node: lost the coordinator ({}); reconnecting", caf::to_string(msg.reason));
      retry_connect(self);
      return;
    }
    auto it = std::find_if(st.workers.begin(), st.workers.end(),
                           [&](const stage_worker_actor& w) { return w.address() == msg.source; });
    if (it == st.workers.end() || msg.reason == caf::exit_reason::user_shutdown)
      return;
    auto index = std::size_t(it - st.workers.begin());
    spdlog::warn("node: a stage worker crashed ({}); starting a new one", caf::to_string(msg.reason));
    *it = spawn_worker(self, int(index) < st.cfg.info.media_workers);
    // Its stage is lost with it: the coordinator hears so by the rejoin
    // (the stage is no longer held) and runs it again.
    for (auto h = st.held.begin(); h != st.held.end();)
      h = h->second.worker == index && !st.results.count(h->first) ? st.held.erase(h) : std::next(h);
    if (st.queue)
      join(self, st.queue);
  });
  // Leaving stops the workers (their stages are cancelled).
  self->attach_functor([workers = st.workers] {
    for (auto& w : workers)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  });
  self->send(self, connect_atom::value);
  return {
    [self](connect_atom) {
      auto& st = self->state;
      if (st.queue || st.refused)
        return;
      // This actor is detached: the blocking connect holds only its thread.
      auto sup = remote_supervisor(self->system(), st.cfg.host, st.cfg.port, st.cfg.tls);
      if (!sup) {
        if (st.failed_connects++ % 10 == 0)
          spdlog::warn("node: {}; retrying (at most every {} ms)", sup.err().message, st.cfg.reconnect_max_ms);
        retry_connect(self);
        return;
      }
      self->request(*sup, std::chrono::seconds(30), get_atom::value)
        .then([self](queue_actor& q, notifier_actor&) { join(self, std::move(q)); },
              [self](caf::error& e) {
                spdlog::warn("node: the coordinator did not answer ({}); retrying", caf::to_string(e));
                retry_connect(self);
              });
    },
    [self](const stage_progress& p) {
      auto& st = self->state;
      if (auto index = sender_index(self)) {
        auto key = held_key(p.job_id, p.stage, p.attempt);
        if (!st.held.count(key))
          st.held[key] = held_stage{p.job_id, p.stage, p.attempt, *index};
      }
      if (st.queue)
        self->send(st.queue, p);
    },
    [self](const stage_result& r) {
      auto& st = self->state;
      auto key = held_key(r.job_id, r.stage, r.attempt);
      st.results[key] = r;
      if (!st.held.count(key)) {
        // Refused at once (busy): never seen running; nothing to adopt.
        st.held[key] = held_stage{r.job_id, r.stage, r.attempt, sender_index(self).value_or(0)};
      }
      send_result(self, key);
    },
    [self](lease_atom, const std::string& job, const std::string& stage,
           std::int32_t attempt) -> caf::result<bool> {
      auto& st = self->state;
      if (st.queue)
        return self->delegate(st.queue, lease_atom::value, job, stage, attempt);
      // The coordinator is away (restarting): the answer waits for the rejoin.
      auto rp = self->make_response_promise<bool>();
      st.leases.push_back(agent_state::pending_lease{rp, job, stage, attempt});
      return rp;
    },
  };
}

// Each mapped root must exist and be writable here: stages write next to
// the recording.
std::vector<path_mapping> check_paths(const path_map& paths) {
  std::vector<path_mapping> out;
  for (const auto& [remote, local] : paths.pairs()) {
    path_mapping m{remote, local, {}};
    std::error_code ec;
    if (!fs::is_directory(local, ec))
      m.problem = "does not exist on this node (or is not a folder)";
    else if (::access(local.c_str(), W_OK) != 0)
      m.problem = "is not writable by this node (user " + std::to_string(::geteuid()) + ")";
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

struct worker_node::impl {
  caf::actor_system_config caf_cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor agent;
};

worker_node::worker_node(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

worker_node::~worker_node() {
  if (impl_ && impl_->agent)
    caf::anon_send_exit(impl_->agent, caf::exit_reason::user_shutdown);
}

result<std::unique_ptr<worker_node>> worker_node::start(const config& cfg,
                                                        std::function<void(const std::string&)> refused) {
  if (auto err = validate(cfg))
    return *err;
  gst::ensure_init();
  auto sc = supervisor_config_for(cfg);
  if (!sc)
    return sc.err();
  agent_config ac;
  ac.sc = std::move(*sc);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& text : cfg.path_map) {
    std::pair<std::string, std::string> pair;
    path_map::parse_pair(text, pair);  // validate() checked the syntax
    pairs.push_back(std::move(pair));
  }
  ac.paths = path_map{std::move(pairs)};
  ac.info = node_info_for(cfg, ac.sc);
  ac.info.paths = check_paths(ac.paths);
  auto coordinator = parse_endpoint(cfg.coordinator);  // validate() checked it
  if (!coordinator)
    return error{errc::bad_input, "cluster.coordinator must be HOST:PORT (got \"" + cfg.coordinator + "\")"};
  std::tie(ac.host, ac.port) = *coordinator;
  ac.tls = uses_tls(cfg);
  ac.reconnect_max_ms = cfg.reconnect_max_ms;
  ac.refused = std::move(refused);
  auto p = std::make_unique<impl>();
  add_message_types(p->caf_cfg);
  configure_transport(p->caf_cfg, cfg);
  p->caf_cfg.set("scheduler.max-threads", std::max(4u, std::thread::hardware_concurrency()));
  p->sys = std::make_unique<caf::actor_system>(p->caf_cfg);
  spdlog::info("node {}: worker of {} ({} media + {} enrichment workers, encoder {})", ac.info.id, cfg.coordinator,
               ac.info.media_workers, ac.info.enrich_workers,
               ac.info.encoders.empty() ? std::string{"none"} : ac.info.encoders.front());
  p->agent = caf::actor_cast<caf::actor>(p->sys->spawn<caf::detached>(agent_behavior, std::move(ac)));
  return std::unique_ptr<worker_node>{new worker_node(std::move(p))};
}

}  // namespace postroll
