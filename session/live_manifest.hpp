// A live session's manifest as postroll keeps it for a host that feeds the
// job through the API (runtime::append / end) instead of rewriting
// session.json itself: each call rewrites session.json atomically (a new
// file, fsynced, renamed over the old one, the folder fsynced) before it
// is acknowledged, so what was appended survives kill -9 and the follower
// and the batch stages read one contract (docs/session-format.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "postroll/error.hpp"
#include "postroll/job.hpp"
#include "session/manifest.hpp"

namespace postroll {

/// Adds `file` to `<dir>/session.json`. The file must exist inside the
/// folder (the same checks as the manifest's entries); the same path at the
/// same offset again changes nothing (a retried append). A manifest that
/// already carries `endedAt` is refused: the recording is over.
/// @returns `bad_input` naming the manifest or the file and the reason.
maybe_error append_to_manifest(const std::filesystem::path& dir, const live_file& file,
                               const manifest_options& options);

/// Writes `endedAt` (Unix ms) into `<dir>/session.json` (once: a manifest
/// that has one keeps it).
maybe_error end_manifest(const std::filesystem::path& dir, std::int64_t ended_at);

}  // namespace postroll
