#include "actors/queue.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <limits>
#include <memory>
#include <cstdio>

#include <sys/statvfs.h>
#include <random>
#include <set>
#include <thread>
#include <tuple>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/backoff.hpp"
#include "actors/stage_plan.hpp"
#include "pipelines/output_file.hpp"
#include "pipelines/repair.hpp"
#include "pipelines/session_removal.hpp"
#include "pipelines/stages.hpp"
#include "session/manifest.hpp"
#include "session/seal.hpp"
#include "storage/group_writer.hpp"
#include "storage/job_store.hpp"

namespace postroll {

namespace fs = std::filesystem;

namespace {

using ready_key = std::tuple<int, std::int64_t, std::string>;  // priority, created, id

struct worker_slot {
  stage_worker_actor handle;
  std::string pool;   ///< "media", "enrich": which stages it runs
  std::string job;    ///< running job id, empty when idle
  std::string stage;  ///< the stage it runs
  std::string node;   ///< the node it lives on
  bool remote = false;          ///< on a worker node: holds its stage by lease
  int attempt = 0;              ///< the attempt it runs (fencing number)
  std::int64_t lease_until = 0; ///< remote: Unix ms the lease lapses, renewed by progress
  bool lapsed = false;          ///< remote: its lease lapsed; busy until it reports back
  /// Pool, encoder class and what its node runs: slots of one kind can
  /// run the same stages (dispatch skips a kind that found nothing).
  std::string kind;
};

/// A node serving the queue: the coordinator's own workers or a worker node.
struct node_entry {
  node_info info;
  bool local = false;
  std::int64_t joined_at = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
};

// Per running stage: "job/stage".
std::string run_key(const std::string& job, const std::string& stage) { return job + "/" + stage; }

struct queue_state {
  static inline const char* name = "postroll.queue";
  queue_config cfg;
  std::shared_ptr<job_store> store;
  /// The trash sweep's thread: joined (after asking it to stop) before the
  /// store can close, never left running into the process's exit.
  std::thread purger;
  std::shared_ptr<std::atomic<bool>> purger_stop = std::make_shared<std::atomic<bool>>(false);
  ~queue_state() {
    purger_stop->store(true);
    if (purger.joinable())
      purger.join();
  }
  notifier_actor notifier;
  std::unordered_map<std::string, job_record> live;  ///< every non-terminal job
  /// Per worker pool, the jobs with a stage of that pool whose needs are
  /// met and that waits for a worker (maybe in backoff).
  std::map<std::string, std::set<ready_key>> ready;
  std::vector<worker_slot> workers;
  std::map<std::string, node_entry> nodes;  ///< by node id
  /// Stages found running at start-up (run_key), waiting for a worker node
  /// to re-adopt them until adopt_ms has passed.
  std::unordered_set<std::string> orphans;
  std::unordered_map<std::string, std::int64_t> last_progress;  ///< run_key -> ms of last event
  job_counts counts;  ///< jobs per state, kept in step with every persist()
  std::mt19937_64 rng{std::random_device{}()};  ///< retry jitter
  /// Running stages' last progress, for the stall watchdog.
  struct watch {
    double fraction = -1;
    std::int64_t changed_at = 0;
    bool stalled = false;  ///< cancelled by the watchdog: its end counts as a failure
  };
  std::unordered_map<std::string, watch> watches;  ///< run_key -> its running stage
  bool watchdog_armed = false;
  /// Callers of remove() waiting for a removal's files to go.
  std::unordered_map<std::string, std::vector<std::function<void(job_reply)>>> removal_waiters;
  bool disk_recheck_armed = false;  ///< a wakeup is due to look at jobs waiting for disk space
  std::unordered_map<std::string, std::int64_t> disk_waiting_since;  ///< job -> Unix ms it began to wait
  std::set<std::string> disk_expired;  ///< jobs that waited disk_wait_ms: failed after this dispatch round
  std::uint64_t id_counter = 0;
  std::unordered_map<std::string, std::string> live_session;  ///< session id -> its live job
  // Group commit: changes go to the writer thread; what depends on them
  // being durable (replies, events, starting a stage) waits in `after`
  // until the writer reports their ticket committed.
  std::uint64_t enqueued = 0;   ///< ticket of the newest change handed to the writer
  std::uint64_t committed = 0;  ///< newest ticket known durable
  std::deque<std::pair<std::uint64_t, std::function<void(const maybe_error&)>>> after;
  /// Jobs that left `live` (ended, or removed: nullopt) whose change is not
  /// durable yet: status answers from here, not from the older stored copy.
  std::unordered_map<std::string, std::pair<std::uint64_t, std::optional<job_record>>> unflushed;
  bool draining = false;  ///< a graceful stop: no new stage starts
  /// The job database could not be written (a full disk): nothing is
  /// dispatched or accepted any more; reads still answer. Set from the
  /// writer's first failed commit.
  std::string store_broken;
  std::vector<caf::typed_response_promise<bool>> drained;  ///< answered once no stage runs
  std::unique_ptr<group_writer> writer;  ///< last: destroyed (and drained) first
};

using queue_ptr = queue_actor::stateful_pointer<queue_state>;

std::int64_t volume_free_bytes(const std::string& dir) {
  struct statvfs st;
  if (::statvfs(dir.c_str(), &st) != 0)
    return std::numeric_limits<std::int64_t>::max();  // unknown: do not hold jobs back
  return std::int64_t(st.f_bavail) * std::int64_t(st.f_frsize);
}

std::string human_bytes(std::int64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", double(b) / 1e6);
  return buf;
}

std::int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

ready_key key_of(const job_record& j) { return {int(j.prio), j.created_at, j.id}; }

stage_record* next_stage(job_record& j) {
  for (auto& s : j.stages)
    if (s.state != job_state::completed)
      return &s;
  return nullptr;
}

bool all_completed(const job_record& j) {
  return std::all_of(j.stages.begin(), j.stages.end(),
                     [](const stage_record& s) { return s.state == job_state::completed; });
}

bool any_in(const job_record& j, job_state state) {
  return std::any_of(j.stages.begin(), j.stages.end(), [&](const stage_record& s) { return s.state == state; });
}

// A pending stage whose needs have all completed (backoff aside).
bool needs_met(const job_record& j, const stage_record& s) {
  for (const auto& n : s.needs) {
    auto it = std::find_if(j.stages.begin(), j.stages.end(), [&](const stage_record& o) { return o.name == n; });
    if (it != j.stages.end() && it->state != job_state::completed)
      return false;
  }
  return true;
}

// The pending stages of `pool` that may start now, in plan order.
std::vector<stage_record*> startable(job_record& j, const std::string& pool) {
  std::vector<stage_record*> out;
  for (auto& s : j.stages)
    if (s.state == job_state::pending && pool_of(s.name) == pool && needs_met(j, s))
      out.push_back(&s);
  return out;
}

template <class Pred>
stage_record* find_stage_if(job_record& j, Pred pred) {
  for (auto& s : j.stages)
    if (pred(s))
      return &s;
  return nullptr;
}

stage_record* find_stage(job_record& j, const std::string& name) {
  for (auto& s : j.stages)
    if (s.name == name)
      return &s;
  return nullptr;
}

job_reply reply_error(errc code, std::string message) {
  return job_reply{std::uint8_t(code), std::move(message), {}};
}

job_reply reply_ok(const job_record& j) { return job_reply{0, {}, j}; }

// The "file" a stage reported in its JSON result, if any.
std::string output_file_of(const std::string& stage_result_json) {
  auto v = nlohmann::json::parse(stage_result_json, nullptr, false);
  if (v.is_object() && v.contains("file") && v["file"].is_string())
    return v["file"].get<std::string>();
  return {};
}

class queue_logic {
public:
  explicit queue_logic(queue_ptr self) : self_(self), st_(self->state) {}

  std::int64_t now() const { return st_.cfg.now_ms(); }

  void emit(const job_record& j, const char* kind, const std::string& stage = {},
            std::string message = {}, double progress = 0, std::int64_t eta = -1) {
    event e;
    e.kind = kind;
    e.job_id = j.id;
    e.session_id = j.session_id;
    e.stage = stage;
    e.progress = progress;
    e.eta_ms = eta;
    e.message = std::move(message);
    e.time = now();
    for (const auto& s : j.stages)
      if (!stage.empty() && s.name == stage)
        e.node = s.node;
    // An event never announces a change that a crash could still undo.
    after_commit([self = self_, e = std::move(e)](const maybe_error& err) mutable {
      if (!err)  // a change that was not saved is not announced
        self->send(self->state.notifier, publish_atom::value, std::move(e));
    });
  }

  // Runs `fn` once every change handed to the writer so far is durable (at
  // once if it already is). Callbacks run in the order they were added.
  void after_commit(std::function<void(const maybe_error&)> fn) {
    if (st_.committed >= st_.enqueued && st_.after.empty()) {
      fn(std::nullopt);
      return;
    }
    st_.after.emplace_back(st_.enqueued, std::move(fn));
  }

  // A reply computed by `make` once everything before it is durable.
  template <class T, class Make>
  caf::result<T> when_durable(Make make) {
    if (st_.committed >= st_.enqueued && st_.after.empty())
      return make(std::nullopt);
    auto rp = self_->template make_response_promise<T>();
    after_commit([rp, make](const maybe_error& err) mutable { rp.deliver(make(err)); });
    return rp;
  }

