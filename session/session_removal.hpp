// Deleting what belongs to a session when its job is removed: the outputs
// (<session>/<output_dir>/), and, only when asked, the recording's own
// files named in session.json and session.json itself. Files the manifest
// does not name (a user's notes) stay, and so does a folder holding them.
// Idempotent: a run after a crash deletes what is left.
#pragma once

#include <filesystem>
#include <string>

#include "postroll/error.hpp"

namespace postroll {

maybe_error remove_session_files(const std::filesystem::path& session_dir, const std::string& output_dir,
                                 bool originals);

}  // namespace postroll
