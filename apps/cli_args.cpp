#include "apps/cli.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "apps/user_paths.hpp"
#include "session/manifest.hpp"

namespace fs = std::filesystem;

namespace postroll::cli {

const char* usage = R"(usage: postroll COMMAND [ARGS] [OPTIONS]

commands:
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
  doctor             check that this machine has what postroll needs (GStreamer
                     plugins, encoders, models, the job database, disk) and say
                     what to apt install for anything missing
  help               this text (also -h, --help)
  version            the version, commit, libraries and encoders (also -V, --version)

  status, cancel, retry, delete and remove talk to the node (--node, else the
  config's, else 127.0.0.1:7411); when none answers they use the job database
  here: read-only while another postroll holds it, and retry then runs the job
  in the foreground as process does.

options:
  --config FILE      TOML config (docs/configuration.md); without it,
                     $XDG_CONFIG_HOME/postroll/config.toml when that exists
  --data-dir DIR     job database folder (default: node.data_dir of the config,
                     else $XDG_STATE_HOME/postroll, i.e. ~/.local/state/postroll)
  --node HOST:PORT   node to talk to (default: from --config, else 127.0.0.1:7411)
  --port PORT        node: listen on this port (overrides node.port)
  --priority P       high, normal or low (submit, process)
  --json             print records as JSON (also version and doctor)
  --wait             submit: wait for the job to end, showing progress
  --resume           process, watch, submit: only go on with the session's unfinished
                     job (one a kill or Ctrl-C left); refuse when there is none
  --live             submit: the recording is still being made; the node follows
                     DIR/session.json until it carries endedAt (as watch does)
  --history          status JOB: every state transition with time and reason
  --outputs          delete: also delete what postroll wrote for the session
  --with-files       remove: also delete the recording's files and session.json
  --no-compress      process, watch, submit: keep the playable MP4 as merged (no media.compress)
  --no-enrich        process, watch, submit: no transcript, chapters, summary, canvas
  --retention R      process, submit: keep, trash or delete the originals once the job
                     completed (default: storage.retention; docs/storage.md)
  --reference FILE   process: a complete recording of the same recorder, to rebuild
                     a video whose index a killed recorder never wrote (docs/recovery.md)
  --log-level L      trace, debug, info, warn, error, off

exit status: 0 done, 2 bad input (one line names the file and the reason),
1 anything else. Manual: man postroll.
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
    } else if (s == "--resume") {
      a.resume = true;
    } else if (s == "-h" || s == "--help") {
      a.help = true;
    } else if (s == "--version" || s == "-V") {
      a.version = true;
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
  if (a.help)
    a.command = "help";
  else if (a.version)
    a.command = "version";
  if (a.command.empty())
    return std::nullopt;
  return a;
}

result<resolved_config> resolve_config(const args& a) {
  resolved_config r;
  // The data folder a file or flag does not name: found before the file
  // is read, so that the file's own data_dir wins over it.
  auto fallback = default_data_dir();
  config base;
  if (fallback)
    base.data_dir = fallback->path.string();
  // A command in a terminal prints its result and a progress bar, not the
  // runtime's log (unless --log-level or the config file asks for it); a
  // node logs at info.
  if (a.command != "node")
    base.log_level = "warn";
  if (auto path = a.opt("config")) {
    r.config_file = *path;
  } else if (auto user = user_config_file()) {
    r.config_file = user->string();
  }
  if (!r.config_file.empty()) {
    auto loaded = load_config(r.config_file, base);
    if (!loaded)
      return loaded.err();
    r.cfg = *loaded;
  } else {
    r.cfg = base;
  }
  if (auto d = a.opt("data-dir")) {
    r.cfg.data_dir = *d;
    r.data_dir.source = "--data-dir";
  } else if (!fallback || r.cfg.data_dir != base.data_dir) {
    r.data_dir.source = r.config_file + " (node.data_dir)";
  } else {
    r.data_dir = *fallback;
  }
  if (!fallback && !a.opt("data-dir") && r.cfg.data_dir == config{}.data_dir)
    return error{errc::bad_input, "no home folder to keep the job database in ($HOME is not set): pass --data-dir DIR"};
  std::error_code ec;
  r.data_dir.path = fs::absolute(r.cfg.data_dir, ec);
  if (!ec)
    r.cfg.data_dir = r.data_dir.path.string();
  auto& cfg = r.cfg;
  if (a.no_compress)
    cfg.compress = false;  // also spares choosing an encoder at start-up
  if (a.no_enrich)
    cfg.enrich = false;
  if (auto ref = a.opt("reference"))
    cfg.repair_reference = *ref;
  if (auto l = a.opt("log-level"))
    cfg.log_level = *l;
  if (auto p = a.opt("port")) {
    try {
      cfg.port = static_cast<std::uint16_t>(std::stoul(*p));
    } catch (...) {
      return error{errc::bad_input, "--port: not a number: " + *p};
    }
  }
  if (auto err = validate(cfg))
    return *err;
  return r;
}

void say_legacy_data_dir(const resolved_config& rc) {
  if (rc.data_dir.legacy)
    std::cerr << "postroll: using the job database in " << rc.data_dir.path.string()
              << " (an older postroll's place); move it to $XDG_STATE_HOME/postroll "
                 "(~/.local/state/postroll) to use it from every folder\n";
}

result<config> make_config(const args& a) {
  auto r = resolve_config(a);
  if (!r)
    return r.err();
  say_legacy_data_dir(*r);
  return r->cfg;
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
