// Scale-out with real processes on loopback: a coordinator and worker nodes
// (`postroll node --config`), each its own process, talking over CAF's
// middleman; workers reach the sessions through path mappings (symlinked
// "mounts"), killed with SIGKILL, stopped with SIGSTOP, refused over TLS.
#define BOOST_TEST_MODULE cluster
#include <boost/test/included/unit_test.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "postroll/runtime.hpp"
#include "support/event_log.hpp"
#include "support/loopback.hpp"
#include "support/test_support.hpp"

using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::uint16_t free_port() { return bound_port{}.port; }

bool saw(child_process& p, const std::string& text, std::chrono::milliseconds timeout) {
  if (p.transcript().find(text) != std::string::npos)
    return true;
  return !p.wait_for_line([&](const std::string& l) { return l.find(text) != std::string::npos; }, timeout).empty();
}

std::string file_hash(const fs::path& f) { return sh("sha256sum '" + f.string() + "' | cut -d' ' -f1"); }

// One demo session, copied under new ids: varied enough for every stage,
// cheap to make six of.
struct session_factory {
  fs::path root;
  fs::path original;
  explicit session_factory(const fs::path& sessions_root) : root(sessions_root) {
    fs::create_directories(root);
    original = root / ".template";
    make_demo_session(original, 12);
  }
  fs::path make(const std::string& name) {
    auto dir = root / name;
    fs::copy(original, dir, fs::copy_options::recursive);
    auto m = nlohmann::json::parse(read_file(dir / "session.json"));
    m["id"] = "cluster-" + name;
    write_file(dir / "session.json", m.dump());
    return dir;
  }
};

// A coordinator with no workers of its own and worker nodes that map the
// coordinator's session root to their own "mount" (a symlink).
struct cluster {
  temp_dir t;
  std::uint16_t port = free_port();
  std::string extra_coordinator;  // more TOML for the coordinator
  std::int64_t lease_ms = 30000;
  std::unique_ptr<child_process> coordinator;
  std::map<std::string, std::unique_ptr<child_process>> workers;
  fs::path sessions = t / "sessions";

  cluster() { fs::create_directories(sessions); }

  fs::path coordinator_config() {
    auto file = t / "coordinator.toml";
    write_file(file, "[node]\nrole = \"coordinator\"\nid = \"coord\"\nport = " + std::to_string(port) +
                       "\ndata_dir = \"" + (t / "coord-db").string() + "\"\n[cluster]\nlease_ms = " +
                       std::to_string(lease_ms) + "\n[media]\nworkers = 0\n[enrich]\nworkers = 0\n" +
                       "[queue]\nretry_base_ms = 200\nretry_cap_ms = 1000\n[notify]\ndesktop = false\n" +
                       "[http]\nenabled = false\n" + extra_coordinator);
    return file;
  }

  void start_coordinator() {
    coordinator = std::make_unique<child_process>(
      std::vector<std::string>{postroll_binary().string(), "node", "--config", coordinator_config().string()});
    wait_for_node(*coordinator);
  }

  fs::path worker_config(const std::string& id, const std::string& extra = {}, bool map = true) {
    auto mount = t / ("mnt-" + id);
    std::error_code ec;
    if (map && !fs::exists(mount, ec))
      fs::create_directory_symlink(sessions, mount);
    auto file = t / (id + ".toml");
    write_file(file, "[node]\nrole = \"worker\"\nid = \"" + id + "\"\ndata_dir = \"" + (t / (id + "-db")).string() +
                       "\"\n[cluster]\ncoordinator = \"127.0.0.1:" + std::to_string(port) +
                       "\"\nreconnect_max_ms = 300\n" +
                       (map ? "path_map = [\"" + sessions.string() + "=" + mount.string() + "\"]\n" : "") +
                       "[media]\nworkers = 1\n[enrich]\nworkers = 1\n[notify]\ndesktop = false\n" + extra);
    return file;
  }

  child_process& start_worker(const std::string& id, const std::string& extra = {}) {
    auto& w = workers[id];
    w = std::make_unique<child_process>(
      std::vector<std::string>{postroll_binary().string(), "node", "--config", worker_config(id, extra).string()});
    BOOST_REQUIRE_MESSAGE(saw(*coordinator, "node " + id + " joined", 30s), coordinator->transcript());
    return *w;
  }

