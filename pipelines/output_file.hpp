// Crash-safe output files: every stage writes `NAME.partial`, fsyncs it and
// renames it over `NAME`, so a crash leaves the old file or the new one, never
// half of one.
#pragma once

#include <filesystem>

#include "postroll/error.hpp"

namespace postroll {

/// `<final>.partial`, where a stage writes before committing.
std::filesystem::path partial_path(const std::filesystem::path& final_path);

/// fsyncs the partial file, renames it to `final_path` and fsyncs the folder.
maybe_error commit_partial(const std::filesystem::path& final_path);

/// Deletes `<final>.partial` and any helper file beside it (ignored if absent).
void discard_partial(const std::filesystem::path& final_path);

/// Deletes every `*.partial*` file directly inside `dir` (left by a crash).
/// @returns how many were removed.
int remove_stale_partials(const std::filesystem::path& dir);

}  // namespace postroll
