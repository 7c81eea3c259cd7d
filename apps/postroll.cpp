// The postroll command: process a session in the foreground, run a node, and
// talk to a running node (submit, status, cancel, retry).
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iomanip>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <pthread.h>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "actors/node_agent.hpp"
#include "actors/node_setup.hpp"
#include "net/http/api_server.hpp"
#include "apps/progress_bar.hpp"
#include "config/endpoint.hpp"
#include "pipelines/output_file.hpp"
#include "postroll/config.hpp"
#include "postroll/runtime.hpp"
#include "session/manifest.hpp"
#include "storage/job_codec.hpp"

namespace fs = std::filesystem;
using namespace postroll;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_bad_input = 2;

const char* usage = R"(usage: postroll COMMAND [ARGS]

  process DIR        finalize one session in the foreground (embedded runtime)
  node               run a node: standalone (default), coordinator or worker, as
                     node.role in --config FILE says (docs/scale-out.md)
  nodes              list the nodes serving a node's queue: capabilities, load, leases
  submit DIR         hand a session to a running node
  status [JOB]       list jobs, or show one job
  cancel JOB         cancel a pending or running job
  retry JOB          re-run a failed or cancelled job
  delete JOB         delete a finished job and its history (the session's files
                     stay; --outputs also deletes DIR/postroll/, never the recording)
  remove JOB         remove a session's job (cancelled first if running) and its outputs;
                     --with-files also deletes the recording's files and session.json

options:
  --config FILE      TOML config (see docs/configuration.md)
  --data-dir DIR     job database folder (default .postroll)
  --node HOST:PORT   node to talk to (default: from --config, else 127.0.0.1:7411)
  --priority P       high, normal or low (submit, process)
  --json             print records as JSON
  --wait             submit: wait for the job to end, showing progress
  --history          status JOB: every state transition with time and reason
  --outputs          delete: also delete what postroll wrote for the session
  --no-compress      process, submit: keep the playable MP4 as merged (no media.compress)
  --no-enrich        process, submit: no transcript, chapters, summary, canvas
  --retention R      process, submit: keep, trash or delete the originals once the job
                     completed (default: storage.retention; docs/storage.md)
  --reference FILE   process: a complete recording of the same recorder, to rebuild
                     a video whose index a killed recorder never wrote (docs/recovery.md)
  --log-level L      trace, debug, info, warn, error, off
)";

struct args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // --key value
  bool json = false;
  bool wait = false;
  bool history = false;
  bool outputs = false;
  bool no_compress = false;
  bool no_enrich = false;
  bool with_files = false;

  std::optional<std::string> opt(const std::string& k) const {
    auto it = options.find(k);
    return it == options.end() ? std::nullopt : std::optional<std::string>{it->second};
  }
};

std::optional<args> parse_args(int argc, char** argv) {
  args a;
  static const std::vector<std::string> valued = {"config", "data-dir", "node", "priority",
                                                  "log-level", "port", "reference", "retention"};
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--json") {
      a.json = true;
    } else if (s == "--wait") {
      a.wait = true;
    } else if (s == "--history") {
      a.history = true;
    } else if (s == "--outputs") {
      a.outputs = true;
    } else if (s == "--no-compress") {
      a.no_compress = true;
    } else if (s == "--no-enrich") {
      a.no_enrich = true;
    } else if (s == "--with-files") {
      a.with_files = true;
    } else if (s == "-h" || s == "--help") {
      return std::nullopt;
    } else if (s.rfind("--", 0) == 0) {
      auto key = s.substr(2);
      if (std::find(valued.begin(), valued.end(), key) == valued.end() || i + 1 >= argc) {
        std::cerr << "postroll: unknown option or missing value: " << s << "\n";
        return std::nullopt;
      }
      a.options[key] = argv[++i];
    } else if (a.command.empty()) {
      a.command = s;
    } else {
      a.positional.push_back(s);
    }
  }
  if (a.command.empty())
    return std::nullopt;
  return a;
}