  std::unique_ptr<runtime> client() {
    auto c = runtime::connect("127.0.0.1", port);
    BOOST_REQUIRE_MESSAGE(c, (c ? "" : c.err().message));
    return std::move(*c);
  }

  void drain_all() {
    if (coordinator)
      coordinator->drain();
    for (auto& [id, w] : workers)
      if (w)
        w->drain();
  }
};

job_record wait_done(runtime& r, const std::string& id, cluster& c) {
  for (int i = 0; i < 240; ++i) {
    auto done = r.wait(id, 500ms);
    c.drain_all();
    if (done)
      return *done;
  }
  BOOST_FAIL("job " << id << " did not end; coordinator:\n" << c.coordinator->transcript());
  return {};
}

// Waits for `stage` to start (by event) and returns the node running it.
std::string node_starting(event_log& log, const std::string& stage) {
  std::string node;
  BOOST_REQUIRE(log.wait_for([&](const event& e) {
    if (e.kind == events::stage_started && e.stage == stage)
      node = e.node;
    return !node.empty();
  }));
  return node;
}

const stage_record& stage(const job_record& j, const std::string& name) {
  for (const auto& s : j.stages)
    if (s.name == name)
      return s;
  throw std::runtime_error("no stage " + name);
}

}  // namespace

BOOST_AUTO_TEST_CASE(six_sessions_spread_over_two_workers) {
  cluster c;
  c.start_coordinator();
  c.start_worker("w1");
  c.start_worker("w2");
  session_factory f{c.sessions};
  auto r = c.client();
  std::vector<std::pair<std::string, fs::path>> jobs;
  for (int i = 0; i < 6; ++i) {
    auto dir = f.make("s" + std::to_string(i));
    auto job = r->submit(dir.string());
    BOOST_REQUIRE_MESSAGE(job, (job ? "" : job.err().message));
    jobs.emplace_back(job->id, dir);
  }
  std::set<std::string> nodes;
  for (auto& [id, dir] : jobs) {
    auto done = wait_done(*r, id, c);
    BOOST_TEST_CONTEXT("job " << id) {
      BOOST_TEST(to_string(done.state) == "completed", done.error);
      for (const auto& s : done.stages) {
        BOOST_TEST((s.node == "w1" || s.node == "w2"), s.name << " ran on \"" << s.node << "\"");
        nodes.insert(s.node);
      }
      // Paths come back in the coordinator's spelling, not the worker's mount.
      BOOST_TEST(done.output == (dir / "postroll/session.mp4").string());
      BOOST_TEST(decodes_cleanly(done.output));
      BOOST_TEST(fs::exists(dir / "postroll/enrichment/chapters.json"));
      BOOST_TEST(partial_files(dir).empty());
    }
  }
  BOOST_TEST(nodes.size() == 2u);
  auto listed = r->nodes();
  BOOST_REQUIRE(listed);
  std::uint64_t completed = 0;
  for (const auto& n : *listed) {
    BOOST_TEST(!n.local);
    BOOST_TEST(n.slots == 2);
    BOOST_TEST(n.completed > 0u);
    BOOST_TEST(n.paths.size() == 1u);
    completed += n.completed;
  }
  BOOST_TEST(completed == 6u * 7u);
  // The CLI shows them too.
  auto cli = run({postroll_binary().string(), "nodes", "--node", "127.0.0.1:" + std::to_string(c.port)});
  BOOST_TEST(cli.exit_code == 0);
  BOOST_TEST(cli.out.find("w1  worker") != std::string::npos, cli.out);
  BOOST_TEST(cli.out.find("w2  worker") != std::string::npos, cli.out);
  auto status = run({postroll_binary().string(), "status", jobs[0].first, "--node",
                     "127.0.0.1:" + std::to_string(c.port)});
  BOOST_TEST(std::regex_search(status.out, std::regex{"media.compress  completed  attempts 1  on w[12]"}), status.out);
}

