// The postroll command's plumbing: its arguments, exit codes, and turning
// errors into one line on stderr.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

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

  std::optional<std::string> opt(const std::string& k) const {
    auto it = options.find(k);
    return it == options.end() ? std::nullopt : std::optional<std::string>{it->second};
  }
};

/// @returns nullopt (print the usage) for -h, an unknown option or no command.
std::optional<args> parse_args(int argc, char** argv);
/// Config from --config, then flags on top.
result<config> make_config(const args& a);
/// The per-job choices of process/submit: --priority, --no-compress,
/// --no-enrich, --retention.
result<submit_options> submit_options_for(const args& a);
/// One line on stderr; the exit code for the error.
int fail(const error& e);

}  // namespace postroll::cli
