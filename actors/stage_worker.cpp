#include "actors/stage_worker.hpp"

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "actors/caf_errors.hpp"
#include "session/failpoint.hpp"
#include "session/output_file.hpp"

namespace postroll {

namespace {

using worker_impl = stage_worker_impl_actor;

// How often the queue hears about a running stage, news or not: a stage
// reports when it has news, and a stall watchdog needs a steady beat.
constexpr auto progress_interval = std::chrono::milliseconds(100);

// How long leaving waits for a cancelled stage thread before giving up on it.
constexpr auto stop_wait = std::chrono::seconds(2);

struct running_stage {
  stage_order order;
  std::shared_ptr<cancel_token> cancel;
  std::shared_ptr<std::atomic<double>> fraction = std::make_shared<std::atomic<double>>(0.0);
  int tick = 0;  ///< identifies this run's progress timer
  std::future<void> done;  ///< ready when the thread is about to end
  std::thread thread;
};

// The stage in flight. Shared with the exit functor: a stateful actor's
// state is destroyed before attached functors run.
struct running_slot {
  std::unique_ptr<running_stage> stage;

  void stop() {
    if (!stage)
      return;
    stage->cancel->cancel();
    if (stage->thread.joinable()) {
      // A thread stuck in a driver or a dead filesystem must not hold a
      // scheduler thread (and shutdown) hostage: it is left behind; it
      // owns copies of everything it touches.
      if (stage->done.wait_for(stop_wait) == std::future_status::ready) {
        stage->thread.join();
      } else {
        spdlog::error("worker: job {} {} did not stop within {} s; abandoning its thread", stage->order.job_id,
                      stage->order.stage, stop_wait.count());
        stage->thread.detach();
      }
    }
    stage.reset();
  }
};

struct worker_state {
  static inline const char* name = "postroll.stage_worker";
  stage_report_actor queue;
  std::string pool;
  stage_runner run;
  bool fenced = false;
  std::shared_ptr<running_slot> slot = std::make_shared<running_slot>();
  int runs = 0;
};

using worker_ptr = worker_impl::stateful_pointer<worker_state>;

stage_result run_stage(const std::string& pool, const stage_order& order, const stage_runner& run,
                       const cancel_token& cancel, std::atomic<double>& fraction) {
  using clock = std::chrono::steady_clock;
  // The worker reads this on its 100 ms beat and reports it.
  auto progress = [&](double f) { fraction.store(f); };
  stage_result r;
  r.job_id = order.job_id;
  r.stage = order.stage;
  r.attempt = order.attempt;
  spdlog::info("{}: job {} {} attempt {} started", pool, order.job_id, order.stage, order.attempt);
  // Tests: POSTROLL_FAILPOINT=stage.<name> kills the process as the stage
  // starts (a stage that crashes every node it touches).
  failpoint(("stage." + order.stage).c_str());
  auto started = clock::now();
  result<std::string> out = error{errc::internal, "no result"};
  try {
    out = run(order, cancel, progress);
  } catch (const std::exception& e) {
    // A stage is plain code: an exception is its failure, not the worker's.
    out = error{errc::internal, std::string{"unexpected error: "} + e.what()};
  }
  auto secs = std::chrono::duration<double>(clock::now() - started).count();
  if (out) {
    r.failure = fault{};
    r.output = std::move(*out);
    spdlog::info("{}: job {} {} done in {:.2f} s", pool, order.job_id, order.stage, secs);
  } else {
    r.failure = fault::of(out.err());
    spdlog::log(out.err().code == errc::cancelled ? spdlog::level::info : spdlog::level::warn,
                "{}: job {} {} ended after {:.2f} s: {}", pool, order.job_id, order.stage, secs, r.failure.message);
  }
  return r;
}

// The commit gate of a fenced stage: asks whoever the worker reports to
// whether this attempt still owns the stage before a file is renamed.
commit_gate lease_gate(caf::actor_system& sys, stage_report_actor report, stage_order order) {
  return [&sys, report, order](const std::filesystem::path& file) -> maybe_error {
    caf::scoped_actor self{sys};
    maybe_error out;
    self->request(report, std::chrono::seconds(60), lease_atom::value, order.job_id, order.stage,
                  std::int32_t(order.attempt))
      .receive(
        [&](bool owned) {
          if (!owned)
            out = error{errc::cancelled, file.string() + ": not written: attempt " + std::to_string(order.attempt) +
                                           " of " + order.stage + " lost its lease (a newer attempt owns it)"};
        },
        [&](caf::error& e) {
          out = error{errc::unavailable, file.string() + ": not written: the coordinator did not confirm the lease (" +
                                           plain_words(e) + ")"};
        });
    return out;
  };
}

worker_impl::behavior_type worker_behavior(worker_ptr self, stage_report_actor queue, std::string pool,
                                           stage_runner run, bool fenced) {
  self->state.queue = std::move(queue);
  self->state.pool = std::move(pool);
  self->state.run = std::move(run);
  self->state.fenced = fenced;
  // Leaving (shutdown or crash) stops the stage and waits for its thread.
  self->attach_functor([slot = self->state.slot] { slot->stop(); });
  return {
    [self](run_atom, const stage_order& order) {
      auto& st = self->state;
      auto& running = st.slot->stage;
      if (running) {
        // The queue sends one order at a time; refuse rather than queue here.
        stage_result busy{order.job_id, order.stage, order.attempt,
                          fault::of(errc::unavailable, st.pool + " worker is busy"), {}};
        self->send(st.queue, busy);
        return;
      }
      running = std::make_unique<running_stage>();
      running->order = order;
      running->cancel = std::make_shared<cancel_token>();
      running->tick = ++st.runs;
      auto cancel = running->cancel;
      auto fraction = running->fraction;
      worker_impl handle = self;
      std::promise<void> done;
      running->done = done.get_future();
      commit_gate gate;
      if (st.fenced)
        gate = lease_gate(self->system(), st.queue, order);
      running->thread = std::thread([order, cancel, fraction, handle, pool = st.pool, run = st.run,
                                     gate = std::move(gate), done = std::move(done)]() mutable {
        commit_gate_scope fence{std::move(gate)};
        auto r = run_stage(pool, order, run, *cancel, *fraction);
        done.set_value();
        caf::anon_send(handle, finished_atom::value, std::move(r));
      });
      // At once: a worker node's agent learns from it which stages it holds.
      self->send(st.queue, stage_progress{order.job_id, order.stage, order.attempt, 0.0, {}});
      self->delayed_send(self, progress_interval, wakeup_atom::value, running->tick);
    },
    [self](cancel_atom, const std::string& job_id) {
      auto& running = self->state.slot->stage;
      if (running && running->order.job_id == job_id)
        running->cancel->cancel();
    },
    [self](wakeup_atom, int tick) {
      auto& st = self->state;
      auto& running = st.slot->stage;
      if (!running || running->tick != tick)
        return;  // that run has ended
      auto& o = running->order;
      self->send(st.queue, stage_progress{o.job_id, o.stage, o.attempt, running->fraction->load(), running->cancel->note()});
      self->delayed_send(self, progress_interval, wakeup_atom::value, tick);
    },
    [self](finished_atom, stage_result& r) {
      auto& st = self->state;
      auto& running = st.slot->stage;
      if (running && running->thread.joinable())
        running->thread.join();
      running.reset();
      self->send(st.queue, std::move(r));
    },
  };
}

}  // namespace

stage_worker_actor spawn_stage_worker(caf::actor_system& sys, stage_report_actor report, std::string pool,
                                      stage_runner run, bool fenced) {
  auto impl = sys.spawn(worker_behavior, std::move(report), std::move(pool), std::move(run), fenced);
  return caf::actor_cast<stage_worker_actor>(impl);
}

}  // namespace postroll
