#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>

#include "actors/node_agent.hpp"
#include "actors/node_setup.hpp"
#include "apps/commands.hpp"
#include "config/endpoint.hpp"
#include "net/http/api_server.hpp"

namespace fs = std::filesystem;

namespace postroll::cli {

namespace {

// Holds a node's main thread until SIGINT/SIGTERM, or until something else
// ends it with a reason (a worker node refused by its coordinator).
struct stop_latch {
  std::mutex mtx;
  std::condition_variable cv;
  bool stopped = false;
  std::string reason;

  void release(const std::string& why = {}) {
    std::lock_guard<std::mutex> guard{mtx};
    if (!stopped)
      reason = why;
    stopped = true;
    cv.notify_all();
  }
  void release_on(signal_waiter& sig) {
    sig.on_signal([this](int s) {
      spdlog::info("node: signal {} received, stopping", s);
      release();
    });
  }
  /// @returns the reason it was released with ("" for a signal).
  std::string wait() {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait(lock, [&] { return stopped; });
    return reason;
  }
};

// A worker node: no job state, no listener; runs stages for its coordinator
// until a signal, or exits 2 when the coordinator refuses it.
int run_worker_node(const config& cfg, signal_waiter& sig) {
  stop_latch latch;
  auto node = worker_node::start(cfg, [&](const std::string& why) { latch.release(why); });
  if (!node)
    return fail(node.err());
  std::cout << "postroll worker node " << (cfg.id.empty() ? "" : cfg.id + " ") << "serving " << cfg.coordinator
            << std::endl;
  latch.release_on(sig);
  auto refusal = latch.wait();
  node->reset();
  if (!refusal.empty()) {
    std::cerr << "postroll: the coordinator refused this node: " << refusal << "\n";
    return exit_bad_input;
  }
  return exit_ok;
}

}  // namespace

// A standalone node or coordinator (with its HTTP API) until a signal; a
// worker node (role = "worker") until a signal or its coordinator refuses it.
int cmd_node(const args& a, signal_waiter& sig) {
  auto cfg = make_config(a);
  if (!cfg)
    return fail(cfg.err());
  // Every log line names the node: with several nodes, logs get merged.
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] [" + node_id_for(*cfg) + "] [%^%l%$] %v");
  if (cfg->role == "worker")
    return run_worker_node(*cfg, sig);
  auto rt = runtime::start(*cfg);
  if (!rt)
    return fail(rt.err());
  auto port = (*rt)->listen(cfg->host, cfg->port);
  if (!port)
    return fail(port.err());
  // Clients that were told port 0 find the real one here.
  if (auto err = write_endpoint(fs::path{cfg->data_dir} / "node.endpoint", cfg->host, *port))
    return fail(*err);
  std::unique_ptr<http::api_server> api;
  if (cfg->http) {
    http::api_options ho;
    ho.host = cfg->host;
    // A node on an OS-chosen port (tests, several nodes on one machine)
    // gets an OS-chosen HTTP port too, unless one is configured.
    ho.port = cfg->port == 0 && cfg->http_port == config{}.http_port ? 0 : cfg->http_port;
    ho.session_roots = cfg->session_roots;
    ho.web_dir = cfg->web_dir;
    ho.output_dir = cfg->output_dir;
    ho.allowed_hosts = cfg->allowed_hosts;
    ho.cors_origins = cfg->cors_origins;
    ho.max_connections = std::size_t(cfg->http_max_connections);
    ho.max_event_streams = std::size_t(cfg->http_max_event_streams);
    if (ho.web_dir.empty()) {
      // The dashboard next to the binary: the source tree's web/ for a
      // build, share/postroll/web for an install.
      std::error_code ec;
      auto exe = fs::read_symlink("/proc/self/exe", ec).parent_path();
      for (const auto& dir : {exe / ".." / "web", exe / ".." / "share" / "postroll" / "web"})
        if (fs::exists(dir / "index.html", ec)) {
          ho.web_dir = fs::canonical(dir, ec).string();
          break;
        }
    }
    if (!cfg->http_token_env.empty()) {
      const char* token = std::getenv(cfg->http_token_env.c_str());
      if (!token || !*token)
        return fail(error{errc::bad_input, "http.token_env: environment variable " + cfg->http_token_env + " is not set"});
      ho.token = token;
    }
    auto served = http::api_server::start(**rt, ho);
    if (!served)
      return fail(served.err());
    api = std::move(*served);
    if (auto err = write_endpoint(fs::path{cfg->data_dir} / "http.endpoint", cfg->host, api->port()))
      return fail(*err);
    std::cout << "postroll http on http://" << cfg->host << ":" << api->port() << std::endl;
  }
  std::cout << "postroll node listening on " << cfg->host << ":" << *port << std::endl;
  stop_latch latch;
  latch.release_on(sig);
  latch.wait();
  api.reset();
  (*rt)->stop();
  return exit_ok;
}

}  // namespace postroll::cli
