// Coordinator scale: many simulated worker nodes join a real coordinator
// over loopback (the real protocol: join, stage orders, progress, results
// through CAF's middleman) and run stages that complete at once. Reports
// assignments per second and the coordinator's CPU and memory for each
// worker count (docs/scale-out.md).
//
// usage: bench_cluster [WORKERS...]           (default 10 100 500)
//        POSTROLL_BENCH_JOBS=N: jobs per run; POSTROLL_BENCH_STAGE_MS=MS: stages
//        that run MS each (progress every 100 ms: lease traffic)
//        bench_cluster coordinator PORT DIR   (internal: the coordinator process)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/interfaces.hpp"
#include "actors/stage_worker.hpp"
#include "postroll/runtime.hpp"

namespace fs = std::filesystem;
using namespace postroll;
using clk = std::chrono::steady_clock;

namespace {

// A valid 0.1 s mono WAV: the coordinator validates every submission.
void write_wav(const fs::path& f) {
  const std::uint32_t rate = 8000, samples = 800, data = samples * 2;
  std::ofstream o(f, std::ios::binary);
  auto u32 = [&](std::uint32_t v) { o.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](std::uint16_t v) { o.write(reinterpret_cast<const char*>(&v), 2); };
  o << "RIFF";
  u32(36 + data);
  o << "WAVEfmt ";
  u32(16);
  u16(1);
  u16(1);
  u32(rate);
  u32(rate * 2);
  u16(2);
  u16(16);
  o << "data";
  u32(data);
  std::string zeros(data, '\0');
  o << zeros;
}

int run_coordinator(std::uint16_t port, const fs::path& dir) {
  config cfg;
  cfg.role = "coordinator";
  cfg.id = "coordinator";
  cfg.data_dir = (dir / "db").string();
  cfg.media_workers = 0;
  cfg.enrich_workers = 0;
  cfg.compress = false;  // no encoder probing; the stages are simulated anyway
  cfg.desktop_notifications = false;
  cfg.log_level = "warn";
  cfg.max_enrich_jobs = 0;
  auto rt = runtime::start(cfg);
  if (!rt) {
    std::fprintf(stderr, "coordinator: %s\n", rt.err().message.c_str());
    return 1;
  }
  auto p = (*rt)->listen("127.0.0.1", port);
  if (!p) {
    std::fprintf(stderr, "coordinator: %s\n", p.err().message.c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  pause();  // until SIGTERM
  return 0;
}

struct proc_usage {
  double cpu_s = 0;   // user + system
  double rss_mb = 0;
};

proc_usage usage_of(pid_t pid) {
  proc_usage u;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(stat)), {});
  auto close = s.rfind(')');
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stol(field);
    if (i == 15)
      stime = std::stol(field);
  }
  u.cpu_s = double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      u.rss_mb = std::stod(line.substr(6)) / 1024.0;
  return u;
}

struct result_row {
  int workers = 0;
  std::size_t stages = 0;
  double seconds = 0;
  double coordinator_cpu = 0;  // share of one core
  double rss_idle = 0, rss_joined = 0, rss_end = 0;
};