  caf::result<job_reply> reply_when_durable(job_reply r) {
    return when_durable<job_reply>([r](const maybe_error& err) {
      return err ? reply_error(err->code, "not saved: " + err->message) : r;
    });
  }

  void on_committed(std::uint64_t ticket, std::uint8_t code, const std::string& message) {
    maybe_error err;
    if (code != 0) {
      err = error{errc(code), message};
      if (st_.store_broken.empty())
        spdlog::critical("queue: {}; no new stage starts and no job is accepted until the node restarts "
                         "(running stages finish; what they do is not saved)",
                         message);
      st_.store_broken = message;
    }
    st_.committed = std::max(st_.committed, ticket);
    while (!st_.after.empty() && st_.after.front().first <= st_.committed) {
      auto fn = std::move(st_.after.front().second);
      st_.after.pop_front();
      fn(err);
    }
    for (auto it = st_.unflushed.begin(); it != st_.unflushed.end();)
      it = it->second.first <= st_.committed ? st_.unflushed.erase(it) : std::next(it);
  }

  // Hands `j` to the writer and updates memory at once; `before` is the
  // stored version. Whatever must not run before it is durable goes
  // through after_commit.
  void persist(job_record& j, const job_record* before, const std::string& reason) {
    j.updated_at = now();
    store_op op;
    op.job = j;
    if (before)
      op.previous = *before;
    op.reason = reason;
    std::optional<std::pair<std::string, std::string>> owed;
    if (st_.cfg.outbox && (j.state == job_state::completed || j.state == job_state::failed) &&
        (!before || !is_terminal(before->state))) {
      // The notification is written in the same batch as the final state:
      // no crash can lose it (at least once; the id lets receivers dedupe).
      auto id = j.id + ":" + to_string(j.state) + ":" + std::to_string(j.updated_at);
      nlohmann::json payload = {{"deliveryId", id},
                                {"event", j.state == job_state::completed ? events::job_completed : events::job_failed},
                                {"job", nlohmann::json::parse(to_json(j))}};
      owed.emplace(id, payload.dump());
      op.outbox_add.push_back(*owed);
    }
    st_.enqueued = st_.writer->enqueue(std::move(op));
    if (owed)
      after_commit([self = self_, owed = *owed](const maybe_error& err) {
        if (!err)
          queue_logic{self}.deliver(owed.first, owed.second);
      });
    if (before)
      --st_.counts.by_state[size_t(before->state)];
    ++st_.counts.by_state[size_t(j.state)];
    if (is_terminal(j.state)) {
      st_.live.erase(j.id);
      for (auto& [pool, keys] : st_.ready)
        keys.erase(key_of(j));
      for (const auto& s : j.stages)
        st_.last_progress.erase(run_key(j.id, s.name));
      if (auto s = st_.live_session.find(j.session_id); s != st_.live_session.end() && s->second == j.id)
        st_.live_session.erase(s);
      st_.unflushed[j.id] = {st_.enqueued, j};
    } else {
      st_.live[j.id] = j;
      st_.live_session[j.session_id] = j.id;
      refresh_ready(j);
    }
  }

  // Puts a live job in the ready set of every pool it has a startable
  // stage for, and takes it out of the others.
  void refresh_ready(job_record& j) {
    std::set<std::string> pools;
    if (!j.cancel_requested)
      for (auto& s : j.stages)
        if (s.state == job_state::pending && needs_met(j, s))
          pools.insert(pool_of(s.name));
    for (auto& [pool, keys] : st_.ready)
      if (!pools.count(pool))
        keys.erase(key_of(j));
    for (const auto& pool : pools)
      st_.ready[pool].insert(key_of(j));
  }

  // Applies `change` to the live job `id` and persists it; `out` receives
  // the new record (also when it became terminal and left `live`).
  template <class Change>
  maybe_error transition(const std::string& id, const std::string& reason, Change&& change,
                         job_record* out = nullptr) {
    auto it = st_.live.find(id);
    if (it == st_.live.end())
      return error{errc::not_found, "job " + id + " is not live"};
    job_record before = it->second;
    job_record after = before;
    change(after);
    persist(after, &before, reason);
    if (out)
      *out = std::move(after);
    return std::nullopt;
  }

  std::string new_id() {
    static const char* hex = "0123456789abcdef";
    std::uint64_t v = std::uint64_t(now()) * 1000003u ^ (++st_.id_counter * 0x9e3779b97f4a7c15ull) ^
                      std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
    std::string id = "j";
    for (int i = 0; i < 12; ++i, v >>= 4)
      id += hex[v & 15];
    return id;
  }

  // -- durable notifications ------------------------------------------------

  // Hands a notification to the notifier; once it is delivered (or given
  // up) it leaves the outbox. Not answered (a crash): it stays, and the
  // next start sends it again.
  void deliver(const std::string& id, const std::string& payload) {
    self_->request(st_.notifier, caf::infinite, deliver_atom::value, id, payload)
      .then(
        [self = self_, id](bool) {
          store_op op;
          op.job_change = false;
          op.outbox_done.push_back(id);
          auto& st = self->state;
          st.enqueued = st.writer->enqueue(std::move(op));
        },
        [id](caf::error& e) {
          // The notifier is gone (shutdown): the delivery stays in the
          // outbox and goes out at the next start.
          spdlog::info("queue: notification {} not confirmed ({}); kept for the next start", id, caf::to_string(e));
        });
  }

  // -- start-up recovery ----------------------------------------------------

  void recover() {
    if (auto owed = st_.store->outbox()) {
      for (auto& [id, payload] : *owed) {
        spdlog::info("queue: notification {} was not delivered before the last stop; sending it again", id);
        deliver(id, payload);
      }
    } else {
      spdlog::error("queue: {}", owed.err().message);
    }
    st_.counts = st_.store->count_by_state();
    // Removals a stop interrupted: their files first, then the record.
    auto removing = st_.store->recent(100000, {}, nullptr, [](const job_record& j) { return j.removing != 0; });
    if (removing)
      for (const auto& j : *removing) {
        spdlog::info("queue: finishing the removal of job {} ({})", j.id, j.session_dir);
        start_removal(j);
      }
    for (auto state : {job_state::processing, job_state::pending}) {
      auto jobs = st_.store->in_state(state);
      if (!jobs) {
        spdlog::error("queue: recovery cannot read {} jobs: {}", to_string(state), jobs.err().message);
        continue;
      }
      for (auto& j : *jobs) {
        bool running = std::any_of(j.stages.begin(), j.stages.end(),
                                   [](const stage_record& s) { return s.state == job_state::processing; });
        if (running && st_.cfg.adopt_ms > 0) {
          // A coordinator: worker nodes may still run these stages; they
          // get adopt_ms to say so before the stages count as interrupted.
          for (const auto& s : j.stages)
            if (s.state == job_state::processing)
              st_.orphans.insert(run_key(j.id, s.name));
          st_.live[j.id] = j;
          st_.live_session[j.session_id] = j.id;
          refresh_ready(st_.live[j.id]);
          spdlog::info("queue: job {} had stages running at the last stop; waiting {} ms for their workers", j.id,
                       st_.cfg.adopt_ms);
          continue;
        }
        st_.live[j.id] = j;  // so persist() sees a live job
        requeue_interrupted(j.id, {}, "recovered at start-up");
      }
    }
    if (!st_.orphans.empty())
      self_->delayed_send(self_, std::chrono::milliseconds(st_.cfg.adopt_ms), adopt_atom::value);
    schedule_wakeup();
  }

  // Stages of a live job that were running when their node (or the
  // coordinator) stopped: each such run counts as an attempt; a stage out
  // of attempts fails the job. `only` limits it to some stages ("" = all).
  void requeue_interrupted(const std::string& id, const std::set<std::string>& only, const std::string& reason) {
    auto it = st_.live.find(id);
    if (it == st_.live.end())
      return;
    job_record before = it->second;
    job_record j = before;
    bool poisoned = false;
    for (auto& s : j.stages) {
      if (s.state != job_state::processing || (!only.empty() && !only.count(s.name)))
        continue;
      s.state = job_state::pending;
      s.error = "interrupted: the node stopped while this stage ran";
      if (s.attempts >= st_.cfg.max_attempts && optional_stage(s.name)) {
        s.state = job_state::completed;
        s.finished_at = now();
        s.result = skipped_result("crashed the worker " + std::to_string(s.attempts) + " times");
        continue;
      }
      if (s.attempts >= st_.cfg.max_attempts) {
        j.state = job_state::failed;
        j.error_code = errc::internal;
        j.error = s.name + ": crashed the worker " + std::to_string(s.attempts) + " times";
        s.state = job_state::failed;
        poisoned = true;
      }
    }
    if (!poisoned && std::none_of(j.stages.begin(), j.stages.end(),
                                  [](const stage_record& s) { return s.state == job_state::processing; }))
      j.state = all_completed(j) ? job_state::completed : job_state::pending;
    persist(j, &before, poisoned ? j.error : reason);
    if (j.state == job_state::completed) {
      emit(j, events::job_completed, {}, j.output);
    } else if (poisoned) {
      emit(j, events::job_failed, {}, j.error);
      spdlog::warn("queue: job {} failed at recovery: {}", j.id, j.error);
    } else {
      spdlog::info("queue: resuming job {} ({}) at {}", j.id, j.session_dir,
                   next_stage(j) ? next_stage(j)->name : "end");
    }
  }

