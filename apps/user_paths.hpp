// Where the postroll command keeps its files, as Linux tools do (the XDG
// Base Directory specification): the job database in $XDG_STATE_HOME/postroll
// (~/.local/state/postroll), the user's config in
// $XDG_CONFIG_HOME/postroll/config.toml (~/.config/postroll/config.toml).
// The node as a system service names its own (/etc/postroll/node.toml,
// /var/lib/postroll): an explicit --config is the only file read then.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace postroll::cli {

/// $VAR when it holds an absolute path (the specification ignores relative
/// ones), else $HOME/`fallback` (HOME from the password database when the
/// environment has none). nullopt: no home to put it in.
std::optional<std::filesystem::path> xdg_dir(const char* var, const char* fallback);

/// $XDG_CONFIG_HOME/postroll/config.toml when that file exists.
std::optional<std::filesystem::path> user_config_file();

/// Which job database a command uses, and why (said in notices and by doctor).
struct data_dir_choice {
  std::filesystem::path path;
  /// "--data-dir", "FILE (node.data_dir)", "./.postroll (older postroll)"
  /// or "$XDG_STATE_HOME/postroll".
  std::string source;
  bool legacy = false;  ///< ./.postroll of an older version: say so once
};

/// Where the database is when neither --data-dir nor a config file says:
/// ./.postroll when a database of an older version is there (so nobody
/// loses jobs), else $XDG_STATE_HOME/postroll. nullopt: no home folder.
std::optional<data_dir_choice> default_data_dir();

/// A job database has been created in `dir` (RocksDB's CURRENT file).
bool holds_database(const std::filesystem::path& dir);

}  // namespace postroll::cli
