// Queue scale: start-up with many historical jobs, status query latency,
// durable submissions per second. Prints a table (docs/performance.md).
//
// usage: bench_queue [HISTORICAL_JOBS] [SUBMISSIONS]
// (SUBMISSIONS one at a time; four times as many from 32 clients, and again
// as no-op jobs run to completion by fake workers.)
#include <algorithm>
#include <atomic>
#include <thread>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/notifier.hpp"
#include "actors/queue.hpp"
#include "storage/job_store.hpp"

namespace fs = std::filesystem;
using namespace postroll;
using clk = std::chrono::steady_clock;

namespace {
double ms_since(clk::time_point t) { return std::chrono::duration<double, std::milli>(clk::now() - t).count(); }
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}
}  // namespace

int main(int argc, char** argv) {
  size_t historical = argc > 1 ? std::stoul(argv[1]) : 100000;
  size_t submissions = argc > 2 ? std::stoul(argv[2]) : 500;
  spdlog::set_level(spdlog::level::warn);
  auto root = fs::temp_directory_path() / ("postroll-bench-queue-" + std::to_string(::getpid()));
  fs::create_directories(root);
  auto db = root / "db";
  // The historical jobs, loaded by a child process that either closes the
  // database (a clean stop) or _exits without closing it, as after kill -9:
  // the next start then replays the write-ahead log.
  auto load = [&](const fs::path& db, bool clean) {
    auto pid = ::fork();
    if (pid == 0) {
      auto store = job_store::open(db);
      if (!store)
        ::_exit(1);
      std::vector<job_record> batch;
      for (size_t i = 0; i < historical; ++i) {
        job_record j;
        j.id = "h" + std::to_string(i);
        j.session_id = "hist-" + std::to_string(i);
        j.session_dir = "/sessions/hist-" + std::to_string(i);
        j.state = job_state::completed;
        j.created_at = j.updated_at = 1700000000000 + std::int64_t(i);
        stage_record s;
        s.name = "media.merge";
        s.state = job_state::completed;
        s.attempts = 1;
        s.result = R"({"file":"/sessions/x/postroll/session.mp4","durationMs":1800000})";
        j.stages.push_back(s);
        batch.push_back(std::move(j));
        if (batch.size() == 10000) {
          (*store)->import(batch);
          batch.clear();
        }
      }
      (*store)->import(batch);
      if (!clean)
        ::_exit(0);  // no close, no flush
      store->reset();
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  };
  auto crashed_db = root / "crashed-db";
  if (!load(db, true) || !load(crashed_db, false)) {
    std::fprintf(stderr, "cannot load the historical jobs\n");
    return 1;
  }
  // Start-up after a crash: opening replays the log.
  double crashed_open;
  {
    auto t = clk::now();
    auto store = job_store::open(crashed_db);
    crashed_open = ms_since(t);
  }

  caf::actor_system_config cfg;
  add_message_types(cfg);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  // Start-up: until the queue answers its first status query.
  auto t0 = clk::now();
  queue_config qc;
  qc.data_dir = db.string();
  auto queue = spawn_queue(sys, qc, spawn_notifier(sys));
  if (!queue)
    return 1;
  double spawned = ms_since(t0);
  self->request(*queue, std::chrono::seconds(60), status_atom::value, std::string{"h0"})
    .receive([](job_reply&) {}, [](caf::error&) {});
  double startup = ms_since(t0);

  // Status latency of historical jobs (a RocksDB point read each).
  std::vector<double> lat;
  for (size_t i = 0; i < 10000; ++i) {
    auto t = clk::now();
    self->request(*queue, std::chrono::seconds(10), status_atom::value, "h" + std::to_string((i * 7919) % historical))
      .receive([](job_reply&) {}, [](caf::error&) {});
    lat.push_back(ms_since(t));
  }
  std::vector<double> count_lat;
  for (size_t i = 0; i < 10000; ++i) {
    auto t = clk::now();
    self->request(*queue, std::chrono::seconds(10), count_atom::value)
      .receive([](std::vector<std::uint64_t>&) {}, [](caf::error&) {});
    count_lat.push_back(ms_since(t));
  }

  // Durable submissions: each acknowledged only after its synced write.
  // One client at a time (every ack waits for its own fsync), then 32
  // clients at once (the group-commit writer folds concurrent ones into one
  // fsync), as a recorder fleet submitting to one node would.
  auto make_sessions = [&](const std::string& tag, size_t n) {
    std::vector<fs::path> dirs;
    for (size_t i = 0; i < n; ++i) {
      auto dir = root / (tag + std::to_string(i));
      fs::create_directories(dir);
      std::ofstream(dir / "a.wav") << "x";
      std::ofstream(dir / "session.json") << R"({"schema":1,"id":")" << tag << i << R"(","audio":[{"path":"a.wav"}]})";
      dirs.push_back(dir);
    }
    return dirs;
  };
  auto submit_all = [&](const std::vector<fs::path>& dirs, size_t clients) {
    std::atomic<size_t> next{0}, failed{0};
    auto ts = clk::now();
    std::vector<std::thread> threads;
    for (size_t c = 0; c < clients; ++c)
      threads.emplace_back([&] {
        caf::scoped_actor client{sys};
        for (size_t i; (i = next++) < dirs.size();)
          client->request(*queue, std::chrono::seconds(30), submit_atom::value, dirs[i].string(), std::string{"normal"})
            .receive([&](job_reply& r) { failed += bool(r.failure); }, [&](caf::error&) { ++failed; });
      });
    for (auto& t : threads)
      t.join();
    if (failed)
      std::fprintf(stderr, "%zu submissions failed\n", failed.load());
    return double(dirs.size()) / (ms_since(ts) / 1000.0);
  };
  double serial_rate = submit_all(make_sessions("serial-", submissions), 1);
  double group_rate = submit_all(make_sessions("group-", submissions * 4), 32);

  // No-op jobs through the actors: 4 workers that finish every stage at
  // once; each job is two stages, six durable transitions, events included.
  std::atomic<size_t> stages_done{0};
  std::vector<caf::actor> workers;
  for (int w = 0; w < 4; ++w) {
    auto q = *queue;
    auto* done = &stages_done;
    auto worker = sys.spawn([q, done](media_processor_actor::pointer self) -> media_processor_actor::behavior_type {
      return {
        [=](run_atom, const stage_order& o) {
          ++*done;
          self->send(q, stage_result{o.job_id, o.stage, o.attempt, fault{}, "{}"});
        },
        [](cancel_atom, const std::string&) {},
      };
    });
    caf::anon_send(*queue, register_atom::value, worker);
    workers.push_back(caf::actor_cast<caf::actor>(worker));
  }
  // The queued jobs from above run first; time only fresh ones.
  auto backlog = (submissions * 5) * 2;
  while (stages_done < backlog)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a bench polls; tests never do
  size_t noop_jobs = submissions * 4;
  auto noop_dirs = make_sessions("noop-", noop_jobs);
  auto tn = clk::now();
  submit_all(noop_dirs, 32);
  while (stages_done < backlog + noop_jobs * 2)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  double noop_rate = double(noop_jobs) / (ms_since(tn) / 1000.0);

  std::printf("| queue scale (%zu historical jobs) | value |\n|---|---|\n", historical);
  std::printf("| start-up until the first status answer | %.1f ms |\n", startup);
  std::printf("| (of which opening the database) | %.1f ms |\n", spawned);
  std::printf("| opening the database after kill -9 (log replay) | %.1f ms |\n", crashed_open);
  std::printf("| status of one job, p50 / p99 (%zu queries) | %.3f / %.3f ms |\n", lat.size(), percentile(lat, 0.5),
              percentile(lat, 0.99));
  std::printf("| counts per state, p50 / p99 | %.3f / %.3f ms |\n", percentile(count_lat, 0.5),
              percentile(count_lat, 0.99));
  std::printf("| durable submissions, 1 client (each waits for its fsync) | %.0f /s |\n", serial_rate);
  std::printf("| durable submissions, 32 clients (group commit) | %.0f /s |\n", group_rate);
  std::printf("| no-op jobs submitted, dispatched and completed (2 stages, 4 workers) | %.0f /s |\n", noop_rate);
  for (auto& w : workers)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(*queue, caf::exit_reason::user_shutdown);
  std::error_code ec;
  if (!std::getenv("BENCH_KEEP")) fs::remove_all(root, ec);
  return 0;
}