  // adopt_ms after a start: stages no worker node re-adopted were lost.
  void on_adopt_deadline() {
    std::map<std::string, std::set<std::string>> lost;
    for (const auto& key : st_.orphans) {
      auto slash = key.find('/');
      lost[key.substr(0, slash)].insert(key.substr(slash + 1));
    }
    st_.orphans.clear();
    for (const auto& [id, stages] : lost) {
      spdlog::warn("queue: no worker re-adopted job {}'s running stages within {} ms; running them again", id,
                   st_.cfg.adopt_ms);
      requeue_interrupted(id, stages, "recovered at start-up: no worker still ran it");
    }
    dispatch();
  }

  // -- requests -------------------------------------------------------------

  // Requests that change state are refused while the database cannot be written.
  std::optional<job_reply> refuse_if_broken() const {
    if (st_.store_broken.empty())
      return std::nullopt;
    return reply_error(errc::io, "not accepted: " + st_.store_broken);
  }

  caf::result<job_reply> submit(const submit_request& req) {
    if (auto no = refuse_if_broken())
      return *no;
    const auto& dir = req.session_dir;
    const auto& prio_text = req.priority;
    priority prio = priority::normal;
    if (!prio_text.empty() && !parse(prio_text, prio))
      return reply_error(errc::bad_input, "unknown priority \"" + prio_text + "\" (high, normal, low)");
    manifest_options mo;
    mo.missing_audio_as_silence = st_.cfg.missing_audio_as_silence;
    mo.roots = st_.cfg.session_roots;
    mo.max_session_ms = st_.cfg.max_session_ms;
    mo.max_entries = st_.cfg.max_session_files;
    auto m = load_manifest(dir, mo);
    if (!m)
      return reply_error(m.err().code, m.err().message);
    if (auto existing = st_.live_session.find(m->id); existing != st_.live_session.end()) {
      auto& live = st_.live.at(existing->second);
      if (live.session_dir != m->dir.string())
        return reply_error(errc::bad_input, (m->dir / manifest_file_name).string() + ": session id \"" + m->id +
                                              "\" already has a live job for " + live.session_dir);
      return reply_when_durable(reply_ok(live));  // one live job per session: resume it
    }
    // A session whose originals a finished job retired has nothing left
    // to process (a live job still finishing its retention was resumed above).
    if (!m->originals_retired.empty())
      return reply_error(errc::bad_input, (m->dir / manifest_file_name).string() + ": its originals were retired (" +
                                              m->originals_retired + ") after an earlier job; nothing left to process");
    job_record j;
    j.id = new_id();
    j.session_id = m->id;
    j.session_dir = m->dir.string();
    j.session_name = m->name;
    j.prio = prio;
    j.created_at = now();
    plan_options plan;
    plan.compress = (req.compress < 0 ? st_.cfg.compress : req.compress > 0) && st_.cfg.playable != "compressed";
    plan.enrich = req.enrich < 0 ? st_.cfg.enrich : req.enrich > 0;
    plan.extra = st_.cfg.extra_stages;
    plan.retention = req.retention.empty() ? st_.cfg.retention : req.retention;
    if (plan.retention != "keep" && plan.retention != "trash" && plan.retention != "delete")
      return reply_error(errc::bad_input, "unknown retention \"" + plan.retention + "\" (keep, trash, delete)");
    // Damaged but repairable files (a killed recorder): a repair stage
    // first. Headers only, so cheap here; the stage does the real work.
    auto damaged = find_damage(*m);
    plan.repair = !damaged.empty();
    for (const auto& d : damaged)
      spdlog::warn("queue: {} is damaged ({}): media.repair will recover it", (m->dir / d.path).string(), d.reason);
    j.stages = plan_stages(*m, plan);
    j.media_bytes = m->media_bytes();  // each file once, however often it is listed
    persist(j, nullptr, "submitted");
    emit(j, events::job_created);
    auto reply = reply_ok(st_.live[j.id]);
    dispatch();
    return reply_when_durable(std::move(reply));
  }

  job_reply status(const std::string& id) {
    if (auto it = st_.live.find(id); it != st_.live.end())
      return reply_ok(it->second);
    if (auto it = st_.unflushed.find(id); it != st_.unflushed.end())
      return it->second.second ? reply_ok(*it->second.second) : reply_error(errc::not_found, "no job with id " + id);
    auto rec = st_.store->get(id);
    if (!rec)
      return reply_error(rec.err().code, rec.err().message);
    if (!*rec)
      return reply_error(errc::not_found, "no job with id " + id);
    return reply_ok(**rec);
  }

  // Listings and histories read the store, after the writer caught up.
  caf::result<job_list> list(std::uint32_t limit) {
    return when_durable<job_list>([self = self_, store = st_.store, limit](const maybe_error&) {
      auto jobs = store->recent(limit);
      if (!jobs)
        return job_list{std::uint8_t(jobs.err().code), jobs.err().message, {}, {}};
      queue_logic{self}.add_live_details(*jobs);
      return job_list{0, {}, std::move(*jobs), {}};
    });
  }

  caf::result<job_list> list(const list_query& q) {
    return when_durable<job_list>([self = self_, store = st_.store, q](const maybe_error&) {
      std::string next;
      auto keep = [&q](const job_record& j) {
        return (q.state < 0 || int(j.state) == q.state) && (q.session_id.empty() || j.session_id == q.session_id);
      };
      auto jobs = store->recent(std::max<std::uint32_t>(1, q.limit), q.cursor, &next, keep);
      if (!jobs)
        return job_list{std::uint8_t(jobs.err().code), jobs.err().message, {}, {}};
      queue_logic{self}.add_live_details(*jobs);
      return job_list{0, {}, std::move(*jobs), next};
    });
  }

  // What the store does not keep but a listing should show: why a ready
  // job is held back (callbacks of when_durable run on the queue's thread).
  void add_live_details(std::vector<job_record>& jobs) {
    for (auto& j : jobs)
      if (auto it = st_.live.find(j.id); it != st_.live.end())
        j.waiting = it->second.waiting;
  }

  // Graceful stop: no new stage starts; the answer comes once none runs.
  caf::result<bool> drain() {
    st_.draining = true;
    if (std::all_of(st_.workers.begin(), st_.workers.end(), [](const worker_slot& w) { return w.job.empty(); }))
      return true;
    auto rp = self_->make_response_promise<bool>();
    st_.drained.push_back(rp);
    return rp;
  }

  caf::result<job_history> journal(std::uint64_t after, std::uint32_t limit) {
    return when_durable<job_history>([store = st_.store, after, limit](const maybe_error&) {
      auto entries = store->journal(after, std::min<std::uint32_t>(limit, 10000));
      if (!entries)
        return job_history{std::uint8_t(entries.err().code), entries.err().message, {}};
      return job_history{0, {}, std::move(*entries)};
    });
  }

  caf::result<job_history> history(const std::string& id) {
    auto known = status(id);
    if (known.code != 0)
      return job_history{known.code, known.message, {}};
    return when_durable<job_history>([store = st_.store, id](const maybe_error&) {
      auto entries = store->history(id);
      if (!entries)
        return job_history{std::uint8_t(entries.err().code), entries.err().message, {}};
      return job_history{0, {}, std::move(*entries)};
    });
  }

  std::vector<std::uint64_t> counts() const {
    return {std::begin(st_.counts.by_state), std::end(st_.counts.by_state)};
  }

  caf::result<job_reply> cancel(const std::string& id) {
    if (auto no = refuse_if_broken())
      return *no;
    auto it = st_.live.find(id);
    if (it == st_.live.end()) {
      auto r = status(id);
      if (r.code == 0)
        return reply_error(errc::bad_input, "job " + id + " is already " + to_string(r.job.state));
      return r;
    }
    if (std::any_of(st_.workers.begin(), st_.workers.end(), [&](const worker_slot& w) { return w.job == id; })) {
      // Running: each worker tears its stage down and answers with a
      // cancelled result; the job ends when the last one has.
      transition(id, "cancel requested", [](job_record& j) { j.cancel_requested = true; });
      for (auto& w : st_.workers)
        if (w.job == id)
          stop_running(w);
      return reply_when_durable(reply_ok(st_.live[id]));
    }
    return reply_when_durable(reply_ok(finish_cancelled(it->second)));
  }

  caf::result<job_reply> remove(const std::string& id, std::uint8_t what) {
    if (auto no = refuse_if_broken())
      return *no;
    if (auto it = st_.live.find(id); it != st_.live.end())
      return reply_error(errc::bad_input, "job " + id + " is " + to_string(it->second.state) +
                                            "; cancel it before deleting it");
    auto r = status(id);
    if (r.code != 0)
      return r;
    if (auto other = st_.live_session.find(r.job.session_id); what && other != st_.live_session.end())
      return reply_error(errc::bad_input, "session " + r.job.session_id + " has a live job " + other->second +
                                            " writing its outputs; cancel it first");
    if (what == 0) {
      drop_record(r.job);
      return reply_when_durable(r);
    }
    // Files go: persist the intent first; the record goes only once they
    // are gone, so a crash in between is finished at the next start.
    job_record before = r.job;
    r.job.removing = std::uint8_t(std::min<int>(what, 2));
    persist(r.job, &before, r.job.removing == 2 ? "removal of the job, outputs and recording started"
                                                : "removal of the job and outputs started");
    after_commit([self = self_, job = r.job](const maybe_error& err) {
      if (!err)
        queue_logic{self}.start_removal(job);
    });
    // The answer comes once the files and the record are gone.
    auto rp = self_->template make_response_promise<job_reply>();
    st_.removal_waiters[id].push_back([rp](job_reply reply) mutable { rp.deliver(std::move(reply)); });
    return rp;
  }

