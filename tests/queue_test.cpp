// The queue actor on its own: a real RocksDB, a fake clock and a fake media
// processor that completes every stage at once and records the orders.
#define BOOST_TEST_MODULE queue
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/all.hpp>

#include "actors/notifier.hpp"
#include "actors/queue.hpp"
#include "storage/job_store.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

struct order_log {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<stage_order> orders;
  void add(const stage_order& o) {
    std::lock_guard<std::mutex> g{mtx};
    orders.push_back(o);
    cv.notify_all();
  }
  bool wait_for(size_t n) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, 30s, [&] { return orders.size() >= n; });
  }
  // Job ids in the order their first stage was dispatched.
  std::vector<std::string> job_order() {
    std::lock_guard<std::mutex> g{mtx};
    std::vector<std::string> out;
    for (auto& o : orders)
      if (std::find(out.begin(), out.end(), o.job_id) == out.end())
        out.push_back(o.job_id);
    return out;
  }
};

struct fixture {
  temp_dir tmp;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  // The queue's time and timers: moved by hand, never waited for.
  std::shared_ptr<manual_clock> clock = std::make_shared<manual_clock>(1'000'000'000'000);
  std::atomic<std::int64_t> free_bytes{std::int64_t(1) << 50};
  queue_actor queue;
  notifier_actor notifier;
  order_log log;

  fixture() {
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    queue_config qc;
    qc.data_dir = (tmp / "db").string();
    qc.clock = clock;
    qc.stall_timeout_ms = 1000;  // of the fake clock
    qc.retry_base_ms = 50;
    qc.retry_cap_ms = 100;
    qc.free_bytes = [this](const std::string&) { return free_bytes.load(); };
    notifier = spawn_notifier(*sys);
    auto q = spawn_queue(*sys, qc, notifier);
    BOOST_REQUIRE(q);
    queue = *q;
  }
  void set_clock(std::int64_t t) { clock->advance(t - clock->now_ms()); }