// Config from --config, then flags on top.
result<config> make_config(const args& a) {
  config cfg;
  if (auto path = a.opt("config")) {
    auto loaded = load_config(*path);
    if (!loaded)
      return loaded.err();
    cfg = *loaded;
  }
  if (auto d = a.opt("data-dir"))
    cfg.data_dir = *d;
  if (a.no_compress)
    cfg.compress = false;  // also spares choosing an encoder at start-up
  if (a.no_enrich)
    cfg.enrich = false;
  if (auto r = a.opt("reference"))
    cfg.repair_reference = *r;
  if (auto l = a.opt("log-level"))
    cfg.log_level = *l;
  else if (!a.opt("config") && (a.command == "process" || a.command == "submit"))
    cfg.log_level = "warn";  // the progress bar speaks for them
  if (auto p = a.opt("port")) {
    try {
      cfg.port = static_cast<std::uint16_t>(std::stoul(*p));
    } catch (...) {
      return error{errc::bad_input, "--port: not a number: " + *p};
    }
  }
  if (auto err = validate(cfg))
    return *err;
  return cfg;
}

int fail(const error& e) {
  // One line, whatever the message quotes from outside (a file name, a
  // library's text).
  std::cerr << "postroll: " << one_line(e.message) << "\n";
  return e.code == errc::bad_input ? exit_bad_input : exit_failure;
}

// What media.repair recovered and lost, one line per file.
void print_repairs(const job_record& j, std::ostream& out) {
  for (const auto& s : j.stages) {
    if (s.name != "media.repair" || s.result.empty())
      continue;
    auto r = nlohmann::json::parse(s.result, nullptr, false);
    for (const auto& f : r.value("repairs", nlohmann::json::array()))
      if (f.value("silence", false))
        out << "  " << f.value("file", "") << ": nothing recoverable (" << f.value("reason", "")
            << "); silence for about " << f.value("secondsLostEstimate", 0.0) << " s\n";
      else
        out << "  repaired " << f.value("file", "") << " (" << f.value("damage", "") << "): "
          << f.value("secondsRecovered", 0.0) << " s recovered, about " << f.value("secondsLostEstimate", 0.0)
          << " s lost (" << f.value("bytesLost", 0) << " bytes)\n";
  }
}

// " (not compressed: REASON)" when media.compress left the playable file as
// it was merged (an optimisation that did not happen is said, not hidden).
std::string compression_note(const job_record& j) {
  for (const auto& s : j.stages) {
    if (s.name != "media.compress" || s.result.empty())
      continue;
    auto r = nlohmann::json::parse(s.result, nullptr, false);
    if (r.is_object() && !r.value("replaced", false) && !r.value("compressedByMerge", false) && r.contains("reason"))
      return "  (not compressed: " + r.value("reason", std::string{}) + ")";
  }
  return {};
}

std::string megabytes(std::int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", double(bytes) / 1e6);
  return buf;
}

// Disk accounting: the recording as submitted, what postroll wrote and
// retention reclaimed (both in the record), and the session folder now.
void print_sizes(const job_record& j, std::ostream& out) {
  std::error_code ec;
  if (!fs::is_directory(j.session_dir, ec))
    return;
  out << "  size: recording " << megabytes(j.media_bytes) << ", session folder now " << megabytes(folder_bytes(j.session_dir));
  if (j.state == job_state::completed)
    out << " (postroll wrote " << megabytes(j.bytes_written)
        << (j.bytes_reclaimed ? ", retention reclaimed " + megabytes(j.bytes_reclaimed) : "") << ")";
  out << "\n";
}

void print_record(const job_record& j, bool as_json) {
  if (as_json) {
    std::cout << to_json_value(j).dump(2) << "\n";
    return;
  }
  std::cout << j.id << "  " << to_string(j.state) << "  " << j.session_id << "  " << j.session_dir
            << "\n";
  for (const auto& s : j.stages) {
    std::cout << "  " << s.name << "  " << to_string(s.state) << "  attempts " << s.attempts;
    if (!s.node.empty())
      std::cout << "  on " << s.node;
    if (s.finished_at && s.started_at)
      std::cout << "  " << (s.finished_at - s.started_at) << " ms";
    if (s.name == "media.compress") {
      job_record one;
      one.stages = {s};
      std::cout << compression_note(one);
    }
    if (!s.error.empty())
      std::cout << "  (" << s.error << ")";
    std::cout << "\n";
  }
  print_repairs(j, std::cout);
  print_sizes(j, std::cout);
  if (!j.output.empty())
    std::cout << "  output: " << j.output << "\n";
  if (!j.error.empty())
    std::cout << "  error: " << j.error << "\n";
}