  void drop_record(const job_record& job) {
    store_op op;
    op.remove = true;
    op.job = job;
    st_.enqueued = st_.writer->enqueue(std::move(op));
    st_.unflushed[job.id] = {st_.enqueued, std::nullopt};
    --st_.counts.by_state[size_t(job.state)];
    spdlog::info("queue: job {} deleted", job.id);
  }

  // Deletes the files on a thread of its own; the queue hears back.
  void start_removal(const job_record& job) {
    std::thread([self = caf::actor_cast<queue_actor>(self_), job, out = st_.cfg.output_dir] {
      auto err = remove_session_files(job.session_dir, out, job.removing == 2);
      if (!err)
        spdlog::info("queue: deleted the {} of job {} in {}", job.removing == 2 ? "outputs and recording" : "outputs",
                     job.id, job.session_dir);
      caf::anon_send(self, removed_atom::value, job.id, err ? err->message : std::string{});
    }).detach();
  }

  void removal_done(const std::string& id, const std::string& failure) {
    auto r = status(id);
    if (r.code != 0)
      return;
    auto waiters = std::move(st_.removal_waiters[id]);
    st_.removal_waiters.erase(id);
    if (!failure.empty()) {
      // Kept with its flag: the next start tries again; the record says why.
      spdlog::error("queue: removing job {}: {}", id, failure);
      job_record before = r.job;
      r.job.error = "removal failed: " + failure;
      persist(r.job, &before, r.job.error);
      for (auto& w : waiters)
        w(reply_error(errc::io, r.job.error));
      return;
    }
    drop_record(r.job);
    after_commit([waiters = std::move(waiters), r](const maybe_error& err) mutable {
      for (auto& w : waiters)
        w(err ? reply_error(err->code, "not saved: " + err->message) : r);
    });
  }

  caf::result<job_reply> retry(const std::string& id) {
    if (auto no = refuse_if_broken())
      return *no;
    if (st_.live.count(id))
      return reply_error(errc::bad_input, "job " + id + " is still " + to_string(st_.live[id].state));
    auto r = status(id);
    if (r.code != 0)
      return r;
    job_record before = r.job;
    if (before.state == job_state::completed)
      return reply_error(errc::bad_input, "job " + id + " is completed; submit the session again to re-run it");
    if (auto other = st_.live_session.find(before.session_id); other != st_.live_session.end())
      return reply_error(errc::bad_input, "session " + before.session_id + " has a live job " + other->second);
    job_record j = before;
    j.state = job_state::pending;
    j.error.clear();
    j.cancel_requested = false;
    for (auto& s : j.stages)
      if (s.state != job_state::completed) {
        s.state = job_state::pending;
        s.attempts = 0;
        s.not_before = 0;
      }
    persist(j, &before, "retry requested");
    emit(j, events::job_created, {}, "retry");
    dispatch();
    return reply_when_durable(reply_ok(j));
  }

  // -- workers --------------------------------------------------------------

  void add_worker(stage_worker_actor w, std::string pool) {
    self_->monitor(w);
    auto& local = st_.nodes[st_.cfg.local_node.id];
    if (local.joined_at == 0) {
      local.info = st_.cfg.local_node;
      local.local = true;
      local.joined_at = now();
    }
    worker_slot slot;
    slot.handle = std::move(w);
    slot.pool = std::move(pool);
    slot.node = st_.cfg.local_node.id;
    slot.kind = slot_kind(slot);
    st_.workers.push_back(std::move(slot));
    dispatch();
  }

  // A worker node joins: its capabilities are checked, its workers become
  // slots, and the stages it still holds (it ran them across a restart of
  // either side) are re-adopted instead of run again.
  join_reply join(const node_join& j, const std::vector<stage_worker_actor>& handles) {
    const auto& info = j.info;
    auto refuse = [&](std::string why) {
      spdlog::error("queue: node {} refused: {}", info.id, why);
      return join_reply{std::uint8_t(errc::bad_input), std::move(why), 0};
    };
    if (info.id.empty())
      return refuse("a worker node needs an id (node.id)");
    if (info.id == st_.cfg.local_node.id)
      return refuse("node id \"" + info.id + "\" is the coordinator's own; give each node its own node.id");
    for (const auto& p : info.paths)
      if (!p.problem.empty())
        return refuse("node " + info.id + ": session root " + p.local + " (mapped from " + p.remote + ") " + p.problem);
    if (handles.size() != std::size_t(info.media_workers + info.enrich_workers))
      return refuse("node " + info.id + " sent " + std::to_string(handles.size()) + " workers for " +
                    std::to_string(info.media_workers + info.enrich_workers) + " slots");
    auto t = now();
    // An earlier incarnation's slots (a rejoin): stages it still holds move
    // to the new slots below; the others were lost with it.
    std::vector<worker_slot> old;
    for (auto it = st_.workers.begin(); it != st_.workers.end();) {
      if (it->node == info.id) {
        self_->demonitor(it->handle.address());
        old.push_back(std::move(*it));
        it = st_.workers.erase(it);
      } else {
        ++it;
      }
    }
    auto& entry = st_.nodes[info.id];
    entry.info = info;
    entry.local = false;
    entry.joined_at = t;
    std::size_t first = st_.workers.size();
    for (std::size_t i = 0; i < handles.size(); ++i) {
      worker_slot slot;
      slot.handle = handles[i];
      slot.pool = int(i) < info.media_workers ? "media" : "enrich";
      slot.node = info.id;
      slot.remote = true;
      slot.kind = slot_kind(slot);
      self_->monitor(slot.handle);
      st_.workers.push_back(std::move(slot));
    }
    std::set<std::string> adopted;
    for (const auto& h : j.held) {
      if (h.worker >= handles.size())
        continue;
      auto& slot = st_.workers[first + h.worker];
      auto key = run_key(h.job_id, h.stage);
      auto live = st_.live.find(h.job_id);
      auto* s = live == st_.live.end() ? nullptr : find_stage(live->second, h.stage);
      bool was_held = st_.orphans.count(key) ||
                      std::any_of(old.begin(), old.end(), [&](const worker_slot& w) {
                        return w.job == h.job_id && w.stage == h.stage && w.attempt == h.attempt && !w.lapsed;
                      });
      if (!s || s->state != job_state::processing || s->attempts != h.attempt || !was_held || !slot.job.empty()) {
        // Not its stage any more (run elsewhere meanwhile): stop it; its
        // result, if any comes, is refused as stale.
        spdlog::warn("queue: node {} still runs job {} {} attempt {}, which is no longer its own; stopping it",
                     info.id, h.job_id, h.stage, h.attempt);
        self_->send(slot.handle, cancel_atom::value, h.job_id);
        continue;
      }
      slot.job = h.job_id;
      slot.stage = h.stage;
      slot.attempt = h.attempt;
      slot.lease_until = t + st_.cfg.lease_ms;
      st_.orphans.erase(key);
      st_.watches[key] = queue_state::watch{-1, t, false};
      adopted.insert(key);
      spdlog::info("queue: node {} re-adopted job {} {} attempt {}", info.id, h.job_id, h.stage, h.attempt);
    }
    for (const auto& w : old)
      if (!w.job.empty() && !w.lapsed && !adopted.count(run_key(w.job, w.stage)))
        on_result(stage_result{w.job, w.stage, w.attempt, false, std::uint8_t(errc::internal),
                               "node " + info.id + " rejoined without this stage (it restarted)", {}},
                  /*worker_already_freed=*/true);
    spdlog::info("queue: node {} joined: {} media + {} enrichment workers, {} cores, encoder {}{}", info.id,
                 info.media_workers, info.enrich_workers, info.cores,
                 info.encoders.empty() ? std::string{"none"} : info.encoders.front(),
                 adopted.empty() ? std::string{} : ", " + std::to_string(adopted.size()) + " stages re-adopted");
    dispatch();
    arm_watchdog();
    return join_reply{0, {}, st_.cfg.lease_ms};
  }

  // A worker node's stage may commit its output only while its attempt is
  // the stage's current one and its lease holds (fencing).
  bool lease(const std::string& id, const std::string& stage, int attempt) {
    auto slot = slot_running(id, stage, attempt);
    auto live = st_.live.find(id);
    auto* s = live == st_.live.end() ? nullptr : find_stage(live->second, stage);
    bool owned = slot != st_.workers.end() && !slot->lapsed && s && s->state == job_state::processing &&
                 s->attempts == attempt;
    if (!owned) {
      spdlog::warn("queue: refused a commit of job {} {} attempt {}: a newer attempt owns the stage", id, stage,
                   attempt);
      return false;
    }
    if (slot->remote)
      slot->lease_until = now() + st_.cfg.lease_ms;
    return true;
  }

  // The slot given attempt `attempt` of a job's stage (lapsed or not).
  std::vector<worker_slot>::iterator slot_running(const std::string& job, const std::string& stage, int attempt) {
    return std::find_if(st_.workers.begin(), st_.workers.end(), [&](const worker_slot& w) {
      return w.job == job && w.stage == stage && w.attempt == attempt;
    });
  }