  ~fixture() {
    caf::anon_send_exit(queue, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(notifier, caf::exit_reason::user_shutdown);
  }

  // Subscribes now; the future is ready once the notifier publishes `kind`
  // for `job` (subscribe before the action that causes the event).
  std::future<void> expect_event(const std::string& job, const std::string& kind) {
    auto seen = std::make_shared<std::promise<void>>();
    auto sink = sys->spawn([seen, job, kind](event_sink_actor::pointer self) -> event_sink_actor::behavior_type {
      return {[=](const event& e) {
        if (e.job_id == job && e.kind == kind) {
          seen->set_value();
          self->quit();
        }
      }};
    });
    caf::scoped_actor self{*sys};
    self->request(notifier, 10s, subscribe_atom::value, sink).receive([](bool) {}, [](caf::error&) {});
    return seen->get_future();
  }

  // Blocks until the notifier published `kind` for `job`, or the job is
  // already terminal.
  bool wait_for_event(const std::string& job, const std::string& kind) {
    auto seen = expect_event(job, kind);
    caf::scoped_actor self{*sys};
    // The event may have been published before the subscription: ask the queue too.
    bool done = false;
    self->request(queue, 10s, status_atom::value, job)
      .receive([&](job_reply& r) { done = is_terminal(r.job.state); }, [](caf::error&) {});
    return done || seen.wait_for(30s) == std::future_status::ready;
  }

  std::string submit(const std::string& name, const std::string& prio) {
    auto dir = tmp / name;
    write_file(dir / "a.wav", "x");
    write_file(dir / "session.json", R"({"schema":1,"id":")" + name + R"(","audio":[{"path":"a.wav"}]})");
    caf::scoped_actor self{*sys};
    std::string id;
    self->request(queue, 10s, submit_atom::value, dir.string(), prio)
      .receive([&](job_reply& r) { id = r.job.id; }, [](caf::error&) {});
    BOOST_REQUIRE(!id.empty());
    return id;
  }

  // A worker that completes every stage at once.
  void add_worker() {
    auto q = queue;
    auto* l = &log;
    auto w = sys->spawn([q, l](media_processor_actor::pointer self) -> media_processor_actor::behavior_type {
      return {
        [=](run_atom, const stage_order& o) {
          l->add(o);
          self->send(q, stage_result{o.job_id, o.stage, o.attempt, fault{}, "{}"});
        },
        [](cancel_atom, const std::string&) {},
      };
    });
    caf::anon_send(queue, register_atom::value, w);
  }
};

constexpr std::int64_t minute = 60'000;

// Cancels reach a fake worker here.
struct cancel_log {
  std::mutex mtx;
  std::condition_variable cv;
  int cancels = 0;
  void add() {
    std::lock_guard<std::mutex> g{mtx};
    ++cancels;
    cv.notify_all();
  }
  bool wait_for(int n) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, 30s, [&] { return cancels >= n; });
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(priorities_order_dispatch_and_an_aged_low_job_counts_as_normal, fixture) {
  auto t0 = clock->now_ms();
  auto old_low = submit("old-low", "low");            // t0
  set_clock(t0 + 1 * minute);
  auto normal1 = submit("normal-1", "normal");        // t0 + 1 min
  set_clock(t0 + 2 * minute);
  auto high = submit("high", "high");                 // t0 + 2 min
  set_clock(t0 + 10 * minute + 30'000);
  auto young_low = submit("young-low", "low");        // t0 + 10.5 min
  set_clock(t0 + 11 * minute);
  auto normal2 = submit("normal-2", "normal");        // t0 + 11 min
  // At t0 + 11 min the old low job has waited past the 10-minute aging: it
  // runs as a normal job by its age (before both normal jobs); the young low
  // job has not and runs last.
  add_worker();
  BOOST_REQUIRE(log.wait_for(10));  // 5 jobs x 2 stages
  std::vector<std::string> expected = {high, old_low, normal1, normal2, young_low};
  BOOST_TEST(log.job_order() == expected, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(without_aging_low_jobs_wait_for_normal_ones, fixture) {
  auto t0 = clock->now_ms();
  auto low = submit("low", "low");
  set_clock(t0 + 5 * minute);
  auto normal = submit("normal", "normal");
  add_worker();
  BOOST_REQUIRE(log.wait_for(4));
  std::vector<std::string> expected = {normal, low};
  BOOST_TEST(log.job_order() == expected, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(a_stage_without_progress_is_stopped_and_retried, fixture) {
  auto id = submit("stuck", "normal");
  // A worker whose first run hangs without progress; it stops when told to
  // cancel (as a media processor does) and completes every later run.
  cancel_log cancels;
  auto q = queue;
  auto* l = &log;
  auto* c = &cancels;
  auto w = sys->spawn([q, l, c](media_processor_actor::pointer self) -> media_processor_actor::behavior_type {
    auto hanging = std::make_shared<std::optional<stage_order>>();
    return {
      [=](run_atom, const stage_order& o) {
        l->add(o);
        if (o.attempt == 1 && o.stage == "media.timeline")
          *hanging = o;
        else
          self->send(q, stage_result{o.job_id, o.stage, o.attempt, fault{}, "{}"});
      },
      [=](cancel_atom, const std::string&) {
        c->add();
        if (auto o = *hanging) {
          hanging->reset();
          self->send(q, stage_result{o->job_id, o->stage, o->attempt, fault::of(errc::cancelled,
                                     "cancelled"), {}});
        }
      },
    };
  });
  caf::anon_send(queue, register_atom::value, w);
  BOOST_REQUIRE(log.wait_for(1));
  auto failed = expect_event(id, events::stage_failed);
  clock->advance(1500);  // past the stall timeout without progress: the watchdog fires
  BOOST_REQUIRE(cancels.wait_for(1));
  BOOST_REQUIRE(failed.wait_for(30s) == std::future_status::ready);
  // The retry's backoff (at most retry_cap_ms) runs on the same clock.
  clock->advance(100);
  BOOST_REQUIRE(log.wait_for(3));  // timeline (stalled), timeline again, merge
  BOOST_REQUIRE(wait_for_event(id, events::job_completed));
  caf::scoped_actor self{*sys};
  job_record rec;
  std::vector<journal_entry> history;
  self->request(queue, 10s, status_atom::value, id).receive([&](job_reply& r) { rec = r.job; }, [](caf::error&) {});
  self->request(queue, 10s, history_atom::value, id)
    .receive([&](job_history& h) { history = h.entries; }, [](caf::error&) {});
  BOOST_TEST(to_string(rec.state) == "completed");
  BOOST_TEST(rec.stages[0].attempts == 2);
  bool stalled_reason = std::any_of(history.begin(), history.end(), [](const journal_entry& e) {
    return e.reason.find("stalled: no progress for 1 s") != std::string::npos;
  });
  BOOST_TEST(stalled_reason);
}

BOOST_FIXTURE_TEST_CASE(a_job_waits_with_a_reason_while_the_disk_is_too_full, fixture) {
  free_bytes = 100;  // the session's media is 1 byte more than a few, times 1.4
  auto dir = tmp / "big";
  write_file(dir / "a.wav", std::string(1000, 'x'));
  write_file(dir / "session.json", R"({"schema":1,"id":"big","audio":[{"path":"a.wav"}]})");
  caf::scoped_actor self{*sys};
  std::string id;
  self->request(queue, 10s, submit_atom::value, dir.string(), std::string{"normal"})
    .receive([&](job_reply& r) { id = r.job.id; }, [](caf::error&) {});
  BOOST_REQUIRE(!id.empty());
  auto waiting = expect_event(id, events::job_waiting);
  add_worker();
  BOOST_REQUIRE(waiting.wait_for(30s) == std::future_status::ready);
  job_record rec;
  self->request(queue, 10s, status_atom::value, id).receive([&](job_reply& r) { rec = r.job; }, [](caf::error&) {});
  BOOST_TEST(to_string(rec.state) == "pending");
  BOOST_TEST(rec.media_bytes == 1000);
  BOOST_TEST(rec.waiting.find("waiting for disk space: 0.0 MB free") != std::string::npos, rec.waiting);
  {
    std::lock_guard<std::mutex> g{log.mtx};
    BOOST_TEST(log.orders.empty());
  }
  free_bytes = 1400;  // exactly enough
  clock->advance(5000);  // the disk guard looks again every 5 s
  BOOST_REQUIRE(wait_for_event(id, events::job_completed));
}

namespace {
// A worker that fails every stage of sessions whose id starts with "bad",
// as a media processor does for unusable input, and completes the rest.
media_processor_actor failing_worker(caf::actor_system& sys, queue_actor q, order_log* l) {
  return sys.spawn([q, l](media_processor_actor::pointer self) -> media_processor_actor::behavior_type {
    return {
      [=](run_atom, const stage_order& o) {
        l->add(o);
        bool bad = o.session_id.rfind("bad", 0) == 0 && fs::exists(o.session_dir + "/still-bad");
        self->send(q, bad ? stage_result{o.job_id, o.stage, o.attempt, fault::of(errc::bad_input,
                                         o.session_dir + "/a.wav: not audio"), {}}
                          : stage_result{o.job_id, o.stage, o.attempt, fault{}, "{}"});
      },
      [](cancel_atom, const std::string&) {},
    };
  });
}

job_record status_of(caf::actor_system& sys, const queue_actor& q, const std::string& id) {
  caf::scoped_actor self{sys};
  job_record rec;
  self->request(q, 10s, status_atom::value, id).receive([&](job_reply& r) { rec = r.job; }, [](caf::error&) {});
  return rec;
}
}  // namespace

BOOST_FIXTURE_TEST_CASE(a_failed_job_retries_from_its_failed_stage_and_a_completed_session_runs_again, fixture) {
  write_file(tmp / "bad-1/still-bad", "");
  auto id = submit("bad-1", "normal");
  auto failed = expect_event(id, events::job_failed);
  caf::anon_send(queue, register_atom::value, failing_worker(*sys, queue, &log));
  BOOST_REQUIRE(failed.wait_for(30s) == std::future_status::ready);
  auto rec = status_of(*sys, queue, id);
  BOOST_TEST(to_string(rec.state) == "failed");
  BOOST_TEST(rec.error.find("not audio") != std::string::npos, rec.error);
  BOOST_TEST(rec.stages[0].attempts == 1);  // bad input is not retried

  fs::remove(tmp / "bad-1/still-bad");  // the user fixed the input
  auto done = expect_event(id, events::job_completed);
  caf::scoped_actor self{*sys};
  self->request(queue, 10s, retry_atom::value, id).receive([](job_reply& r) { BOOST_TEST(!r.failure); },
                                                           [](caf::error&) { BOOST_FAIL("retry"); });
  BOOST_REQUIRE(done.wait_for(30s) == std::future_status::ready);
  BOOST_TEST(to_string(status_of(*sys, queue, id).state) == "completed");

  // Submitting the completed session again is a new run, not an error; the
  // first run's record stays.
  auto again = submit("bad-1", "normal");
  BOOST_TEST(again != id);
  BOOST_REQUIRE(wait_for_event(again, events::job_completed));
  BOOST_TEST(to_string(status_of(*sys, queue, id).state) == "completed");
  BOOST_TEST(to_string(status_of(*sys, queue, again).state) == "completed");
  // A completed job cannot be retried.
  self->request(queue, 10s, retry_atom::value, id).receive([](job_reply& r) { BOOST_TEST(bool(r.failure)); },
                                                           [](caf::error&) { BOOST_FAIL("retry"); });
}

BOOST_FIXTURE_TEST_CASE(a_worker_that_ignores_cancel_is_killed_and_the_job_ends_cancelled, fixture) {
  auto id = submit("hang", "normal");
  // Runs nothing and never answers a cancel: a pipeline stuck in a driver.
  auto w = sys->spawn([l = &log](media_processor_actor::pointer) -> media_processor_actor::behavior_type {
    return {[=](run_atom, const stage_order& o) { l->add(o); }, [](cancel_atom, const std::string&) {}};
  });
  caf::scoped_actor self{*sys};
  self->monitor(w);
  caf::anon_send(queue, register_atom::value, w);
  BOOST_REQUIRE(log.wait_for(1));
  auto cancelled = expect_event(id, events::job_cancelled);
  self->request(queue, 10s, cancel_atom::value, id).receive([](job_reply& r) { BOOST_TEST(!r.failure); },
                                                            [](caf::error&) { BOOST_FAIL("cancel"); });
  // The queue gives it cancel_grace_ms (1 s by default), then kills it.
  clock->advance(1000);
  BOOST_REQUIRE(cancelled.wait_for(30s) == std::future_status::ready);
  bool down = false;
  self->receive([&](caf::down_msg& m) { down = m.reason == caf::exit_reason::kill; },
                caf::after(10s) >> [] {});
  BOOST_TEST(down);
  auto rec = status_of(*sys, queue, id);
  BOOST_TEST(to_string(rec.state) == "cancelled");
}

BOOST_FIXTURE_TEST_CASE(concurrent_submissions_are_each_durable_when_acknowledged, fixture) {
  constexpr int clients = 8, each = 20;
  for (int c = 0; c < clients; ++c)
    for (int i = 0; i < each; ++i) {
      auto dir = tmp / ("c" + std::to_string(c) + "-" + std::to_string(i));
      write_file(dir / "a.wav", "x");
      write_file(dir / "session.json", R"({"schema":1,"id":")" + dir.filename().string() +
                                         R"(","audio":[{"path":"a.wav"}]})");
    }
  std::mutex mtx;
  std::vector<std::string> acked;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      caf::scoped_actor self{*sys};
      for (int i = 0; i < each; ++i)
        self->request(queue, 30s, submit_atom::value, (tmp / ("c" + std::to_string(c) + "-" + std::to_string(i))).string(),
                      std::string{"normal"})
          .receive([&](job_reply& r) {
            std::lock_guard<std::mutex> g{mtx};
            if (!r.failure)
              acked.push_back(r.job.id);
          }, [](caf::error&) {});
    });
  for (auto& t : threads)
    t.join();
  BOOST_REQUIRE_EQUAL(acked.size(), size_t(clients * each));
  // Stop the queue (its writer drains), then read the database directly.
  caf::scoped_actor self{*sys};
  self->monitor(queue);
  caf::anon_send_exit(queue, caf::exit_reason::user_shutdown);
  self->receive([](caf::down_msg&) {}, caf::after(30s) >> [] { BOOST_FAIL("queue did not stop"); });
  auto store = job_store::open(tmp / "db");
  BOOST_REQUIRE(store);
  for (auto& id : acked) {
    auto rec = (*store)->get(id);
    BOOST_REQUIRE(rec);
    BOOST_TEST(rec->has_value(), id);
    BOOST_TEST((*store)->history(id)->size() == 1u);
  }
  BOOST_TEST((*store)->count_by_state()[job_state::pending] == size_t(clients * each));
}

// Placement over worker nodes (docs/scale-out.md): compress goes to the node
// with a hardware encoder, an external enricher only to the node that
// configures it, and every stage record names its node.
BOOST_AUTO_TEST_CASE(placement_follows_node_capabilities) {
  temp_dir tmp;
  auto dir = tmp / "s";
  fs::create_directories(dir);
  sh("gst-launch-1.0 -q videotestsrc num-buffers=30 ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc ! "
     "mp4mux ! filesink location='" + (dir / "v.mp4").string() + "'");
  sh("sox -n '" + (dir / "a.wav").string() + "' synth 1 sine 440");
  write_file(dir / "session.json",
             R"({"schema":1,"id":"placed","video":[{"path":"v.mp4"}],"audio":[{"path":"a.wav"}]})");
  caf::actor_system_config cfg;
  add_message_types(cfg);
  caf::actor_system sys{cfg};
  queue_config qc;
  qc.data_dir = (tmp / "db").string();
  qc.enrich = true;
  qc.min_free_factor = 0;
  qc.extra_stages = {extra_stage{"enrich.custom", {}}};
  auto notifier = spawn_notifier(sys);
  auto q = spawn_queue(sys, qc, notifier);
  BOOST_REQUIRE(q);
  auto queue = *q;
  std::mutex mtx;
  std::vector<std::pair<std::string, std::string>> ran;  // node, stage
  auto fake = [&](const std::string& node) {
    return caf::actor_cast<stage_worker_actor>(
      sys.spawn([&, node](media_processor_actor::pointer self) -> media_processor_actor::behavior_type {
        return {
          [&, node, self](run_atom, const stage_order& o) {
            {
              std::lock_guard<std::mutex> g{mtx};
              ran.emplace_back(node, o.stage);
            }
            self->send(queue, stage_result{o.job_id, o.stage, o.attempt, fault{}, "{}"});
          },
          [](cancel_atom, const std::string&) {},
        };
      }));
  };
  std::vector<stage_worker_actor> all;
  caf::scoped_actor self{sys};
  auto join = [&](const std::string& id, int media, int enrich, bool hw, std::vector<std::string> stages) {
    node_join j;
    j.info.id = id;
    j.info.media_workers = media;
    j.info.enrich_workers = enrich;
    j.info.hardware_encoder = hw;
    j.info.stages = std::move(stages);
    std::vector<stage_worker_actor> handles;
    for (int i = 0; i < media + enrich; ++i)
      handles.push_back(fake(id));
    all.insert(all.end(), handles.begin(), handles.end());
    std::uint8_t code = 255;
    self->request(queue, 10s, join_atom::value, j, handles).receive([&](join_reply& r) { code = r.failure ? std::uint8_t(r.failure.code) : 0; },
                                                                    [](caf::error&) {});
    BOOST_TEST(code == 0);
  };
  join("sw", 2, 2, false, {"media.*", "enrich.*"});
  join("hw", 1, 0, true, {"media.*"});
  join("ext", 0, 1, false, {"enrich.*", "enrich.custom"});
  // The job's end, by event (subscribed before the submit).
  auto ended = std::make_shared<std::promise<void>>();
  auto sink = sys.spawn([ended](event_sink_actor::pointer sink) -> event_sink_actor::behavior_type {
    return {[=](const event& e) {
      if (e.kind == events::job_completed || e.kind == events::job_failed) {
        ended->set_value();
        sink->quit();
      }
    }};
  });
  self->request(notifier, 10s, subscribe_atom::value, sink).receive([](bool) {}, [](caf::error&) {});
  std::string id;
  self->request(queue, 10s, submit_atom::value, dir.string(), std::string{"normal"})
    .receive([&](job_reply& r) { id = r.job.id; }, [](caf::error&) {});
  BOOST_REQUIRE(!id.empty());
  BOOST_REQUIRE(ended->get_future().wait_for(30s) == std::future_status::ready);
  job_record done;
  self->request(queue, 10s, status_atom::value, id).receive([&](job_reply& r) { done = r.job; }, [](caf::error&) {});
  BOOST_REQUIRE(done.state == job_state::completed);
  for (const auto& s : done.stages) {
    BOOST_TEST_CONTEXT(s.name) {
      if (s.name == "media.compress")
        BOOST_TEST(s.node == "hw");
      if (s.name == "enrich.custom")
        BOOST_TEST(s.node == "ext");
      BOOST_TEST(!s.node.empty());
    }
  }
  std::vector<node_summary> nodes;
  self->request(queue, 10s, nodes_atom::value).receive([&](std::vector<node_summary>& n) { nodes = n; },
                                                      [](caf::error&) {});
  BOOST_TEST(nodes.size() == 3u);
  for (auto& w : all)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(queue, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(notifier, caf::exit_reason::user_shutdown);
}
