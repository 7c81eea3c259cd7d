// Implements postroll::runtime (include/postroll/runtime.hpp) on the actors.
#include "postroll/runtime.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/caf_errors.hpp"
#include "actors/interfaces.hpp"
#include "actors/node_setup.hpp"
#include "actors/supervisor.hpp"
#include "enrichment/live/retired_work.hpp"
#include "pipelines/encoder_choice.hpp"
#include "pipelines/gst_init.hpp"

namespace postroll {

struct subscription::state {
  std::recursive_mutex mtx;  // held while a callback runs; reset() waits for it
  bool active = true;
  std::function<void(const event&)> callback;
  caf::actor sink;
  caf::actor_system* sys = nullptr;  // valid while `sink` is set (stop() clears it)
  // Events wait here for the delivery thread: callbacks run on a thread
  // this subscription owns, in order, never on CAF's threads.
  std::mutex queue_mtx;
  std::condition_variable queue_cv;
  std::deque<event> queue;
  bool closing = false;
  std::thread thread;

  // The thread holds the state: a callback that drops the subscription
  // (the last owner) still returns into a live object.
  void start(std::shared_ptr<state> self) {
    thread = std::thread([this, self = std::move(self)] {
      for (;;) {
        event e;
        {
          std::unique_lock<std::mutex> lock{queue_mtx};
          queue_cv.wait(lock, [&] { return closing || !queue.empty(); });
          if (closing)
            return;
          e = std::move(queue.front());
          queue.pop_front();
        }
        deliver(e);
      }
    });
  }
  void push(const event& e) {
    std::lock_guard<std::mutex> guard{queue_mtx};
    if (closing)
      return;
    queue.push_back(e);
    queue_cv.notify_one();
  }
  void deliver(const event& e) {
    std::lock_guard<std::recursive_mutex> guard{mtx};
    if (active && callback)
      callback(e);
  }
  void close() {
    caf::actor s;
    {
      std::lock_guard<std::recursive_mutex> guard{mtx};
      active = false;
      s = std::move(sink);
    }
    {
      std::lock_guard<std::mutex> guard{queue_mtx};
      closing = true;
      queue.clear();
      queue_cv.notify_all();
    }
    if (thread.joinable()) {
      // Closed from inside a callback: that thread ends on its own.
      if (thread.get_id() == std::this_thread::get_id())
        thread.detach();
      else
        thread.join();
    }
    if (s) {
      caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
      // The sink's handle went to a (maybe remote) notifier, which pinned it
      // in CAF's registry. The sink never sends, so unpin it now.
      sys->registry().erase(s->id());
    }
  }
};

subscription::subscription(std::shared_ptr<state> s) : state_(std::move(s)) {}
subscription::subscription(subscription&&) noexcept = default;
subscription& subscription::operator=(subscription&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
  }
  return *this;
}
subscription::~subscription() { reset(); }
void subscription::reset() {
  if (state_)
    state_->close();
  state_.reset();
}

struct runtime::impl {
  caf::actor_system_config caf_cfg;
  std::unique_ptr<caf::actor_system> sys;
  bool local = false;
  supervisor_actor supervisor;
  queue_actor queue;
  notifier_actor notifier;
  std::chrono::seconds timeout{30};
  std::mutex mtx;
  bool stopped = false;
  std::vector<std::weak_ptr<subscription::state>> subscriptions;

  bool tls = false;  ///< the middleman talks TLS (config [tls])

  explicit impl(const config& cfg = {}) : tls(uses_tls(cfg)) {
    add_message_types(caf_cfg);
    configure_transport(caf_cfg, cfg);
    // Spare scheduler threads: the queue's synced writes block one briefly.
    caf_cfg.set("scheduler.max-threads", std::max(4u, std::thread::hardware_concurrency()));
    sys = std::make_unique<caf::actor_system>(caf_cfg);
  }

  // The supervisor (started here or reached on a node), then the queue's
  // and notifier's handles from it.
  maybe_error attach(result<supervisor_actor> sup) {
    if (!sup)
      return sup.err();
    supervisor = std::move(*sup);
    return fetch_handles();
  }