  std::vector<node_status> node_list() {
    std::vector<node_status> out;
    auto t = now();
    for (const auto& [id, n] : st_.nodes) {
      node_status ns;
      ns.info = n.info;
      ns.local = n.local;
      ns.joined_at = n.joined_at;
      ns.completed = n.completed;
      ns.failed = n.failed;
      for (const auto& w : st_.workers) {
        if (w.node != id)
          continue;
        ++ns.slots;
        if (w.job.empty())
          continue;
        ++ns.running;
        auto lease = w.job + "/" + w.stage + "#" + std::to_string(w.attempt);
        if (w.remote)
          lease += w.lapsed ? " (lapsed)" : " (" + std::to_string(std::max<std::int64_t>(0, w.lease_until - t)) + " ms left)";
        ns.leases.push_back(std::move(lease));
      }
      if (ns.slots > 0 || n.local)
        out.push_back(std::move(ns));
    }
    return out;
  }

  void worker_down(const caf::actor_addr& addr, const caf::error& reason) {
    auto it = std::find_if(st_.workers.begin(), st_.workers.end(),
                           [&](const worker_slot& w) { return w.handle.address() == addr; });
    if (it == st_.workers.end())
      return;
    auto slot = *it;
    st_.workers.erase(it);
    if (slot.remote && std::none_of(st_.workers.begin(), st_.workers.end(),
                                    [&](const worker_slot& w) { return w.node == slot.node; }))
      spdlog::warn("queue: node {} left ({})", slot.node, caf::to_string(reason));
    if (slot.job.empty() || slot.lapsed)
      return;
    if (auto n = st_.nodes.find(slot.node); n != st_.nodes.end())
      ++n->second.failed;
    stage_result r;
    r.job_id = slot.job;
    r.stage = slot.stage;
    r.attempt = slot.attempt;
    r.code = std::uint8_t(errc::internal);
    r.message = slot.remote ? "node " + slot.node + " was lost while running it (" + caf::to_string(reason) + ")"
                            : "the " + slot.pool + " worker crashed (" + caf::to_string(reason) + ")";
    on_result(r, /*worker_already_freed=*/true);
  }

  void on_progress(const stage_progress& p) {
    auto t = now();
    auto slot = slot_running(p.job_id, p.stage, p.attempt);
    if (slot != st_.workers.end() && slot->lapsed) {
      // Back from a lapse (SIGCONT, the network healed): its stage runs
      // elsewhere now; stop this copy (its output is fenced anyway).
      self_->send(slot->handle, cancel_atom::value, p.job_id);
      return;
    }
    if (slot != st_.workers.end() && slot->remote)
      slot->lease_until = t + st_.cfg.lease_ms;
    auto it = st_.live.find(p.job_id);
    if (it == st_.live.end())
      return;
    auto* s = find_stage(it->second, p.stage);
    if (!s || s->attempts != p.attempt || s->state != job_state::processing)
      return;
    auto key = run_key(p.job_id, p.stage);
    if (auto w = st_.watches.find(key); w != st_.watches.end() && p.fraction != w->second.fraction) {
      w->second.fraction = p.fraction;
      w->second.changed_at = t;
    }
    auto& last = st_.last_progress[key];
    if (t - last < 100 && p.fraction < 1.0)
      return;  // at most one progress event per job per 100 ms
    last = t;
    std::int64_t eta = -1;
    auto elapsed = t - s->started_at;
    if (p.fraction > 0.02 && elapsed > 0)
      eta = std::int64_t(double(elapsed) * (1.0 - p.fraction) / p.fraction);
    emit(it->second, events::stage_progress, p.stage, {}, p.fraction, eta);
  }

  void on_result(const stage_result& r, bool worker_already_freed = false) {
    if (!worker_already_freed)
      for (auto& w : st_.workers)
        if (w.job == r.job_id && w.stage == r.stage && w.attempt == r.attempt) {
          if (!w.lapsed)
            if (auto n = st_.nodes.find(w.node); n != st_.nodes.end())
              ++(r.ok ? n->second.completed : n->second.failed);
          w.job.clear();
          w.stage.clear();
          w.attempt = 0;
          w.lapsed = false;
        }
    auto it = st_.live.find(r.job_id);
    if (it == st_.live.end()) {
      // A worker (node) that was given up on reports after its job ended.
      spdlog::warn("queue: refused a stale result for job {} stage {} attempt {} (the job has ended)", r.job_id,
                   r.stage, r.attempt);
      dispatch();
      return;
    }
    auto* s = find_stage(it->second, r.stage);
    if (!s || s->attempts != r.attempt || s->state != job_state::processing) {
      spdlog::warn("queue: refused a stale result for job {} stage {} attempt {} (the stage is at attempt {}, {})",
                   r.job_id, r.stage, r.attempt, s ? s->attempts : 0, s ? to_string(s->state) : "gone");
      dispatch();
      return;
    }
    auto code = errc(r.code);
    auto key = run_key(r.job_id, r.stage);
    bool stalled = st_.watches[key].stalled;
    st_.watches.erase(key);
    if (r.ok && !it->second.cancel_requested) {
      stage_completed(r);
    } else if (stalled && !it->second.cancel_requested) {
      // Stopped by the watchdog: a failed attempt, retried like any other.
      auto failed = r;
      failed.message = "stalled: no progress for " + std::to_string(st_.cfg.stall_timeout_ms / 1000) + " s";
      stage_failed(failed, errc::media);
    } else if ((!r.ok && code == errc::cancelled) || it->second.cancel_requested) {
      stage_cancelled(r);
    } else {
      stage_failed(r, code);
    }
    dispatch();
  }

  void on_wakeup() {
    st_.disk_recheck_armed = false;
    dispatch();
    schedule_wakeup();
  }

  // Trashed originals older than trash_days go for good. The completed
  // jobs' records say where and when (the trash stage's result); the scan
  // and the deletion run on a thread of their own, off the queue's.
  void purge_trash() {
    auto cutoff = now() - std::int64_t(st_.cfg.trash_days) * 86400000;
    if (st_.purger.joinable())
      st_.purger.join();  // the last sweep ended long ago (an hour per sweep)
    st_.purger = std::thread([store = st_.store, cutoff, stop = st_.purger_stop] {
      std::string cursor;
      auto trashed = [](const job_record& j) {
        return j.state == job_state::completed && !j.stages.empty() && j.stages.back().name == "media.trash_originals";
      };
      do {
        std::string next;
        auto page = store->recent(200, cursor, &next, trashed);
        if (!page)
          return;
        for (const auto& j : *page) {
          if (stop->load())
            return;
          auto r = nlohmann::json::parse(j.stages.back().result, nullptr, false);
          if (!r.is_object() || r.value("at", std::int64_t{0}) > cutoff || !r.contains("trash"))
            continue;
          std::error_code ec;
          auto rel = r["trash"].is_string() ? r["trash"].get<std::string>() : std::string{};
          auto dir = std::filesystem::path{j.session_dir} / rel;
          auto folder = session_folder::open(j.session_dir);
          if (!rel.empty() && folder && std::filesystem::exists(dir, ec)) {
            // Confined to the session folder: a symlink swapped in for the
            // output folder never makes the sweep delete elsewhere.
            if (auto err = (*folder)->remove_tree(rel))
              spdlog::warn("queue: cannot purge {}: {}", dir.string(), err->message);
            else
              spdlog::info("queue: purged the trashed files of job {} ({})", j.id, dir.string());
          }
        }
        cursor = next;
      } while (!cursor.empty() && !stop->load());
    });
  }

  // Disk guard: a media stage needs min_free_factor x the session's media
  // size free on its volume. A job held back says why (status, event) and
  // is looked at again every 5 s.
  bool has_disk_space(job_record& j) {
    if (st_.cfg.min_free_factor <= 0 || j.media_bytes <= 0)
      return true;
    auto needed = std::int64_t(double(j.media_bytes) * st_.cfg.min_free_factor);
    auto free = st_.cfg.free_bytes(j.session_dir);
    if (free >= needed) {
      j.waiting.clear();
      st_.disk_waiting_since.erase(j.id);
      return true;
    }
    auto reason = "waiting for disk space: " + human_bytes(free) + " free on the volume of " + j.session_dir +
                  ", needs " + human_bytes(needed) + " (" + std::to_string(st_.cfg.min_free_factor).substr(0, 3) +
                  "x the session's media)";
    auto since = st_.disk_waiting_since.emplace(j.id, now()).first->second;
    if (st_.cfg.disk_wait_ms > 0 && now() - since >= st_.cfg.disk_wait_ms) {
      // Space that did not come in disk_wait_ms is not coming: the job fails
      // with the reason instead of waiting without end.
      st_.disk_expired.insert(j.id);
      return false;
    }
    if (j.waiting.empty()) {
      spdlog::warn("queue: job {} {}", j.id, reason);
      emit(j, events::job_waiting, {}, reason);
    }
    j.waiting = reason;
    if (!st_.disk_recheck_armed) {
      st_.disk_recheck_armed = true;
      self_->delayed_send(self_, std::chrono::seconds(5), wakeup_atom::value);
    }
    return false;
  }