// `postroll nodes`: one block per node.
int print_nodes(runtime& r, bool as_json) {
  auto nodes = r.nodes();
  if (!nodes)
    return fail(nodes.err());
  if (as_json) {
    auto arr = nlohmann::json::array();
    for (const auto& n : *nodes)
      arr.push_back(to_json_value(n));
    std::cout << arr.dump(2) << "\n";
    return exit_ok;
  }
  for (const auto& n : *nodes) {
    std::cout << n.id << (n.local ? "  (coordinator's own workers)" : "  worker") << "  load " << n.running << "/"
              << n.slots << "  completed " << n.completed << "  failed " << n.failed << "\n";
    std::cout << "  " << n.cores << " cores, " << n.media_workers << " media + " << n.enrich_workers
              << " enrichment workers, encoder "
              << (n.encoders.empty() ? std::string{"none"} : n.encoders.front() + (n.hardware_encoder ? " (hardware)" : ""))
              << (n.free_bytes >= 0 ? ", " + megabytes(n.free_bytes) + " free" : "") << "\n";
    std::string stages;
    for (const auto& s : n.stages)
      stages += (stages.empty() ? "" : ", ") + s;
    std::cout << "  stages: " << (stages.empty() ? "none" : stages) << "\n";
    for (const auto& p : n.paths)
      std::cout << "  path: " << p << "\n";
    for (const auto& l : n.leases)
      std::cout << "  running: " << l << "\n";
  }
  return exit_ok;
}

int exit_code_for(const job_record& j) {
  if (j.state == job_state::completed)
    return exit_ok;
  if (j.state == job_state::failed && j.error_code == errc::bad_input)
    return exit_bad_input;
  return exit_failure;
}

// SIGINT/SIGTERM are blocked in every thread and taken by one waiting thread,
// so a signal becomes an ordinary event the main thread can wait for.
class signal_waiter {
public:
  signal_waiter() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  template <class F>
  void on_signal(F f) {
    thread_ = std::thread([this, f] {
      int sig = 0;
      sigwait(&set_, &sig);
      if (!quiet_)
        f(sig);
    });
    thread_.detach();
  }
  void quiet() { quiet_ = true; }

private:
  sigset_t set_;
  std::thread thread_;
  std::atomic<bool> quiet_{false};
};

// Waits for a job to end while showing its progress.
struct job_watch {
  std::mutex mtx;
  std::condition_variable cv;
  bool ended = false;
  bool interrupted = false;
};

// Follows the events of one session's job. Subscribe before submitting, so
// that no event of a fast job is missed; the job id is learnt from them.
class job_follower {
public:
  job_follower(runtime& rt, std::string session_id, bool show_progress)
    : rt_(rt), session_id_(std::move(session_id)), show_(show_progress) {}

  maybe_error subscribe() {
    auto sub = rt_.subscribe([this](const event& e) { on_event(e); });
    if (!sub)
      return sub.err();
    sub_ = std::move(*sub);
    return std::nullopt;
  }

  /// Waits until the job ends or a signal arrives.
  result<job_record> wait(const job_record& job, signal_waiter& sig) {
    {
      std::lock_guard<std::mutex> guard{w_.mtx};
      job_id_ = job.id;
      bar_.emplace(int(job.stages.size()));
      for (auto& e : early_)
        bar_->update(e);
      early_.clear();
    }
    sig.on_signal([this](int) {
      std::lock_guard<std::mutex> guard{w_.mtx};
      w_.interrupted = true;
      w_.cv.notify_all();
    });
    auto now = rt_.status(job.id);
    if (now && !is_terminal(now->state)) {
      std::unique_lock<std::mutex> lock{w_.mtx};
      w_.cv.wait(lock, [&] { return w_.ended || w_.interrupted; });
    }
    sig.quiet();
    sub_.reset();
    if (show_ && bar_)
      bar_->finish();
    if (w_.interrupted)
      return error{errc::cancelled, "interrupted; job " + job.id +
                                      " stays queued and resumes when this session is processed again"};
    return rt_.status(job.id);
  }

private:
  void on_event(const event& e) {
    std::lock_guard<std::mutex> guard{w_.mtx};
    if (e.session_id != session_id_ || (!job_id_.empty() && e.job_id != job_id_))
      return;
    if (e.kind == events::job_waiting)
      std::fprintf(stderr, "\npostroll: %s\n", e.message.c_str());
    if (show_) {
      if (bar_)
        bar_->update(e);
      else
        early_.push_back(e);
    }
    if (!job_id_.empty() && (e.kind == events::job_completed || e.kind == events::job_failed ||
                             e.kind == events::job_cancelled)) {
      w_.ended = true;
      w_.cv.notify_all();
    }
  }