  maybe_error fetch_handles() {
    caf::scoped_actor self{*sys};
    maybe_error out;
    self->request(supervisor, timeout, get_atom::value)
      .receive(
        [&](queue_actor& q, notifier_actor& n) {
          queue = std::move(q);
          notifier = std::move(n);
        },
        [&](caf::error& e) { out = error{errc::unavailable, "the runtime did not answer: " + plain_words(e)}; });
    return out;
  }

  // Asks the queue; `Reply` is job_reply or job_list, `payload` picks the
  // value out of a successful reply. Errors come back as values.
  template <class Reply, class Payload, class... Ts>
  auto ask(Payload payload, Ts&&... xs) -> result<std::decay_t<decltype(payload(std::declval<Reply&>()))>> {
    using value = std::decay_t<decltype(payload(std::declval<Reply&>()))>;
    if (!queue)
      return error{errc::unavailable, "runtime is stopped"};
    caf::scoped_actor self{*sys};
    result<value> out = error{errc::unavailable, "no answer"};
    self->request(queue, timeout, std::forward<Ts>(xs)...)
      .receive(
        [&](Reply& r) {
          if (r.failure)
            out = r.failure.err();
          else
            out = std::move(payload(r));
        },
        [&](caf::error& e) { out = error{errc::unavailable, "the job queue did not answer: " + plain_words(e)}; });
    return out;
  }

  template <class... Ts>
  result<job_record> ask_job(Ts&&... xs) {
    return ask<job_reply>([](job_reply& r) -> job_record& { return r.job; }, std::forward<Ts>(xs)...);
  }
};