result_row measure(const std::string& self_exe, int workers, std::size_t jobs) {
  result_row row;
  row.workers = workers;
  auto dir = fs::temp_directory_path() / ("postroll-bench-cluster-" + std::to_string(::getpid()) + "-" +
                                          std::to_string(workers));
  fs::remove_all(dir);
  fs::create_directories(dir / "sessions");
  std::uint16_t port = std::uint16_t(20000 + (::getpid() + workers) % 20000);
  int out[2];
  if (::pipe(out) != 0)
    return row;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::execl(self_exe.c_str(), self_exe.c_str(), "coordinator", std::to_string(port).c_str(), dir.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(out[1]);
  char buf[16] = {};
  if (::read(out[0], buf, sizeof buf - 1) <= 0) {
    std::fprintf(stderr, "the coordinator did not start\n");
    return row;
  }
  // Sessions: one WAV each (audio-only sessions: media.timeline,
  // media.merge and four enrichment stages).
  std::vector<std::string> sessions;
  for (std::size_t i = 0; i < jobs; ++i) {
    auto s = dir / "sessions" / ("s" + std::to_string(i));
    fs::create_directories(s);
    write_wav(s / "a.wav");
    std::ofstream(s / "session.json") << R"({"schema":1,"id":"bench-)" << i << R"(","audio":[{"path":"a.wav"}]})";
    sessions.push_back(s.string());
  }
  row.rss_idle = usage_of(pid).rss_mb;

  caf::actor_system_config cfg;
  add_message_types(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto sup = sys.middleman().remote_actor<supervisor_actor>("127.0.0.1", port);
  if (!sup) {
    std::fprintf(stderr, "cannot reach the coordinator: %s\n", caf::to_string(sup.error()).c_str());
    return row;
  }
  caf::scoped_actor self{sys};
  queue_actor queue;
  self->request(*sup, std::chrono::seconds(10), get_atom::value)
    .receive([&](queue_actor& q, notifier_actor&) { queue = q; }, [](caf::error&) {});
  // Simulated nodes: one media and one enrichment worker each, every
  // stage done the moment it starts.
  // POSTROLL_BENCH_STAGE_MS: stages that take this long instead, so the
  // coordinator also carries the lease traffic (10 progress messages/s per
  // running stage) of that many running stages.
  const char* hold = std::getenv("POSTROLL_BENCH_STAGE_MS");
  std::int64_t stage_ms = hold ? std::stoll(hold) : 0;
  auto instant = [stage_ms](const stage_order&, const cancel_token&, const progress_fn&) -> result<std::string> {
    if (stage_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(stage_ms));  // a stage's work, simulated
    return std::string{"{}"};
  };
  std::vector<stage_worker_actor> all;
  for (int i = 0; i < workers; ++i) {
    node_join nj;
    nj.info.id = "sim-" + std::to_string(i);
    nj.info.media_workers = 1;
    nj.info.enrich_workers = 1;
    nj.info.stages = {"media.*", "enrich.*"};
    std::vector<stage_worker_actor> handles = {spawn_stage_worker(sys, queue, "media", instant),
                                               spawn_stage_worker(sys, queue, "enrich", instant)};
    all.insert(all.end(), handles.begin(), handles.end());
    self->request(queue, std::chrono::seconds(30), join_atom::value, nj, handles)
      .receive([](join_reply&) {}, [](caf::error& e) { std::fprintf(stderr, "join: %s\n", caf::to_string(e).c_str()); });
  }
  row.rss_joined = usage_of(pid).rss_mb;
  auto client = runtime::connect("127.0.0.1", port);
  if (!client)
    return row;
  auto cpu0 = usage_of(pid).cpu_s;
  auto t0 = clk::now();
  std::vector<std::string> ids;
  for (const auto& s : sessions) {
    auto j = (*client)->submit(s);
    if (j)
      ids.push_back(j->id);
  }
  for (const auto& id : ids) {
    auto done = (*client)->wait(id, std::chrono::minutes(5));
    if (done)
      for (const auto& s : done->stages)
        row.stages += s.attempts;
  }
  row.seconds = std::chrono::duration<double>(clk::now() - t0).count();
  auto end = usage_of(pid);
  row.coordinator_cpu = (end.cpu_s - cpu0) / row.seconds;
  row.rss_end = end.rss_mb;
  (*client)->stop();
  for (auto& w : all)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  fs::remove_all(dir);
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  if (argc == 4 && std::string{argv[1]} == "coordinator")
    return run_coordinator(std::uint16_t(std::stoi(argv[2])), argv[3]);
  std::vector<int> counts;
  for (int i = 1; i < argc; ++i)
    counts.push_back(std::stoi(argv[i]));
  if (counts.empty())
    counts = {10, 100, 500};
  auto exe = fs::read_symlink("/proc/self/exe").string();
  std::printf("| simulated workers | jobs | stage assignments | assignments/s | coordinator CPU (cores) | "
              "coordinator RSS idle / joined / end (MB) | per worker (KB) |\n|---|---|---|---|---|---|---|\n");
  for (int n : counts) {
    std::size_t jobs = std::max<std::size_t>(300, std::size_t(n) * 2);
    if (const char* j = std::getenv("POSTROLL_BENCH_JOBS"))
      jobs = std::stoul(j);
    auto r = measure(exe, n, jobs);
    std::printf("| %d | %zu | %zu | %.0f | %.2f | %.0f / %.0f / %.0f | %.1f |\n", n, jobs, r.stages,
                r.seconds > 0 ? double(r.stages) / r.seconds : 0.0, r.coordinator_cpu, r.rss_idle, r.rss_joined,
                r.rss_end, n > 0 ? (r.rss_joined - r.rss_idle) * 1024.0 / n : 0.0);
    std::fflush(stdout);
  }
  return 0;
}
