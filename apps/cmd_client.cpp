#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/commands.hpp"
#include "apps/print.hpp"
#include "config/endpoint.hpp"
#include "session/manifest.hpp"
#include "storage/job_codec.hpp"

namespace fs = std::filesystem;

namespace postroll::cli {

namespace {

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

}  // namespace

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
    auto so = submit_options_for(a);
    if (!so)
      return fail(so.err());
    std::error_code ec;
    auto dir = fs::absolute(a.positional[0], ec).string();
    // The session id filters events before the job id is known.
    manifest_options mo;
    mo.recording = a.live;  // a recording just begun may list nothing yet
    auto m = load_manifest(dir, mo);
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
    print_history(*entries, a.json);
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

}  // namespace postroll::cli