  runtime& rt_;
  std::string session_id_;
  bool show_;
  std::string job_id_;
  std::optional<cli::progress_bar> bar_;
  std::vector<event> early_;  // events before the job id was known
  job_watch w_;
  subscription sub_;
};

int cmd_process(const args& a, signal_waiter& sig) {
  if (a.positional.size() != 1) {
    std::cerr << usage;
    return exit_bad_input;
  }
  auto cfg = make_config(a);
  if (!cfg)
    return fail(cfg.err());
  // Validate before starting anything: bad input is one line and exit 2.
  manifest_options mo;
  mo.missing_audio_as_silence = cfg->undecodable_as_silence;
  mo.max_session_ms = std::int64_t(cfg->max_session_hours) * 3600000;
  mo.max_entries = std::size_t(cfg->max_session_files);
  mo.roots = cfg->session_roots;
  auto m = load_manifest(a.positional[0], mo);
  if (!m)
    return fail(m.err());
  auto rt = runtime::start(*cfg);
  if (!rt)
    return fail(rt.err());
  priority prio = priority::normal;
  if (auto p = a.opt("priority"); p && !parse(*p, prio))
    return fail(error{errc::bad_input, "--priority: unknown value " + *p});
  job_follower follower{**rt, m->id, true};
  if (auto err = follower.subscribe())
    return fail(*err);
  submit_options so;
  so.prio = prio;
  if (a.no_compress)
    so.compress = false;
  if (a.no_enrich)
    so.enrich = false;
  if (auto r = a.opt("retention"))
    so.retention = *r;
  auto job = (*rt)->submit(m->dir.string(), so);
  if (!job)
    return fail(job.err());
  auto final = follower.wait(*job, sig);
  if (!final)
    return fail(final.err());
  if (a.json) {
    print_record(*final, true);
  } else if (final->state == job_state::completed) {
    print_repairs(*final, std::cerr);
    std::cout << final->output << compression_note(*final) << "\n";
  } else {
    std::cerr << "postroll: job " << final->id << " " << to_string(final->state)
              << (final->error.empty() ? "" : ": " + final->error) << "\n";
  }
  return exit_code_for(*final);
}

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
  auto endpoint = fs::path{cfg->data_dir} / "node.endpoint";
  {
    std::ofstream out{endpoint.string() + ".tmp"};
    out << cfg->host << ":" << *port << "\n";
  }
  fs::rename(endpoint.string() + ".tmp", endpoint);
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
    auto http_endpoint = fs::path{cfg->data_dir} / "http.endpoint";
    {
      std::ofstream out{http_endpoint.string() + ".tmp"};
      out << cfg->host << ":" << api->port() << "\n";
    }
    fs::rename(http_endpoint.string() + ".tmp", http_endpoint);
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

// Where the node is: --node, else the config's host/port (or the endpoint
// file a node with port 0 wrote), else the default.
result<std::pair<std::string, std::uint16_t>> node_address(const args& a) {
  std::string text;
  if (auto n = a.opt("node")) {
    text = *n;
  } else {
    auto cfg = make_config(a);
    if (!cfg)
      return cfg.err();
    text = cfg->host + ":" + std::to_string(cfg->port);
    std::ifstream endpoint{fs::path{cfg->data_dir} / "node.endpoint"};
    if (cfg->port == 0 && endpoint)
      std::getline(endpoint, text);
  }
  auto endpoint = parse_endpoint(text);
  if (!endpoint)
    return error{errc::bad_input, "node address must be HOST:PORT, got " + text};
  return *endpoint;
}

