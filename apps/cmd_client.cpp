#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/commands.hpp"
#include "apps/job_reader.hpp"
#include "apps/print.hpp"
#include "config/endpoint.hpp"
#include "session/manifest.hpp"
#include "storage/job_codec.hpp"
#include "storage/job_store.hpp"
#include "storage/lock_holder.hpp"

namespace fs = std::filesystem;

namespace postroll::cli {

namespace {

// Where the node is: --node, else the config's host/port (or the endpoint
// file a node with port 0 wrote), else the default.
result<std::pair<std::string, std::uint16_t>> node_address(const args& a, const config& cfg) {
  std::string text;
  if (auto n = a.opt("node")) {
    text = *n;
  } else {
    text = cfg.host + ":" + std::to_string(cfg.port);
    std::ifstream endpoint{fs::path{cfg.data_dir} / "node.endpoint"};
    if (cfg.port == 0 && endpoint)
      std::getline(endpoint, text);
  }
  auto endpoint = parse_endpoint(text);
  if (!endpoint)
    return error{errc::bad_input, "node address must be HOST:PORT, got " + text};
  return *endpoint;
}

std::string address_text(const std::pair<std::string, std::uint16_t>& addr) {
  return addr.first + ":" + std::to_string(addr.second);
}

bool need_one(const args& a) {
  if (a.positional.size() == 1)
    return true;
  std::cerr << "postroll " << a.command << ": needs exactly one argument\n";
  return false;
}

// `status` through any reader: counts and the newest jobs, or one job
// (with --history, its every transition).
int show_status(const args& a, job_reader& r) {
  if (a.positional.empty()) {
    auto jobs = r.list(50);
    if (!jobs)
      return fail(jobs.err());
    auto counts = r.counts();
    if (!counts)
      return fail(counts.err());
    if (a.json) {
      auto arr = nlohmann::json::array();
      for (const auto& j : *jobs)
        arr.push_back(to_json_value(j));
      std::cout << arr.dump(2) << "\n";
      return exit_ok;
    }
    for (auto s : {job_state::pending, job_state::processing, job_state::completed, job_state::failed,
                   job_state::cancelled})
      std::cout << (s == job_state::pending ? "" : "  ") << to_string(s) << " " << (*counts)[s];
    std::cout << "\n";
    for (const auto& j : *jobs)
      std::cout << j.id << "  " << to_string(j.state) << "  " << j.session_id << "  "
                << (j.output.empty() ? j.error : j.output) << "\n";
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
  print_history(*entries, a.json);
  return exit_ok;
}

// cancel, delete, remove: the job as the command left it.
int change_job(const args& a, runtime& r) {
  if (!need_one(a))
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

int submit_to_node(const args& a, runtime& r, signal_waiter& sig) {
  if (!need_one(a))
    return exit_bad_input;
  auto so = submit_options_for(a);
  if (!so)
    return fail(so.err());
  std::error_code ec;
  auto dir = fs::absolute(a.positional[0], ec).string();
  // The session id filters events before the job id is known.
  manifest_options mo;
  mo.recording = a.live;  // a recording just begun may list nothing yet
  auto m = load_manifest(dir, mo);
  if (m && a.resume)
    if (auto err = check_resumable(r, *m))
      return fail(*err);
  job_follower follower{r, m ? m->id : std::string{}, true};
  if (a.wait)
    if (auto err = follower.subscribe())
      return fail(*err);
  auto job = r.submit(dir, *so);
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

// No node answered: the commands that have a meaning without one work on
// this machine's job database. Reading never waits for its holder (a
// read-only view); changing it needs the database to itself, and `retry`
// then runs the job here in the foreground, as `process` would.
int use_local_database(const args& a, const resolved_config& rc, const std::string& no_node, signal_waiter& sig) {
  const auto& dir = rc.data_dir.path;
  if (!holds_database(dir))
    return fail(error{errc::unavailable, no_node + ", and no job database in " + dir.string() +
                                           " yet: run a session with `postroll process DIR`, or start a node "
                                           "with `postroll node`"});
  auto holder = database_lock_holder(dir);
  if (a.command == "status") {
    auto store = job_store::open_read_only(dir);
    if (!store)
      return fail(store.err());
    std::cerr << "postroll: " << no_node << "; reading the job database in " << dir.string()
              << (holder ? " (read-only: in use by " + holder->describe() + ")" : std::string{}) << "\n";
    auto reader = read_through(std::move(*store));
    return show_status(a, *reader);
  }
  if (holder)
    return fail(error{errc::unavailable, no_node + ", and the job database in " + dir.string() + " is in use by " +
                                           holder->describe() + ", which takes no commands: stop it (Ctrl-C ends "
                                           "a `postroll process`; its job resumes later), then run this again"});
  std::cerr << "postroll: " << no_node << "; using the job database in " << dir.string() << "\n";
  if (a.command == "retry") {
    if (!need_one(a))
      return exit_bad_input;
    auto rt = runtime::start(rc.cfg);
    if (!rt)
      return fail(rt.err());
    auto before = (*rt)->status(a.positional[0]);
    if (!before)
      return fail(before.err());
    job_follower follower{**rt, before->session_id, true};
    if (auto err = follower.subscribe())
      return fail(*err);
    auto job = (*rt)->retry(a.positional[0]);
    if (!job)
      return fail(job.err());
    return follow_to_the_end(a, **rt, follower, *job, sig);
  }
  // A runtime that runs nothing: the queue records the change (cancel,
  // delete, remove) as it would on a node; pending jobs stay pending.
  config idle = rc.cfg;
  idle.media_workers = 0;
  idle.enrich_workers = 0;
  idle.live_workers = 0;
  idle.compress = false;  // no encoder is chosen for a runtime that encodes nothing
  auto rt = runtime::start(idle);
  if (!rt)
    return fail(rt.err());
  return change_job(a, **rt);
}

}  // namespace

int cmd_client(const args& a, signal_waiter& sig) {
  auto rc = resolve_config(a);
  if (!rc)
    return fail(rc.err());
  auto addr = node_address(a, rc->cfg);
  if (!addr)
    return fail(addr.err());
  // The transport is the config's: its [tls], for nodes off loopback.
  auto rt = runtime::connect(addr->first, addr->second, rc->cfg);
  if (!rt) {
    auto no_node = rt.err().message;
    // Asked for that node by name, or a command only a node can do.
    bool local = !a.opt("node") && rc->cfg.role != "worker" && a.command != "submit" && a.command != "nodes";
    if (!local)
      return fail(error{rt.err().code, no_node + " — start one with `postroll node`, or run a session here "
                                                 "with `postroll process DIR`"});
    say_legacy_data_dir(*rc);
    return use_local_database(a, *rc, no_node, sig);
  }
  std::cerr << "postroll: node " << address_text(*addr) << "\n";
  auto& r = **rt;
  if (a.command == "nodes")
    return print_nodes(r, a.json);
  if (a.command == "submit")
    return submit_to_node(a, r, sig);
  if (a.command == "status") {
    auto reader = read_through(r);
    return show_status(a, *reader);
  }
  return change_job(a, r);
}

}  // namespace postroll::cli
