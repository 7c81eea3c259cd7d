// The queue actor on its own: a real RocksDB, a fake clock and a fake media
// processor that completes every stage at once and records the orders.
#define BOOST_TEST_MODULE queue
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include <caf/all.hpp>

#include "actors/notifier.hpp"
#include "actors/queue.hpp"
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
  std::atomic<std::int64_t> clock{1'000'000'000'000};
  queue_actor queue;
  order_log log;

  fixture() {
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    queue_config qc;
    qc.data_dir = (tmp / "db").string();
    qc.now_ms = [this] { return clock.load(); };
    auto q = spawn_queue(*sys, qc, spawn_notifier(*sys));
    BOOST_REQUIRE(q);
    queue = *q;
  }
  ~fixture() {
    caf::anon_send_exit(queue, caf::exit_reason::user_shutdown);
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
          self->send(q, stage_result{o.job_id, o.stage, o.attempt, true, 0, {}, "{}"});
        },
        [](cancel_atom, const std::string&) {},
      };
    });
    caf::anon_send(queue, register_atom::value, w);
  }
};

constexpr std::int64_t minute = 60'000;

}  // namespace

BOOST_FIXTURE_TEST_CASE(priorities_order_dispatch_and_an_aged_low_job_counts_as_normal, fixture) {
  auto t0 = clock.load();
  auto old_low = submit("old-low", "low");            // t0
  clock = t0 + 1 * minute;
  auto normal1 = submit("normal-1", "normal");        // t0 + 1 min
  clock = t0 + 2 * minute;
  auto high = submit("high", "high");                 // t0 + 2 min
  clock = t0 + 10 * minute + 30'000;
  auto young_low = submit("young-low", "low");        // t0 + 10.5 min
  clock = t0 + 11 * minute;
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
  auto t0 = clock.load();
  auto low = submit("low", "low");
  clock = t0 + 5 * minute;
  auto normal = submit("normal", "normal");
  add_worker();
  BOOST_REQUIRE(log.wait_for(4));
  std::vector<std::string> expected = {normal, low};
  BOOST_TEST(log.job_order() == expected, boost::test_tools::per_element());
}