runtime::runtime(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

runtime::~runtime() {
  stop();
}

result<std::unique_ptr<runtime>> runtime::start(const config& cfg) {
  if (auto err = validate(cfg))
    return *err;
  if (auto level = spdlog::level::from_str(cfg.log_level); level != spdlog::level::off || cfg.log_level == "off")
    spdlog::set_level(level);
  gst::ensure_init();
  if (cfg.role == "worker")
    return error{errc::bad_input, "node.role = worker: a worker node runs as `postroll node --config FILE`; "
                                  "embed a standalone or coordinator runtime"};
  auto sc = supervisor_config_for(cfg);
  if (!sc)
    return sc.err();
  auto p = std::make_unique<impl>(cfg);
  p->local = true;
  if (auto err = p->attach(start_supervisor(*p->sys, std::move(*sc))))
    return *err;
  return std::unique_ptr<runtime>{new runtime(std::move(p))};
}

result<std::unique_ptr<runtime>> runtime::start(const std::string& config_path) {
  auto cfg = load_config(config_path);
  if (!cfg)
    return cfg.err();
  return start(*cfg);
}

result<std::unique_ptr<runtime>> runtime::connect(const std::string& host, std::uint16_t port) {
  return connect(host, port, config{});
}

result<std::unique_ptr<runtime>> runtime::connect(const std::string& host, std::uint16_t port, const config& cfg) {
  auto p = std::make_unique<impl>(cfg);
  if (auto err = p->attach(remote_supervisor(*p->sys, host, port, p->tls)))
    return *err;
  return std::unique_ptr<runtime>{new runtime(std::move(p))};
}

result<job_record> runtime::submit(const std::string& session_dir, priority prio) {
  return impl_->ask_job(submit_atom::value, session_dir, std::string{to_string(prio)});
}

result<job_record> runtime::submit(const std::string& session_dir, const submit_options& options) {
  auto tri = [](const std::optional<bool>& v) { return std::int8_t(v ? (*v ? 1 : 0) : -1); };
  submit_request r{session_dir, to_string(options.prio), tri(options.compress), tri(options.enrich), options.retention,
                   options.live};
  return impl_->ask_job(submit_atom::value, std::move(r));
}

result<job_record> runtime::open_live(const std::string& session_dir, const submit_options& options) {
  auto tri = [](const std::optional<bool>& v) { return std::int8_t(v ? (*v ? 1 : 0) : -1); };
  submit_request r{session_dir, to_string(options.prio), tri(options.compress), tri(options.enrich), options.retention,
                   true};
  return impl_->ask_job(submit_atom::value, std::move(r));
}

result<job_record> runtime::append_file(const std::string& job_id, const live_file& file) {
  return impl_->ask_job(append_atom::value, job_id, file.kind, file.path, file.offset_ms);
}

result<job_record> runtime::end_recording(const std::string& job_id) {
  return impl_->ask_job(end_atom::value, job_id);
}

result<job_record> runtime::status(const std::string& job_id) {
  return impl_->ask_job(status_atom::value, job_id);
}

result<job_record> runtime::cancel(const std::string& job_id) {
  return impl_->ask_job(cancel_atom::value, job_id);
}

result<job_record> runtime::remove(const std::string& job_id, bool with_outputs) {
  return impl_->ask_job(delete_atom::value, job_id, std::uint8_t(with_outputs ? removal::outputs : removal::record));
}

result<job_record> runtime::remove(const std::string& job_id, removal what) {
  auto job = status(job_id);
  if (!job)
    return job.err();
  if (job->state == job_state::pending || job->state == job_state::processing) {
    if (auto c = cancel(job_id); !c)
      return c.err();
    auto ended = wait(job_id, std::chrono::minutes(5));
    if (!ended)
      return ended.err();
  }
  return impl_->ask_job(delete_atom::value, job_id, std::uint8_t(what));
}

result<job_record> runtime::retry(const std::string& job_id) {
  return impl_->ask_job(retry_atom::value, job_id);
}

result<std::vector<job_record>> runtime::list(std::uint32_t limit) {
  return impl_->ask<job_list>([](job_list& r) -> std::vector<job_record>& { return r.jobs; },
                              list_atom::value, limit);
}

result<job_page> runtime::list(const list_filter& filter) {
  list_query q;
  q.state = filter.state ? std::int8_t(*filter.state) : std::int8_t(-1);
  q.session_id = filter.session_id;
  q.limit = filter.limit;
  q.cursor = filter.cursor;
  return impl_->ask<job_list>(
    [](job_list& r) { return job_page{std::move(r.jobs), std::move(r.next)}; }, list_atom::value, std::move(q));
}

result<std::vector<journal_entry>> runtime::history(const std::string& job_id) {
  return impl_->ask<job_history>([](job_history& r) -> std::vector<journal_entry>& { return r.entries; },
                                 history_atom::value, job_id);
}

result<std::vector<journal_entry>> runtime::journal(std::uint64_t after, std::uint32_t limit) {
  return impl_->ask<job_history>([](job_history& r) -> std::vector<journal_entry>& { return r.entries; },
                                 history_atom::value, after, limit);
}

result<job_counts> runtime::counts() {
  if (!impl_->queue)
    return error{errc::unavailable, "runtime is stopped"};
  caf::scoped_actor self{*impl_->sys};
  result<job_counts> out = error{errc::unavailable, "no answer"};
  self->request(impl_->queue, impl_->timeout, count_atom::value)
    .receive(
      [&](std::vector<std::uint64_t>& v) {
        job_counts c;
        for (size_t i = 0; i < v.size() && i < 5; ++i)
          c.by_state[i] = v[i];
        out = c;
      },
      [&](caf::error& e) { out = error{errc::unavailable, "the job queue did not answer: " + plain_words(e)}; });
  return out;
}

result<subscription> runtime::subscribe(std::function<void(const event&)> callback) {
  if (!impl_->notifier)
    return error{errc::unavailable, "runtime is stopped"};
  auto st = std::make_shared<subscription::state>();
  st->callback = std::move(callback);
  // The sink is a scheduled actor that only queues: callbacks run on the
  // subscription's own thread, in event order, and may call back into the
  // runtime. Not a detached actor: a remote notifier's middleman keeps
  // references to the actors it talked to, and ~actor_system waits for a
  // detached actor's thread until its last reference is gone (a remote
  // client hung in stop() after a busy subscription).
  // A weak pointer: the actor may outlive the subscription in CAF's hands.
  std::weak_ptr<subscription::state> weak = st;
  auto sink = impl_->sys->spawn([weak](event_sink_actor::pointer) -> event_sink_actor::behavior_type {
    return {[weak](const event& e) {
      if (auto strong = weak.lock())
        strong->push(e);
    }};
  });
  st->start(st);
  st->sink = caf::actor_cast<caf::actor>(sink);
  st->sys = impl_->sys.get();
  caf::scoped_actor self{*impl_->sys};
  maybe_error failed;
  self->request(impl_->notifier, impl_->timeout, subscribe_atom::value, sink)
    .receive([](bool) {},
             [&](caf::error& e) { failed = error{errc::unavailable, "cannot subscribe to events: " + plain_words(e)}; });
  if (failed) {
    st->close();
    return *failed;
  }
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->subscriptions.push_back(st);
  return subscription{st};
}

result<job_record> runtime::wait(const std::string& job_id, std::chrono::milliseconds timeout) {
  std::mutex mtx;
  std::condition_variable cv;
  bool done = false;
  auto sub = subscribe([&](const event& e) {
    if (e.job_id == job_id && (e.kind == events::job_completed || e.kind == events::job_failed ||
                               e.kind == events::job_cancelled)) {
      std::lock_guard<std::mutex> guard{mtx};
      done = true;
      cv.notify_all();
    }
  });
  if (!sub)
    return sub.err();
  auto rec = status(job_id);
  if (!rec || is_terminal(rec->state))
    return rec;
  {
    std::unique_lock<std::mutex> lock{mtx};
    if (!cv.wait_for(lock, timeout, [&] { return done; }))
      return error{errc::unavailable, "job " + job_id + " did not finish within the timeout"};
  }
  sub->reset();
  return status(job_id);
}

result<std::uint16_t> runtime::listen(const std::string& host, std::uint16_t port) {
  if (!impl_->local)
    return error{errc::internal, "only a runtime started in this process can listen"};
  return publish_actor(*impl_->sys, impl_->supervisor, host, port, impl_->tls);
}

result<std::vector<node_summary>> runtime::nodes() {
  if (!impl_->queue)
    return error{errc::unavailable, "runtime is stopped"};
  caf::scoped_actor self{*impl_->sys};
  result<std::vector<node_summary>> out = error{errc::unavailable, "no answer"};
  self->request(impl_->queue, impl_->timeout, nodes_atom::value)
    .receive(
      [&](std::vector<node_summary>& nodes) {
        out = std::move(nodes);
      },
      [&](caf::error& e) { out = error{errc::unavailable, "the job queue did not answer: " + plain_words(e)}; });
  return out;
}

void runtime::stop(std::chrono::milliseconds grace) {
  if (impl_->local && impl_->queue && grace.count() > 0) {
    // No new stage starts; wait (up to the grace) for the running ones.
    caf::scoped_actor self{*impl_->sys};
    self->request(impl_->queue, grace, drain_atom::value).receive([](bool) {}, [](caf::error&) {});
  }
  stop();
}

void runtime::stop() {
  std::vector<std::weak_ptr<subscription::state>> subs;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    if (impl_->stopped)
      return;
    impl_->stopped = true;
    subs.swap(impl_->subscriptions);
  }
  for (auto& w : subs)
    if (auto s = w.lock())
      s->close();
  if (impl_->local && impl_->supervisor) {
    // Stop the actors and wait until they have terminated. Only then release
    // CAF's registry entries: every message an actor sends to a remote node
    // (a reply, an event) registers the sender again.
    std::vector<caf::actor_addr> addrs = {impl_->supervisor.address(), impl_->queue.address(),
                                          impl_->notifier.address()};
    {
      caf::scoped_actor self{*impl_->sys};
      for (auto& a : addrs)
        self->monitor(caf::actor_cast<caf::actor>(a));
      caf::anon_send_exit(impl_->supervisor, caf::exit_reason::user_shutdown);
      size_t down = 0;
      self->receive_while([&] { return down < addrs.size(); })(
        [&](const caf::down_msg&) { ++down; },
        caf::after(std::chrono::seconds(30)) >> [&] { down = addrs.size(); });
    }
    auto& reg = impl_->sys->registry();
    for (auto& a : addrs)
      reg.erase(a.id());
  }
  impl_->queue = nullptr;
  impl_->notifier = nullptr;
  impl_->supervisor = nullptr;
  impl_->sys.reset();  // waits for every actor to finish
  join_retired();      // live work still tearing down
}

}  // namespace postroll