int cmd_client(const args& a, signal_waiter& sig) {
  auto addr = node_address(a);
  if (!addr)
    return fail(addr.err());
  config transport;
  if (a.opt("config")) {
    auto cfg = make_config(a);
    if (!cfg)
      return fail(cfg.err());
    transport = *cfg;  // its [tls], for nodes off loopback
  }
  auto rt = runtime::connect(addr->first, addr->second, transport);
  if (!rt)
    return fail(rt.err());
  auto& r = **rt;
  if (a.command == "nodes")
    return print_nodes(r, a.json);
  auto need_one = [&]() -> bool {
    if (a.positional.size() == 1)
      return true;
    std::cerr << "postroll " << a.command << ": needs exactly one argument\n";
    return false;
  };
  if (a.command == "submit") {
    if (!need_one())
      return exit_bad_input;
    priority prio = priority::normal;
    if (auto p = a.opt("priority"); p && !parse(*p, prio))
      return fail(error{errc::bad_input, "--priority: unknown value " + *p});
    std::error_code ec;
    auto dir = fs::absolute(a.positional[0], ec).string();
    // The session id filters events before the job id is known.
    auto m = load_manifest(dir);
    job_follower follower{r, m ? m->id : std::string{}, true};
    if (a.wait)
      if (auto err = follower.subscribe())
        return fail(*err);
    submit_options so;
    so.prio = prio;
    if (a.no_compress)
      so.compress = false;
    if (a.no_enrich)
      so.enrich = false;
    if (auto ret = a.opt("retention"))
      so.retention = *ret;
    auto job = r.submit(dir, so);
    if (!job)
      return fail(job.err());
    if (!a.wait) {
      print_record(*job, a.json);
      return exit_ok;
    }
    auto final = follower.wait(*job, sig);
    if (!final)
      return fail(final.err());
    print_record(*final, a.json);
    return exit_code_for(*final);
  }
  if (a.command == "status") {
    if (a.positional.empty()) {
      auto jobs = r.list(50);
      if (!jobs)
        return fail(jobs.err());
      auto counts = r.counts();
      if (!counts)
        return fail(counts.err());
      if (!a.json) {
        for (auto s : {job_state::pending, job_state::processing, job_state::completed, job_state::failed,
                       job_state::cancelled})
          std::cout << (s == job_state::pending ? "" : "  ") << to_string(s) << " " << (*counts)[s];
        std::cout << "\n";
      }
      if (a.json) {
        auto arr = nlohmann::json::array();
        for (const auto& j : *jobs)
          arr.push_back(to_json_value(j));
        std::cout << arr.dump(2) << "\n";
      } else {
        for (const auto& j : *jobs)
          std::cout << j.id << "  " << to_string(j.state) << "  " << j.session_id << "  "
                    << (j.output.empty() ? j.error : j.output) << "\n";
      }
      return exit_ok;
    }
    auto job = r.status(a.positional[0]);
    if (!job)
      return fail(job.err());
    if (!a.history) {
      print_record(*job, a.json);
      return exit_ok;
    }
    auto entries = r.history(job->id);
    if (!entries)
      return fail(entries.err());
    auto arr = nlohmann::json::array();
    for (const auto& e : *entries) {
      if (a.json) {
        arr.push_back({{"seq", e.seq}, {"time", e.time}, {"from", e.from}, {"to", e.to}, {"reason", e.reason}});
        continue;
      }
      std::time_t secs = std::time_t(e.time / 1000);
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&secs));
      std::cout << when << "." << std::setw(3) << std::setfill('0') << e.time % 1000 << std::setfill(' ') << "  "
                << std::left << std::setw(10) << (e.from.empty() ? "-" : e.from) << " -> " << std::setw(10)
                << e.to << std::right << "  " << e.reason << "\n";
    }
    if (a.json)
      std::cout << arr.dump(2) << "\n";
    return exit_ok;
  }
  if (!need_one())
    return exit_bad_input;
  // remove: the session's job goes (cancelled first if live) with its
  // outputs, and with --with-files the recording too.
  auto job = a.command == "cancel"   ? r.cancel(a.positional[0])
             : a.command == "retry"  ? r.retry(a.positional[0])
             : a.command == "remove" ? r.remove(a.positional[0], a.with_files ? removal::everything : removal::outputs)
                                     : r.remove(a.positional[0], a.outputs);
  if (!job)
    return fail(job.err());
  print_record(*job, a.json);
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  // Logs go to stderr: stdout carries results (paths, JSON).
  spdlog::set_default_logger(spdlog::stderr_color_mt("postroll"));
  auto a = parse_args(argc, argv);
  if (!a) {
    std::cerr << usage;
    return exit_bad_input;
  }
  signal_waiter sig;
  if (a->command == "process")
    return cmd_process(*a, sig);
  if (a->command == "node")
    return cmd_node(*a, sig);
  if (a->command == "submit" || a->command == "status" || a->command == "cancel" ||
      a->command == "retry" || a->command == "delete" || a->command == "remove" || a->command == "nodes")
    return cmd_client(*a, sig);
  std::cerr << "postroll: unknown command " << a->command << "\n" << usage;
  return exit_bad_input;
}