BOOST_AUTO_TEST_CASE(a_worker_killed_mid_compress_hands_its_stage_to_the_other) {
  cluster c;
  c.start_coordinator();
  c.start_worker("w1");
  c.start_worker("w2");
  session_factory f{c.sessions};
  auto r = c.client();
  event_log log;
  auto sub = r->subscribe(log.sink());
  BOOST_REQUIRE(sub);
  auto dir = f.make("killed");
  auto job = r->submit(dir.string());
  BOOST_REQUIRE(job);
  auto victim = node_starting(log, "media.compress");
  BOOST_TEST_MESSAGE("killing " << victim << " as it starts media.compress");
  c.workers.at(victim)->signal(SIGKILL);
  c.workers.at(victim)->wait();
  auto done = wait_done(*r, job->id, c);
  BOOST_TEST(to_string(done.state) == "completed", done.error);
  const auto& compress = stage(done, "media.compress");
  BOOST_TEST(compress.attempts == 2);
  BOOST_TEST(compress.node != victim);
  BOOST_TEST(decodes_cleanly(done.output));
  BOOST_TEST(partial_files(dir).empty());
  BOOST_TEST(saw(*c.coordinator, "node " + victim + " was lost while running it", 1s));
}

BOOST_AUTO_TEST_CASE(a_stopped_worker_past_its_lease_cannot_overwrite_the_newer_attempt) {
  cluster c;
  c.lease_ms = 3000;  // short, with room for a loaded CI machine
  c.start_coordinator();
  c.start_worker("w1");
  c.start_worker("w2");
  session_factory f{c.sessions};
  auto r = c.client();
  event_log log;
  auto sub = r->subscribe(log.sink());
  BOOST_REQUIRE(sub);
  auto dir = f.make("stopped");
  auto job = r->submit(dir.string());
  BOOST_REQUIRE(job);
  auto stopped = node_starting(log, "media.compress");
  c.workers.at(stopped)->signal(SIGSTOP);
  auto done = wait_done(*r, job->id, c);
  BOOST_TEST(to_string(done.state) == "completed", done.error);
  const auto& compress = stage(done, "media.compress");
  BOOST_TEST(compress.attempts == 2);
  BOOST_TEST(compress.node != stopped);
  BOOST_TEST(saw(*c.coordinator, "node " + stopped + " let the lease of job " + job->id, 1s));
  auto hash = file_hash(done.output);
  auto mtime = fs::last_write_time(done.output);

  // Back: its attempt 1 is stopped or fenced, its result refused.
  c.workers.at(stopped)->signal(SIGCONT);
  BOOST_TEST(saw(*c.coordinator, "refused a stale result for job " + job->id + " stage media.compress attempt 1", 60s),
             c.coordinator->transcript());
  BOOST_TEST(file_hash(done.output) == hash);
  BOOST_TEST((fs::last_write_time(done.output) == mtime));
  BOOST_TEST(partial_files(dir).empty());
  BOOST_TEST(decodes_cleanly(done.output));

  // It serves again: with the other worker gone, the next job runs there.
  auto other = stopped == "w1" ? "w2" : "w1";
  c.workers.at(other)->signal(SIGKILL);
  c.workers.at(other)->wait();
  auto next = r->submit(f.make("after").string());
  BOOST_REQUIRE(next);
  auto finished = wait_done(*r, next->id, c);
  BOOST_TEST(to_string(finished.state) == "completed", finished.error);
  BOOST_TEST(stage(finished, "media.compress").node == stopped);
}

BOOST_AUTO_TEST_CASE(a_coordinator_killed_mid_run_readopts_what_workers_still_run) {
  cluster c;
  c.lease_ms = 4000;
  c.start_coordinator();
  c.start_worker("w1");
  c.start_worker("w2");
  session_factory f{c.sessions};
  std::vector<std::string> ids;
  {
    auto r = c.client();
    for (int i = 0; i < 3; ++i) {
      auto job = r->submit(f.make("k" + std::to_string(i)).string());
      BOOST_REQUIRE(job);
      ids.push_back(job->id);
    }
    r->stop();
  }
  // The transcript is the longest stage: kill the coordinator under it.
  bool started = false;
  for (int i = 0; i < 600 && !started; ++i)
    for (auto& [id, w] : c.workers)
      started = started || !w->wait_for_line([](const std::string& l) {
                               return l.find("enrich.audio_review attempt 1 started") != std::string::npos;
                             }, 50ms).empty();
  BOOST_REQUIRE(started);
  c.coordinator->signal(SIGKILL);
  c.coordinator->wait();
  c.start_coordinator();  // same port and database
  auto r = c.client();
  for (const auto& id : ids) {
    auto done = wait_done(*r, id, c);
    BOOST_TEST(to_string(done.state) == "completed", done.error);
    BOOST_TEST(decodes_cleanly(done.output));
  }
  BOOST_TEST(saw(*c.coordinator, "re-adopted job", 1s), c.coordinator->transcript());
  // Nothing ran twice to completion: each stage of each job is "done" in
  // exactly one worker's log.
  c.drain_all();
  for (const auto& id : ids)
    for (const auto& name : {"media.timeline", "media.merge", "media.compress", "enrich.audio_review",
                             "enrich.chapters", "enrich.summary", "enrich.canvas"}) {
      int done = 0;
      for (auto& [wid, w] : c.workers) {
        std::string needle = "job " + id + " " + name + " done in";
        for (auto pos = w->transcript().find(needle); pos != std::string::npos;
             pos = w->transcript().find(needle, pos + 1))
          ++done;
      }
      BOOST_TEST(done == 1, id << " " << name << " completed " << done << " times");
    }
}

