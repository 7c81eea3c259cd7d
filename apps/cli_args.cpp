#include "apps/cli.hpp"

#include <algorithm>
#include <iostream>

#include "session/manifest.hpp"

namespace postroll::cli {

const char* usage = R"(usage: postroll COMMAND [ARGS]

  process DIR        finalize one session in the foreground (embedded runtime)
  watch DIR          the same for a recording still being made: follows DIR/session.json
                     as the recorder rewrites it, does the work as files arrive, and
                     finishes when the manifest carries endedAt (docs/session-format.md)
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
  --live             submit: the recording is still being made; the node follows
                     DIR/session.json until it carries endedAt (as watch does)
  --history          status JOB: every state transition with time and reason
  --outputs          delete: also delete what postroll wrote for the session
  --no-compress      process, watch, submit: keep the playable MP4 as merged (no media.compress)
  --no-enrich        process, watch, submit: no transcript, chapters, summary, canvas
  --retention R      process, submit: keep, trash or delete the originals once the job
                     completed (default: storage.retention; docs/storage.md)
  --reference FILE   process: a complete recording of the same recorder, to rebuild
                     a video whose index a killed recorder never wrote (docs/recovery.md)
  --log-level L      trace, debug, info, warn, error, off
)";

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
    } else if (s == "--live") {
      a.live = true;
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
  else if (!a.opt("config") && (a.command == "process" || a.command == "watch" || a.command == "submit"))
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

result<submit_options> submit_options_for(const args& a) {
  submit_options so;
  if (auto p = a.opt("priority"); p && !parse(*p, so.prio))
    return error{errc::bad_input, "--priority: unknown value " + *p};
  if (a.no_compress)
    so.compress = false;
  if (a.no_enrich)
    so.enrich = false;
  if (auto r = a.opt("retention"))
    so.retention = *r;
  so.live = a.live;
  return so;
}

}  // namespace postroll::cli
