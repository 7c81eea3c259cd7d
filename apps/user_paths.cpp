#include "apps/user_paths.hpp"

#include <cstdlib>

#include <pwd.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace postroll::cli {

std::optional<fs::path> xdg_dir(const char* var, const char* fallback) {
  if (const char* v = std::getenv(var); v && *v == '/')
    return fs::path{v};
  const char* home = std::getenv("HOME");
  if (!home || *home != '/') {
    // A service or cron job may run without HOME.
    const passwd* pw = getpwuid(getuid());
    home = pw && pw->pw_dir && *pw->pw_dir == '/' ? pw->pw_dir : nullptr;
  }
  if (!home)
    return std::nullopt;
  return fs::path{home} / fallback;
}

std::optional<fs::path> user_config_file() {
  auto dir = xdg_dir("XDG_CONFIG_HOME", ".config");
  if (!dir)
    return std::nullopt;
  std::error_code ec;
  auto file = *dir / "postroll" / "config.toml";
  if (!fs::is_regular_file(file, ec))
    return std::nullopt;
  return file;
}

bool holds_database(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "CURRENT", ec);
}

std::optional<data_dir_choice> default_data_dir() {
  std::error_code ec;
  auto legacy = fs::absolute(".postroll", ec);
  if (!ec && holds_database(legacy))
    return data_dir_choice{legacy, "./.postroll (older postroll)", true};
  auto state = xdg_dir("XDG_STATE_HOME", ".local/state");
  if (!state)
    return std::nullopt;
  return data_dir_choice{*state / "postroll", "$XDG_STATE_HOME/postroll", false};
}

}  // namespace postroll::cli
