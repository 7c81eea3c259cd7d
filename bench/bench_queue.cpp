// Queue scale: start-up with many historical jobs, status query latency,
// durable submissions per second. Prints a table (docs/performance.md).
//
// usage: bench_queue [HISTORICAL_JOBS] [SUBMISSIONS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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
  {
    auto store = job_store::open(db);
    if (!store) {
      std::fprintf(stderr, "%s\n", store.err().message.c_str());
      return 1;
    }
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

  // Durable submissions: each acknowledged after its synced write.
  std::vector<fs::path> dirs;
  for (size_t i = 0; i < submissions; ++i) {
    auto dir = root / ("s" + std::to_string(i));
    fs::create_directories(dir);
    std::ofstream(dir / "a.wav") << "x";
    std::ofstream(dir / "session.json") << R"({"schema":1,"id":"sub-)" << i << R"(","audio":[{"path":"a.wav"}]})";
    dirs.push_back(dir);
  }
  auto ts = clk::now();
  for (auto& d : dirs)
    self->request(*queue, std::chrono::seconds(10), submit_atom::value, d.string(), std::string{"normal"})
      .receive([](job_reply&) {}, [](caf::error&) {});
  double submit_s = ms_since(ts) / 1000.0;

  std::printf("| queue scale (%zu historical jobs, one request at a time) | value |\n|---|---|\n", historical);
  std::printf("| start-up until the first status answer | %.1f ms |\n", startup);
  std::printf("| status of one job, p50 / p99 (%zu queries) | %.3f / %.3f ms |\n", lat.size(), percentile(lat, 0.5),
              percentile(lat, 0.99));
  std::printf("| counts per state, p50 / p99 | %.3f / %.3f ms |\n", percentile(count_lat, 0.5),
              percentile(count_lat, 0.99));
  std::printf("| durable submissions (validate + synced write each) | %.0f /s |\n", double(submissions) / submit_s);
  caf::anon_send_exit(*queue, caf::exit_reason::user_shutdown);
  std::error_code ec;
  fs::remove_all(root, ec);
  return 0;
}