  // Stops running stages whose progress has not moved for stall_timeout_ms.
  void on_watchdog() {
    st_.watchdog_armed = false;
    auto t = now();
    std::vector<stage_result> lapsed;
    for (auto& w : st_.workers) {
      if (w.job.empty() || w.lapsed)
        continue;
      if (w.remote && t > w.lease_until) {
        // No word from the node for a whole lease (killed without the
        // connection noticing, stopped, cut off): its stage goes elsewhere
        // under a new attempt; anything this one still writes is fenced.
        w.lapsed = true;
        if (auto n = st_.nodes.find(w.node); n != st_.nodes.end())
          ++n->second.failed;
        spdlog::warn("queue: node {} let the lease of job {} {} attempt {} lapse ({} ms without word)", w.node, w.job,
                     w.stage, w.attempt, st_.cfg.lease_ms);
        lapsed.push_back(stage_result{w.job, w.stage, w.attempt, false, std::uint8_t(errc::internal),
                                      "node " + w.node + " let its lease lapse (no word for " +
                                        std::to_string(st_.cfg.lease_ms / 1000) + " s)",
                                      {}});
        continue;
      }
      if (st_.cfg.stall_timeout_ms <= 0)
        continue;
      auto& watch = st_.watches[run_key(w.job, w.stage)];
      if (!watch.stalled && t - watch.changed_at > st_.cfg.stall_timeout_ms) {
        watch.stalled = true;
        spdlog::warn("queue: job {} {} made no progress for {} ms; stopping it", w.job, w.stage,
                     t - watch.changed_at);
        stop_running(w);
      }
    }
    for (const auto& r : lapsed)
      on_result(r, /*worker_already_freed=*/true);
    arm_watchdog();
  }

  // A worker that was told to stop a job and still runs it after the grace
  // time is hung (a pipeline stuck in a driver, a filesystem that does not
  // answer): it is killed, which ends the job's attempt as a crash; the
  // supervisor starts a fresh worker.
  void on_deadline(const std::string& id, const std::string& stage, std::int32_t attempt) {
    auto slot = std::find_if(st_.workers.begin(), st_.workers.end(),
                             [&](const worker_slot& w) { return w.job == id && w.stage == stage; });
    auto live = st_.live.find(id);
    if (slot == st_.workers.end() || live == st_.live.end())
      return;
    auto* s = find_stage(live->second, stage);
    if (!s || s->attempts != attempt || s->state != job_state::processing)
      return;
    spdlog::error("queue: the worker running job {} {} did not stop within {} ms; stopping the worker", id,
                  stage, st_.cfg.cancel_grace_ms);
    self_->send_exit(slot->handle, caf::exit_reason::kill);
  }

  // Sends the start order of a stage whose "processing" transition is now
  // durable, unless things changed meanwhile.
  void start_run(const std::string& id, const std::string& stage, int attempt, const caf::actor_addr& worker) {
    auto slot = std::find_if(st_.workers.begin(), st_.workers.end(), [&](const worker_slot& w) {
      return w.job == id && w.stage == stage && w.handle.address() == worker;
    });
    auto live = st_.live.find(id);
    if (slot == st_.workers.end() || live == st_.live.end())
      return;
    auto* s = find_stage(live->second, stage);
    if (!s || s->attempts != attempt || s->state != job_state::processing)
      return;
    if (live->second.cancel_requested) {
      on_result(stage_result{id, stage, attempt, false, std::uint8_t(errc::cancelled), "cancelled before it started", {}});
      return;
    }
    auto& rec = live->second;
    self_->send(slot->handle, run_atom::value,
                stage_order{rec.id, rec.session_id, rec.session_dir, stage, attempt,
                            session_seal_key(st_.store->seal_secret(), rec.session_dir)});
  }

private:
  // Tells a worker to stop its job and gives it cancel_grace_ms to answer.
  void stop_running(const worker_slot& w) {
    self_->send(w.handle, cancel_atom::value, w.job);
    auto live = st_.live.find(w.job);
    auto* s = live == st_.live.end() ? nullptr : find_stage(live->second, w.stage);
    if (s && st_.cfg.cancel_grace_ms > 0)
      self_->delayed_send(self_, std::chrono::milliseconds(st_.cfg.cancel_grace_ms), deadline_atom::value, w.job,
                          w.stage, std::int32_t(s->attempts));
  }

  void arm_watchdog() {
    if (st_.watchdog_armed)
      return;
    bool leases = std::any_of(st_.workers.begin(), st_.workers.end(),
                              [](const worker_slot& w) { return w.remote && !w.job.empty() && !w.lapsed; });
    if (st_.cfg.stall_timeout_ms <= 0 && !leases)
      return;
    if (std::none_of(st_.workers.begin(), st_.workers.end(), [](const worker_slot& w) { return !w.job.empty(); }))
      return;
    st_.watchdog_armed = true;
    auto period = st_.cfg.stall_timeout_ms > 0 ? st_.cfg.stall_timeout_ms : st_.cfg.lease_ms;
    if (leases)
      period = std::min(period, st_.cfg.lease_ms);
    auto every = std::clamp<std::int64_t>(period / 4, 100, 1000);
    self_->delayed_send(self_, std::chrono::milliseconds(every), watchdog_atom::value);
  }

  // What a host should hear when a stage completes: for media.repair, each
  // file's recovered and lost seconds (the record has the details).
  static std::string completion_note(const stage_result& r) {
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    if (r.stage == stage_compress && j.is_object() && !j.value("replaced", false) && !j.value("compressedByMerge", false) &&
        j.contains("reason"))
      return "not compressed: " + j.value("reason", "");
    if (r.stage != stage_repair)
      return {};
    std::string note;
    for (const auto& f : j.value("repairs", nlohmann::json::array())) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.1f s recovered, ~%.1f s lost", f.value("secondsRecovered", 0.0),
                    f.value("secondsLostEstimate", 0.0));
      note += (note.empty() ? "" : "; ") + f.value("file", "") + " repaired (" + f.value("damage", "") + "): " + buf;
    }
    return note;
  }

  void stage_completed(const stage_result& r) {
    std::string output;
    bool media_ready = false;
    job_record rec;
    auto err = transition(r.job_id, r.stage + " completed", [&](job_record& j) {
      auto* s = find_stage(j, r.stage);
      s->state = job_state::completed;
      s->finished_at = now();
      s->error.clear();
      s->result = r.output;
      if (r.stage == stage_merge) {
        output = output_file_of(r.output);
        if (!output.empty()) {
          j.output = output;
          media_ready = true;
        }
      }
      if (auto res = nlohmann::json::parse(r.output, nullptr, false); res.is_object() && res.contains("bytesReclaimed"))
        j.bytes_reclaimed = res.value("bytesReclaimed", std::int64_t{0});
      if (all_completed(j)) {
        j.state = job_state::completed;
        j.bytes_written = folder_bytes(std::filesystem::path{j.session_dir} / st_.cfg.output_dir);  // a few dozen files
      }
    }, &rec);
    if (err)
      return;
    emit(rec, events::stage_completed, r.stage, completion_note(r), 1.0, 0);
    if (media_ready)
      emit(rec, events::media_ready, r.stage, output);
    if (rec.state == job_state::completed) {
      emit(rec, events::job_completed, {}, rec.output);
      spdlog::info("queue: job {} completed: {}", rec.id, rec.output);
    } else {
      settle(rec.id);
    }
  }

  // A job with a stage failed for good ends `failed` once nothing of it
  // runs and nothing else of it can start: independent stages still finish
  // (their results are kept), so a retry re-runs only what did not complete.
  void settle(const std::string& id) {
    auto it = st_.live.find(id);
    if (it == st_.live.end())
      return;
    auto& live = it->second;
    auto failed = std::find_if(live.stages.begin(), live.stages.end(),
                               [](const stage_record& s) { return s.state == job_state::failed; });
    if (failed == live.stages.end() || any_in(live, job_state::processing))
      return;
    for (auto& s : live.stages)
      if (s.state == job_state::pending && needs_met(live, s))
        return;
    job_record before = live;
    job_record j = live;
    j.state = job_state::failed;
    if (live.error.empty()) {
      j.error = failed->name + ": " + failed->error;
      j.error_code = errc::internal;
    }
    persist(j, &before, j.error);
    emit(j, events::job_failed, {}, j.error);
    spdlog::warn("queue: job {} failed: {}", j.id, j.error);
  }

  // media.compress is an optimisation: whatever ends it (an error, a stall,
  // a crash, no encoder) leaves the playable file, and the job goes on.
  static bool optional_stage(const std::string& stage) { return stage == stage_compress; }

  static std::string skipped_result(const std::string& reason) {
    return nlohmann::json{{"skipped", true}, {"replaced", false}, {"reason", reason}}.dump();
  }