BOOST_AUTO_TEST_CASE(a_worker_whose_mapped_root_is_missing_is_refused_by_name) {
  cluster c;
  c.start_coordinator();
  auto file = c.t / "bad.toml";
  write_file(file, "[node]\nrole = \"worker\"\nid = \"bad\"\ndata_dir = \"" + (c.t / "bad-db").string() +
                     "\"\n[cluster]\ncoordinator = \"127.0.0.1:" + std::to_string(c.port) +
                     "\"\npath_map = [\"" + c.sessions.string() + "=/mnt/not-mounted-here/sessions\"]\n" +
                     "[notify]\ndesktop = false\n");
  auto refused = run({postroll_binary().string(), "node", "--config", file.string()});
  BOOST_TEST(refused.exit_code == 2);
  BOOST_TEST(refused.err.find("/mnt/not-mounted-here/sessions") != std::string::npos, refused.err);
  BOOST_TEST(refused.err.find("does not exist") != std::string::npos, refused.err);
  // The coordinator keeps serving, and a good worker joins after it.
  auto r = c.client();
  BOOST_TEST(r->nodes()->empty());
  c.start_worker("good");
  BOOST_TEST(r->nodes()->size() == 1u);
}

BOOST_AUTO_TEST_CASE(tls_refuses_foreign_certificates_and_plain_clients) {
  temp_dir pki;
  // A CA and its node certificates, and a foreign CA with its own.
  auto make = [&](const std::string& ca, const std::vector<std::string>& nodes) {
    sh("cd '" + pki.path().string() + "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout " + ca +
       ".key -out " + ca + ".crt -days 2 -subj /CN=" + ca + " 2>/dev/null");
    for (const auto& n : nodes)
      sh("cd '" + pki.path().string() + "' && openssl req -newkey rsa:2048 -nodes -keyout " + n + ".key -out " + n +
         ".csr -subj /CN=" + n + " 2>/dev/null && openssl x509 -req -in " + n + ".csr -CA " + ca + ".crt -CAkey " +
         ca + ".key -CAcreateserial -out " + n + ".crt -days 2 2>/dev/null");
  };
  make("ca", {"coord", "good"});
  make("foreign", {"intruder"});
  auto tls = [&](const std::string& cert, const std::string& ca) {
    auto p = pki.path().string() + "/";
    return "[tls]\ncertificate = \"" + p + cert + ".crt\"\nkey = \"" + p + cert + ".key\"\nca = \"" + p + ca +
           ".crt\"\n";
  };
  cluster c;
  c.extra_coordinator = tls("coord", "ca");
  c.start_coordinator();
  // A worker with a certificate of a foreign CA: the handshake fails, it
  // never joins (it keeps retrying, as a worker does).
  child_process intruder{{postroll_binary().string(), "node", "--config",
                          c.worker_config("intruder", tls("intruder", "ca")).string()}};
  BOOST_TEST(saw(intruder, "no postroll node at", 30s), intruder.transcript());
  // A plain-TCP client: refused.
  auto plain = runtime::connect("127.0.0.1", c.port);
  BOOST_TEST(!plain);
  // The CA's own worker joins; a client with a CA-signed certificate talks.
  c.start_worker("good", tls("good", "ca"));
  config client_cfg;
  client_cfg.tls_certificate = (pki / "good.crt").string();
  client_cfg.tls_key = (pki / "good.key").string();
  client_cfg.tls_ca = (pki / "ca.crt").string();
  auto r = runtime::connect("127.0.0.1", c.port, client_cfg);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  auto listed = (*r)->nodes();
  BOOST_REQUIRE(listed);
  BOOST_REQUIRE(listed->size() == 1u);
  BOOST_TEST(listed->front().id == "good");
  intruder.drain();
  BOOST_TEST(intruder.transcript().find("joined the coordinator") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_deploy_files_are_valid) {
  for (const auto* name : {"coordinator.toml", "worker.toml", "standalone.toml"}) {
    auto cfg = load_config((source_dir() / "deploy" / name).string());
    BOOST_TEST(!!cfg, name << ": " << (cfg ? "" : cfg.err().message));
  }
  if (run({"sh", "-c", "command -v systemd-analyze"}).exit_code != 0) {
    BOOST_TEST_MESSAGE("systemd-analyze is not installed: unit not verified");
    return;
  }
  // Verified with the built binary in ExecStart (verify checks it exists).
  temp_dir t;
  auto unit = read_file(source_dir() / "deploy/postroll.service");
  unit = std::regex_replace(unit, std::regex{"/usr/bin/postroll"}, postroll_binary().string());
  write_file(t / "postroll.service", unit);
  auto v = run({"systemd-analyze", "verify", (t / "postroll.service").string()});
  BOOST_TEST(v.exit_code == 0, v.out << v.err);
  BOOST_TEST(v.err.empty(), v.err);
}

BOOST_AUTO_TEST_CASE(a_stage_that_kills_every_worker_it_touches_fails_the_job_with_a_reason) {
  cluster c;
  c.start_coordinator();
  // Every worker SIGKILLs itself when media.merge starts on it; three
  // workers for the three attempts (queue.max_attempts).
  ::setenv("POSTROLL_FAILPOINT", "stage.media.merge", 1);
  c.start_worker("w1");
  c.start_worker("w2");
  c.start_worker("w3");
  ::unsetenv("POSTROLL_FAILPOINT");
  session_factory f{c.sessions};
  auto r = c.client();
  auto job = r->submit(f.make("poison").string());
  BOOST_REQUIRE(job);
  auto done = wait_done(*r, job->id, c);
  BOOST_TEST(to_string(done.state) == "failed");
  const auto& merge = stage(done, "media.merge");
  BOOST_TEST(merge.attempts == 3);
  BOOST_TEST(done.error.find("media.merge") != std::string::npos, done.error);
  BOOST_TEST(done.error.find("was lost while running it") != std::string::npos, done.error);
  for (const auto& id : {"w1", "w2", "w3"})
    BOOST_TEST(c.workers.at(id)->wait() == 128 + SIGKILL);
}

BOOST_AUTO_TEST_CASE(a_compress_that_kills_every_worker_is_skipped_and_the_job_completes) {
  cluster c;
  c.start_coordinator();
  // Compression is an optimisation: after max_attempts lost workers the job
  // goes on with the playable file as merged (docs/compression.md).
  ::setenv("POSTROLL_FAILPOINT", "stage.media.compress", 1);
  c.start_worker("w1");
  c.start_worker("w2");
  c.start_worker("w3");
  ::unsetenv("POSTROLL_FAILPOINT");
  session_factory f{c.sessions};
  auto r = c.client();
  auto dir = f.make("poison-compress");
  postroll::submit_options so;
  so.enrich = false;  // no worker is left for it
  auto job = r->submit(dir.string(), so);
  BOOST_REQUIRE(job);
  auto done = wait_done(*r, job->id, c);
  BOOST_TEST(to_string(done.state) == "completed", done.error);
  const auto& compress = stage(done, "media.compress");
  BOOST_TEST(compress.attempts == 3);
  auto result = nlohmann::json::parse(compress.result);
  BOOST_TEST(result["skipped"] == true);
  BOOST_TEST(result["replaced"] == false);
  BOOST_TEST(result["reason"].get<std::string>().find("was lost while running it") != std::string::npos, result.dump());
  BOOST_TEST(decodes_cleanly(dir / "postroll/session.mp4"));
}
