// Load on the node's HTTP API: N Server-Sent-Event clients and a steady rate
// of status requests on loopback for a while, with jobs running so events
// flow. Reports status latency (p50/p99/max), whether every stream got every
// transition (consecutive ids, identical across clients) and the node's
// peak memory. The node is the real `postroll node` process.
//
// usage: bench_http POSTROLL_BINARY [SECONDS=60] [SSE_CLIENTS=200] [STATUS_PER_S=1000]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "bench/node_process.hpp"

using json = nlohmann::json;
using namespace std::chrono;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_http POSTROLL_BINARY [SECONDS] [SSE_CLIENTS] [STATUS_PER_S]\n");
    return 2;
  }
  std::string binary = argv[1];
  int seconds = argc > 2 ? std::atoi(argv[2]) : 60;
  int clients = argc > 3 ? std::atoi(argv[3]) : 200;
  int rate = argc > 4 ? std::atoi(argv[4]) : 1000;
  char tmpl[] = "/tmp/postroll-bench-http-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  {
    std::ofstream cfg(dir + "/node.toml");
    cfg << "[node]\nport = 0\ndata_dir = \"" << dir << "/db\"\n[enrich]\nenabled = false\n[notify]\ndesktop = false\n"
        << "[media]\ncompress = false\n[log]\nlevel = \"warn\"\n";
  }
  // The node (its HTTP port read from its stdout).
  int port = 0;
  pid_t node = postroll::bench::start_node(binary, dir + "/node.toml", port);
  if (node < 0)
    return 1;
  // Sessions to run while the load is on: 2 s tones.
  std::vector<std::string> sessions;
  for (int i = 0; i < 30; ++i) {
    auto s = dir + "/s" + std::to_string(i);
    std::system(("mkdir -p " + s + "/audio && sox -n -r 16000 -c 1 " + s + "/audio/a.wav synth 2 sine 440 vol 0.3").c_str());
    std::ofstream(s + "/session.json") << json{{"schema", 1}, {"id", "bench-" + std::to_string(i)},
                                               {"audio", {{{"path", "audio/a.wav"}, {"offsetMs", 0}}}}}.dump();
    sessions.push_back(s);
  }
  httplib::Client admin{"127.0.0.1", port};
  auto first = admin.Post("/api/jobs", json{{"session", sessions[0]}}.dump(), "application/json");
  std::string first_id = json::parse(first->body)["id"];

  std::atomic<bool> stop{false};
  // SSE clients: each keeps the ids of the transitions it received.
  std::vector<std::vector<std::uint64_t>> seen(static_cast<std::size_t>(clients));
  std::vector<std::thread> streams;
  std::atomic<int> connected{0};
  // Clients connect 10 ms apart: Debian's cpp-httplib is built with a
  // listen backlog of 5, and a burst of 200 SYNs at once overflows it.
  for (int i = 0; i < clients; ++i, std::this_thread::sleep_for(10ms))
    streams.emplace_back([&, i] {
      httplib::Client c{"127.0.0.1", port};
      c.set_read_timeout(seconds + 30, 0);
      std::string pending;
      bool counted = false;
      c.set_tcp_nodelay(true);
      // From the start of the journal: every client must hold the same ids.
      c.Get("/api/events?after=0", [&](const char* data, std::size_t n) {
        if (!counted) {
          counted = true;
          ++connected;
        }
        pending.append(data, n);
        std::size_t end;
        while ((end = pending.find("\n\n")) != std::string::npos) {
          auto block = pending.substr(0, end);
          pending.erase(0, end + 2);
          if (block.rfind("id: ", 0) == 0)
            seen[std::size_t(i)].push_back(std::stoull(block.substr(4)));
        }
        return !stop.load();
      });
    });
  // Status requests at `rate` per second over 8 threads, paced.
  std::mutex lat_mtx;
  std::vector<double> latencies;
  std::atomic<long> errors{0};
  auto started = steady_clock::now();
  auto until = started + seconds * 1s;
  std::vector<std::thread> pollers;
  constexpr int poller_threads = 8;
  for (int k = 0; k < poller_threads; ++k)
    pollers.emplace_back([&, k] {
      httplib::Client c{"127.0.0.1", port};
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      auto period = duration<double>(double(poller_threads) / rate);
      auto next = steady_clock::now() + duration_cast<steady_clock::duration>(period * k / poller_threads);
      std::vector<double> mine;
      while (steady_clock::now() < until) {
        std::this_thread::sleep_until(next);
        next += duration_cast<steady_clock::duration>(period);
        auto t0 = steady_clock::now();
        auto r = c.Get(("/api/jobs/" + first_id).c_str());
        if (!r || r->status != 200)
          ++errors;
        mine.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
      }
      std::lock_guard<std::mutex> g{lat_mtx};
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  // Jobs keep coming while the load is on.
  std::thread submitter([&] {
    for (std::size_t i = 1; i < sessions.size() && steady_clock::now() < until - 5s; ++i) {
      httplib::Client c{"127.0.0.1", port};
      c.Post("/api/jobs", json{{"session", sessions[i]}}.dump(), "application/json");
      std::this_thread::sleep_for(milliseconds(seconds * 1000 / 40));
    }
  });
  for (auto& p : pollers)
    p.join();
  submitter.join();
  std::this_thread::sleep_for(3s);  // let the last transitions reach every stream
  // The node's peak memory, before the streams close.
  long hwm_kb = 0;
  {
    std::ifstream st("/proc/" + std::to_string(node) + "/status");
    for (std::string l; std::getline(st, l);)
      if (l.rfind("VmHWM:", 0) == 0)
        hwm_kb = std::atol(l.c_str() + 6);
  }
  stop = true;
  ::kill(node, SIGTERM);
  for (auto& s : streams)
    s.join();
  ::waitpid(node, nullptr, 0);

  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) { return latencies.empty() ? 0.0 : latencies[std::size_t(p * double(latencies.size() - 1))]; };
  // Every stream must hold the same, gap-free run of ids.
  bool complete = true;
  std::size_t events = seen.empty() ? 0 : seen[0].size();
  for (const auto& s : seen) {
    if (s != seen[0])
      complete = false;
    for (std::size_t i = 1; i < s.size(); ++i)
      if (s[i] != s[i - 1] + 1)
        complete = false;
  }
  json report = {{"seconds", seconds},
                 {"sseClients", clients},
                 {"sseConnected", connected.load()},
                 {"statusRequests", latencies.size()},
                 {"statusPerSecond", double(latencies.size()) / seconds},
                 {"statusErrors", errors.load()},
                 {"p50Ms", pct(0.50)},
                 {"p99Ms", pct(0.99)},
                 {"maxMs", latencies.empty() ? 0 : latencies.back()},
                 {"transitionsPerClient", events},
                 {"everyClientGotEveryEvent", complete},
                 {"nodePeakRssMb", hwm_kb / 1024}};
  std::printf("%s\n", report.dump().c_str());
  std::system(("rm -rf " + dir).c_str());
  return complete ? 0 : 1;
}