  void stage_failed(const stage_result& r, errc code) {
    // A worker lost under it (crashed, killed, its lease lapsed) is tried
    // again elsewhere like any stage; anything else, or the last attempt,
    // skips it.
    auto* running = find_stage(st_.live[r.job_id], r.stage);
    bool lost = code == errc::internal && running && running->attempts < st_.cfg.max_attempts;
    if (optional_stage(r.stage) && !lost) {
      spdlog::warn("queue: job {} {} did not complete ({}); the job goes on without it", r.job_id, r.stage, r.message);
      auto skipped = r;
      skipped.ok = true;
      skipped.output = skipped_result(r.message);
      stage_completed(skipped);
      return;
    }
    auto& live = st_.live[r.job_id];
    auto* s = find_stage(live, r.stage);
    bool permanent = code == errc::bad_input;
    bool exhausted = s->attempts >= st_.cfg.max_attempts;
    if (permanent || exhausted) {
      auto message = r.stage + ": " + r.message +
                     (permanent ? "" : " (after " + std::to_string(s->attempts) + " attempts)");
      job_record rec;
      transition(r.job_id, message, [&](job_record& j) {
        auto* js = find_stage(j, r.stage);
        js->state = job_state::failed;
        js->finished_at = now();
        js->error = r.message;
        if (j.error.empty()) {  // the first stage to fail names the job's failure
          j.error = message;
          j.error_code = code;
        }
      }, &rec);
      emit(rec, events::stage_failed, r.stage, r.message);
      settle(r.job_id);
      return;
    }
    backoff_policy policy;
    policy.base_ms = st_.cfg.retry_base_ms;
    policy.cap_ms = st_.cfg.retry_cap_ms;
    auto delay = backoff_delay(policy, s->attempts, std::uniform_real_distribution<double>{0, 1}(st_.rng));
    transition(r.job_id, r.stage + " failed (" + r.message + "), retry in " + std::to_string(delay) + " ms",
               [&](job_record& j) {
                 auto* js = find_stage(j, r.stage);
                 js->state = job_state::pending;
                 js->error = r.message;
                 js->not_before = now() + delay;
               });
    emit(st_.live[r.job_id], events::stage_failed, r.stage,
         r.message + " (retry in " + std::to_string(delay) + " ms)");
    self_->delayed_send(self_, std::chrono::milliseconds(delay), wakeup_atom::value);
  }

  // A stage of a job being cancelled answered: the job ends cancelled when
  // the last of its running stages has stopped.
  void stage_cancelled(const stage_result& r) {
    auto& live = st_.live[r.job_id];
    bool others = std::any_of(live.stages.begin(), live.stages.end(), [&](const stage_record& s) {
      return s.state == job_state::processing && s.name != r.stage;
    });
    if (!others) {
      finish_cancelled(live);
      return;
    }
    transition(r.job_id, r.stage + " stopped", [&](job_record& j) { find_stage(j, r.stage)->state = job_state::cancelled; });
  }

  job_record finish_cancelled(const job_record& current) {
    job_record before = current;
    job_record j = current;
    j.state = job_state::cancelled;
    for (auto& s : j.stages)
      if (s.state == job_state::processing || s.state == job_state::pending)
        s.state = job_state::cancelled;
    persist(j, &before, "cancelled");
    emit(j, events::job_cancelled);
    spdlog::info("queue: job {} cancelled", j.id);
    return j;
  }

  // Whether the node of `w` can run `stage`: a worker node runs the
  // built-in stages of its pools and the external enrichers its own config
  // names; an external enricher runs only where it is configured.
  bool can_run(const worker_slot& w, const std::string& stage) const {
    if (!w.remote)
      return true;
    auto n = st_.nodes.find(w.node);
    if (n == st_.nodes.end())
      return false;
    const auto& stages = n->second.info.stages;
    if (std::find(stages.begin(), stages.end(), stage) != stages.end())
      return true;
    bool extra = std::any_of(st_.cfg.extra_stages.begin(), st_.cfg.extra_stages.end(),
                             [&](const extra_stage& e) { return e.name == stage; });
    return !extra && std::find(stages.begin(), stages.end(), pool_of(stage) + ".*") != stages.end();
  }

  std::string slot_kind(const worker_slot& w) const {
    std::string k = w.pool + (hardware_node(w.node) ? "|hw|" : "|sw|");
    if (w.remote)
      if (auto n = st_.nodes.find(w.node); n != st_.nodes.end())
        for (const auto& stage : n->second.info.stages)
          k += stage + ",";
    return k;
  }

  bool hardware_node(const std::string& node) const {
    auto n = st_.nodes.find(node);
    return n != st_.nodes.end() && n->second.info.hardware_encoder;
  }

  // The stage a worker of `pool` may start in job `j` now, or null. With
  // a slot: only what its node can run, and media.compress only on a node
  // with a hardware encoder while one of those is idle.
  stage_record* stage_to_start(job_record& j, const std::string& pool, std::int64_t t,
                               const worker_slot* slot = nullptr, bool hardware_idle = false) {
    if (j.cancel_requested)
      return nullptr;
    for (auto* s : startable(j, pool)) {
      if (slot && !can_run(*slot, s->name))
        continue;
      if (slot && hardware_idle && s->name == stage_compress && !hardware_node(slot->node))
        continue;
      if (s->not_before <= t && (pool != "media" || has_disk_space(j)))
        return s;
    }
    return nullptr;
  }

  // Jobs with an enrichment stage running (limited by max_enrich_jobs).
  std::size_t jobs_in_enrichment() const {
    std::set<std::string> jobs;
    for (const auto& w : st_.workers)
      if (!w.job.empty() && w.pool == "enrich")
        jobs.insert(w.job);
    return jobs.size();
  }

  // The ready job a worker of `pool` runs next: the first runnable one (not
  // in backoff) of the highest priority, where a low job that has waited
  // `aging_ms` counts as normal (by its age, so it goes before younger
  // normal jobs). Each priority is a contiguous, age-ordered range of the
  // pool's ready set, so this looks at the head of each range only,
  // skipping jobs in backoff.
  std::set<ready_key>::iterator next_ready(const std::string& pool, std::int64_t t, const worker_slot* slot = nullptr,
                                           bool hardware_idle = false) {
    auto& ready = st_.ready[pool];
    bool enrich_full = pool == "enrich" && st_.cfg.max_enrich_jobs > 0 &&
                       jobs_in_enrichment() >= std::size_t(st_.cfg.max_enrich_jobs);
    auto runnable = [&](const ready_key& k) {
      auto live = st_.live.find(std::get<2>(k));
      if (live == st_.live.end())
        return false;
      if (enrich_full && std::none_of(st_.workers.begin(), st_.workers.end(),
                                      [&](const worker_slot& w) { return w.job == live->first; }))
        return false;  // a job already in enrichment may add its parallel stage
      return stage_to_start(live->second, pool, t, slot, hardware_idle) != nullptr;
    };
    auto first_of = [&](priority p) {
      auto it = ready.lower_bound(ready_key{int(p), std::numeric_limits<std::int64_t>::min(), ""});
      for (; it != ready.end() && std::get<0>(*it) == int(p); ++it)
        if (runnable(*it))
          return it;
      return ready.end();
    };
    auto high = first_of(priority::high);
    if (high != ready.end())
      return high;
    auto normal = first_of(priority::normal);
    auto low = first_of(priority::low);
    if (low == ready.end())
      return normal;
    bool aged = st_.cfg.aging_ms >= 0 && t - std::get<1>(*low) >= st_.cfg.aging_ms;
    if (normal == ready.end() || (aged && std::get<1>(*low) < std::get<1>(*normal)))
      return low;
    return normal;
  }

  void dispatch() {
    if (!st_.store_broken.empty())
      return;  // nothing new starts that could not be saved
    if (st_.draining) {
      if (std::all_of(st_.workers.begin(), st_.workers.end(), [](const worker_slot& w) { return w.job.empty(); })) {
        for (auto& rp : st_.drained)
          rp.deliver(true);
        st_.drained.clear();
      }
      return;
    }
    auto t = now();
    // Placement (docs/scale-out.md): idle workers of the least loaded node
    // first (running / slots); what a node cannot run is skipped for it.
    std::map<std::string, std::pair<int, int>> load;  // node -> running, slots
    for (const auto& w : st_.workers) {
      auto& l = load[w.node];
      ++l.second;
      l.first += w.job.empty() ? 0 : 1;
    }
    std::vector<std::pair<double, std::size_t>> order;  // (node's load share, slot)
    bool anything_ready = std::any_of(st_.ready.begin(), st_.ready.end(), [](const auto& r) { return !r.second.empty(); });
    for (std::size_t i = 0; anything_ready && i < st_.workers.size(); ++i)
      if (st_.workers[i].job.empty()) {
        const auto& l = load[st_.workers[i].node];
        order.emplace_back(double(l.first) / double(std::max(1, l.second)), i);
      }
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    // Computed once per round (an idle hardware node taken in this round
    // only makes a software node skip compress once more: harmless).
    bool hardware_idle = std::any_of(st_.workers.begin(), st_.workers.end(), [&](const worker_slot& w) {
      return w.job.empty() && w.pool == "media" && hardware_node(w.node);
    });
    // Slots of one kind (pool, what its node runs, encoder class) that found
    // nothing: the others of that kind would not either. Keeps a round
    // linear in the idle slots with hundreds of worker nodes.
    std::set<std::string> exhausted;
    for (const auto& [share, index] : order) {
      auto& w = st_.workers[index];
      if (!w.job.empty())
        continue;
      if (exhausted.count(w.kind))
        continue;
      bool hw_idle = w.pool == "media" && !hardware_node(w.node) && hardware_idle;
      auto it = next_ready(w.pool, t, &w, hw_idle);
      if (it == st_.ready[w.pool].end()) {
        exhausted.insert(w.kind);
        continue;
      }
      auto id = std::get<2>(*it);
      auto& j = st_.live[id];
      bool first_start = j.state == job_state::pending &&
                         std::none_of(j.stages.begin(), j.stages.end(),
                                      [](const stage_record& s) { return s.attempts > 0; });
      auto* upcoming = stage_to_start(j, w.pool, t, &w, hw_idle);
      std::string stage_name = upcoming->name;
      int attempt = upcoming->attempts + 1;
      auto reason = stage_name + " started (attempt " + std::to_string(attempt) + ")";
      auto err = transition(id, reason, [&](job_record& r) {
        auto* s = find_stage(r, stage_name);
        s->state = job_state::processing;
        s->attempts = attempt;
        s->started_at = t;
        s->not_before = 0;
        s->node = w.node;
        r.state = job_state::processing;
      });
      if (err)
        continue;
      auto& rec = st_.live[id];
      w.job = id;
      w.stage = stage_name;
      w.attempt = attempt;
      w.lapsed = false;
      w.lease_until = t + st_.cfg.lease_ms;
      ++load[w.node].first;
      if (first_start)
        emit(rec, events::job_started);
      emit(rec, events::stage_started, stage_name, "attempt " + std::to_string(attempt));
      // The worker starts only once the attempt is counted on disk: a stage
      // that crashes the node at once must still use up its attempts.
      after_commit([self = self_, id, stage_name, attempt, worker = w.handle.address()](const maybe_error& err) {
        if (!err)
          queue_logic{self}.start_run(id, stage_name, attempt, worker);
      });
      st_.watches[run_key(id, stage_name)] = queue_state::watch{0, t, false};
      arm_watchdog();
      rec.waiting.clear();
    }
    fail_disk_expired();
    // A pool this node runs no worker of (media.workers = 0) and no worker
    // node serves either: its jobs say so.
    for (const auto& pool : st_.cfg.unserved_pools) {
      if (std::any_of(st_.workers.begin(), st_.workers.end(), [&](const worker_slot& w) { return w.pool == pool; }))
        continue;
      auto& keys = st_.ready[pool];
      auto reason = "waiting for a " + pool + " worker: this node runs none (" + pool + ".workers = 0)" +
                    (st_.cfg.adopt_ms > 0 ? " and no worker node serving " + pool + " stages is connected" : "");
      for (const auto& key : keys) {
        auto& j = st_.live[std::get<2>(key)];
        if (j.waiting != reason) {
          j.waiting = reason;
          emit(j, events::job_waiting, {}, reason);
        }
      }
    }
  }

