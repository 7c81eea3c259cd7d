// The postroll command's plumbing: its arguments, exit codes, and turning
// errors into one line on stderr.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "apps/user_paths.hpp"
#include "postroll/config.hpp"
#include "postroll/job.hpp"

namespace postroll::cli {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_bad_input = 2;

extern const char* usage;

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
  bool live = false;  ///< submit --live: the node follows a recording being made
  bool with_files = false;
  bool resume = false;
  bool version = false;  ///< --version (whatever else is on the line)
  bool help = false;     ///< -h, --help  ///< process/watch/submit --resume: only go on with an unfinished job

  std::optional<std::string> opt(const std::string& k) const {
    auto it = options.find(k);
    return it == options.end() ? std::nullopt : std::optional<std::string>{it->second};
  }
};

/// @returns nullopt (print the usage, exit 2) for an unknown option or no
///          command; -h/--help and --version make the command "help" and "version".
std::optional<args> parse_args(int argc, char** argv);
/// The config a command runs with, and where it came from.
struct resolved_config {
  config cfg;
  std::string config_file;   ///< the file read: --config, else the user's ("" = none)
  data_dir_choice data_dir;  ///< cfg.data_dir (absolute) and why it is that one
};
/// Defaults, then --config FILE (else $XDG_CONFIG_HOME/postroll/config.toml
/// when present), then flags; the data folder as user_paths.hpp says.
result<resolved_config> resolve_config(const args& a);
/// resolve_config's config; says once on stderr when the data folder is an
/// older version's ./.postroll.
result<config> make_config(const args& a);
/// Says on stderr that the data folder is an older version's ./.postroll.
void say_legacy_data_dir(const resolved_config& rc);
/// The per-job choices of process/submit: --priority, --no-compress,
/// --no-enrich, --retention.
result<submit_options> submit_options_for(const args& a);
/// One line on stderr; the exit code for the error.
int fail(const error& e);

}  // namespace postroll::cli
