// The node's API under hostile load (docs/security.md): GET /api/jobs
// latency, one request after another on a fresh connection each time, while
//   1. nothing else runs (the baseline),
//   2. 1,000 clients hold connections with a request they never finish (slowloris),
//   3. 300 event streams are open (more than the node keeps),
//   4. 4 clients each send an endless chunked body,
// and the node's peak RSS. The node is the real `postroll node` process.
//
// usage: bench_http_abuse POSTROLL_BINARY [REQUESTS_PER_PHASE=200]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "bench/node_process.hpp"
#include "tests/support/loopback.hpp"

using json = nlohmann::json;
using namespace std::chrono;

namespace {

int port = 0;

int dial() {
  timeval tv{2, 0};  // an answer later than 2 s counts as none
  int fd = postroll::test::dial_loopback(port, tv);
  if (fd < 0)
    return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

std::string host() { return "127.0.0.1:" + std::to_string(port); }

// One GET /api/jobs on a new connection: ms until the whole answer, -1 on failure.
double timed_get() {
  auto t0 = steady_clock::now();
  int fd = dial();
  if (fd < 0)
    return -1;
  auto req = "GET /api/jobs HTTP/1.1\r\nHost: " + host() + "\r\nConnection: close\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, std::size_t(n));
  ::close(fd);
  if (out.rfind("HTTP/1.1 200", 0) != 0)
    return -1;
  return duration<double, std::milli>(steady_clock::now() - t0).count();
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stol(line.substr(6));
  return 0;
}

json phase(const std::string& name, int n) {
  std::vector<double> ms;
  int errors = 0, in_a_row = 0, sent = 0;
  for (int i = 0; i < n && in_a_row < 5; ++i, ++sent) {  // five failures in a row: it does not answer
    auto t = timed_get();
    if (t < 0) {
      ++errors;
      ++in_a_row;
    } else {
      ms.push_back(t);
      in_a_row = 0;
    }
    std::this_thread::sleep_for(5ms);
  }
  n = sent;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms.empty() ? -1.0 : ms[std::min(ms.size() - 1, std::size_t(q * double(ms.size())))]; };
  return {{"phase", name}, {"requests", n}, {"errors", errors}, {"p50Ms", at(0.5)}, {"p99Ms", at(0.99)},
          {"maxMs", ms.empty() ? -1.0 : ms.back()}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_http_abuse POSTROLL_BINARY [REQUESTS_PER_PHASE]\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  rlimit nofile{8192, 8192};
  ::setrlimit(RLIMIT_NOFILE, &nofile);
  int n = argc > 2 ? std::atoi(argv[2]) : 200;
  char tmpl[] = "/tmp/postroll-bench-abuse-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::ofstream(dir + "/node.toml") << "[node]\nport = 0\ndata_dir = \"" << dir << "/db\"\n[enrich]\nenabled = false\n"
                                    << "[notify]\ndesktop = false\n[media]\ncompress = false\n[log]\nlevel = \"warn\"\n";
  pid_t node = postroll::bench::start_node(argv[1], dir + "/node.toml", port);
  if (node < 0)
    return 1;
  json phases = json::array();
  phases.push_back(phase("baseline", n));

  std::vector<int> held;
  for (int i = 0; i < 1000; ++i)
    if (int fd = dial(); fd >= 0) {
      auto part = "GET /api/jobs HTTP/1.1\r\nHost: " + host() + "\r\nX-Slow: ";
      ::send(fd, part.data(), part.size(), MSG_NOSIGNAL);
      held.push_back(fd);
    }
  std::atomic<bool> stop{false};
  // The slow clients keep trickling a byte a second, as slowloris does.
  std::thread trickle([&] {
    while (!stop) {
      for (int fd : held)
        ::send(fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      std::this_thread::sleep_for(1s);
    }
  });
  auto slow = phase("1,000 slowloris clients", n);
  slow["held"] = held.size();
  phases.push_back(slow);
  stop = true;
  trickle.join();
  for (int fd : held)
    ::close(fd);
  held.clear();

  int refused = 0;
  for (int i = 0; i < 300; ++i)
    if (int fd = dial(); fd >= 0) {
      auto req = "GET /api/events HTTP/1.1\r\nHost: " + host() + "\r\n\r\n";
      ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      char head[64];
      auto k = ::recv(fd, head, sizeof head, 0);
      if (k > 12 && std::string(head, 12) == "HTTP/1.1 503")
        ++refused;
      held.push_back(fd);
    }
  auto streams = phase("300 event streams", n);
  streams["refused"] = refused;
  phases.push_back(streams);
  for (int fd : held)
    ::close(fd);
  held.clear();

  stop = false;
  std::vector<std::thread> floods;
  std::atomic<long> flooded{0};
  for (int k = 0; k < 4; ++k)
    floods.emplace_back([&] {
      std::string chunk = "100000\r\n" + std::string(1 << 20, 'x') + "\r\n";
      while (!stop) {
        int fd = dial();
        if (fd < 0)
          continue;
        auto head = "POST /api/jobs HTTP/1.1\r\nHost: " + host() +
                    "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
        for (ssize_t s; !stop && (s = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL)) > 0;)
          flooded += s;
        ::close(fd);
      }
    });
  phases.push_back(phase("4 endless chunked bodies", n));
  stop = true;
  for (auto& t : floods)
    t.join();
  json report = {{"phases", phases}, {"chunkedBytesSent", flooded.load()}, {"nodePeakRssMb", rss_kb(node) / 1024}};
  std::printf("%s\n", report.dump().c_str());
  ::kill(node, SIGTERM);
  ::waitpid(node, nullptr, 0);
  std::system(("rm -rf " + dir).c_str());
}