  // Jobs that waited disk_wait_ms for space: their waiting stage fails
  // (io, not retried: the wait was the retry), and the job once nothing runs.
  void fail_disk_expired() {
    auto expired = std::move(st_.disk_expired);
    st_.disk_expired.clear();
    for (const auto& id : expired) {
      auto it = st_.live.find(id);
      st_.disk_waiting_since.erase(id);
      if (it == st_.live.end())
        continue;
      auto* s = find_stage_if(it->second, [](const stage_record& r) {
        return r.state == job_state::pending && pool_of(r.name) == "media";
      });
      if (!s)
        continue;
      const std::string prefix = "waiting for disk space: ";
      const auto& w = it->second.waiting;
      auto message = "disk full: " + (w.rfind(prefix, 0) == 0 ? w.substr(prefix.size()) : w) + "; waited " +
                     std::to_string(st_.cfg.disk_wait_ms / 1000) + " s (queue.disk_wait_ms)";
      auto stage = s->name;
      job_record rec;
      transition(id, stage + ": " + message, [&](job_record& j) {
        auto* js = find_stage(j, stage);
        js->state = job_state::failed;
        js->finished_at = now();
        js->error = message;
        j.waiting.clear();
        if (j.error.empty()) {
          j.error = stage + ": " + message;
          j.error_code = errc::io;
        }
      }, &rec);
      spdlog::error("queue: job {} {}: {}", id, stage, message);
      emit(rec, events::stage_failed, stage, message);
      settle(id);
    }
  }

  void schedule_wakeup() {
    // The earliest backoff among live jobs.
    std::int64_t soonest = -1;
    for (auto& [id, j] : st_.live)
      for (auto& s : j.stages)
        if (s.state == job_state::pending && s.not_before > 0)
          soonest = soonest < 0 ? s.not_before : std::min(soonest, s.not_before);
    if (soonest >= 0)
      self_->delayed_send(self_, std::chrono::milliseconds(std::max<std::int64_t>(0, soonest - now())),
                          wakeup_atom::value);
  }

  queue_ptr self_;
  queue_state& st_;
};

queue_actor::behavior_type queue_behavior(queue_ptr self, queue_config cfg,
                                          std::shared_ptr<job_store> store,
                                          notifier_actor notifier) {
  self->state.cfg = std::move(cfg);
  if (!self->state.cfg.now_ms)
    self->state.cfg.now_ms = system_now_ms;
  if (!self->state.cfg.free_bytes)
    self->state.cfg.free_bytes = volume_free_bytes;
  self->state.store = std::move(store);
  self->state.notifier = std::move(notifier);
  // The writer reports to the queue by message; a weak handle, so the
  // writer (owned by the queue's state) does not keep the queue alive.
  caf::weak_actor_ptr weak{self->ctrl()};
  self->state.writer = std::make_unique<group_writer>(
    self->state.store, [weak](std::uint64_t ticket, const maybe_error& err) {
      if (auto strong = weak.lock())
        caf::anon_send(caf::actor_cast<queue_actor>(strong), committed_atom::value, ticket,
                       std::uint8_t(err ? err->code : errc{}), err ? err->message : std::string{});
    });
  self->set_down_handler([self](caf::down_msg& msg) {
    queue_logic{self}.worker_down(msg.source, msg.reason);
  });
  queue_logic{self}.recover();
  if (self->state.cfg.purge_interval_ms > 0)
    self->delayed_send(self, std::chrono::milliseconds(std::min<std::int64_t>(10000, self->state.cfg.purge_interval_ms)),
                       purge_atom::value);
  return {
    [self](purge_atom) {
      queue_logic{self}.purge_trash();
      self->delayed_send(self, std::chrono::milliseconds(self->state.cfg.purge_interval_ms), purge_atom::value);
    },
    [self](committed_atom, std::uint64_t ticket, std::uint8_t code, const std::string& message) {
      queue_logic{self}.on_committed(ticket, code, message);
    },
    [self](deadline_atom, const std::string& id, const std::string& stage, std::int32_t attempt) {
      queue_logic{self}.on_deadline(id, stage, attempt);
    },
    [self](submit_atom, const std::string& dir, const std::string& prio) {
      return queue_logic{self}.submit(submit_request{dir, prio, -1, -1, {}});
    },
    [self](submit_atom, const submit_request& r) { return queue_logic{self}.submit(r); },
    [self](status_atom, const std::string& id) { return queue_logic{self}.status(id); },
    [self](list_atom, std::uint32_t limit) { return queue_logic{self}.list(limit); },
    [self](list_atom, const list_query& q) { return queue_logic{self}.list(q); },
    [self](drain_atom) { return queue_logic{self}.drain(); },
    [self](cancel_atom, const std::string& id) { return queue_logic{self}.cancel(id); },
    [self](history_atom, const std::string& id) { return queue_logic{self}.history(id); },
    [self](history_atom, std::uint64_t after, std::uint32_t limit) { return queue_logic{self}.journal(after, limit); },
    [self](count_atom) { return queue_logic{self}.counts(); },
    [self](retry_atom, const std::string& id) { return queue_logic{self}.retry(id); },
    [self](delete_atom, const std::string& id, std::uint8_t what) { return queue_logic{self}.remove(id, what); },
    [self](removed_atom, const std::string& id, const std::string& failure) {
      queue_logic{self}.removal_done(id, failure);
    },
    [self](register_atom, stage_worker_actor w) { queue_logic{self}.add_worker(std::move(w), "media"); },
    [self](register_atom, stage_worker_actor w, std::string& pool) {
      queue_logic{self}.add_worker(std::move(w), std::move(pool));
    },
    [self](const stage_progress& p) { queue_logic{self}.on_progress(p); },
    [self](lease_atom, const std::string& id, const std::string& stage, std::int32_t attempt) {
      return queue_logic{self}.lease(id, stage, attempt);
    },
    [self](join_atom, const node_join& j, const std::vector<stage_worker_actor>& workers) {
      return queue_logic{self}.join(j, workers);
    },
    [self](report_atom, const stage_result& r) {
      queue_logic{self}.on_result(r);
      return true;
    },
    [self](nodes_atom) { return queue_logic{self}.node_list(); },
    [self](adopt_atom) { queue_logic{self}.on_adopt_deadline(); },
    [self](const stage_result& r) { queue_logic{self}.on_result(r); },
    [self](wakeup_atom) { queue_logic{self}.on_wakeup(); },
    [self](watchdog_atom) { queue_logic{self}.on_watchdog(); },
  };
}

}  // namespace

result<queue_actor> spawn_queue(caf::actor_system& sys, queue_config cfg, notifier_actor notifier) {
  std::string moved;
  auto store = job_store::open(cfg.data_dir, &moved);
  if (!store)
    return store.err();
  if (!moved.empty()) {
    // Nothing silently dropped: every record still readable in the broken
    // database comes back; unfinished jobs resume from their last
    // completed stage (their outputs are still in the session folders).
    std::vector<store_op> salvaged;
    for (auto& j : job_store::salvage(moved)) {
      store_op op;
      op.job = std::move(j);
      op.reason = "recovered from the unreadable database moved aside to " + moved;
      salvaged.push_back(std::move(op));
    }
    if (auto err = (*store)->apply(salvaged))
      spdlog::error("queue: {}", err->message);
    else
      spdlog::warn("queue: the job database could not be read and was moved aside to {}; {} job(s) "
                   "recovered from it",
                   moved, salvaged.size());
  }
  std::shared_ptr<job_store> shared{std::move(*store)};
  return sys.spawn(queue_behavior, std::move(cfg), std::move(shared),
                                  std::move(notifier));
}

}  // namespace postroll
