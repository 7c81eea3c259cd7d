// Who holds a job database: RocksDB locks <dir>/LOCK with a POSIX record
// lock for as long as a process has the database open, and the kernel
// tells any other process which one (F_GETLK). Messages name it, so a user
// learns *which* `postroll` to stop or talk to.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <sys/types.h>

namespace postroll {

struct lock_holder {
  pid_t pid = 0;
  std::string command;  ///< its command line, spaces between arguments ("" when unreadable)

  /// "pid 1234 (postroll node --config /etc/postroll/node.toml)".
  std::string describe() const;
};

/// The process holding the job database in `dir` open for writing, if one
/// does (never this process: its own locks do not conflict with itself).
std::optional<lock_holder> database_lock_holder(const std::filesystem::path& dir);

}  // namespace postroll
