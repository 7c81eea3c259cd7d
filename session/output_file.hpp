// Crash-safe output files: every stage writes `NAME.partial`, fsyncs it and
// renames it over `NAME`, so a crash leaves the old file or the new one, never
// half of one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <functional>
#include <iosfwd>
#include <string>

#include "postroll/error.hpp"

namespace postroll {

/// `<final>.partial.<thread id>`, where a stage writes before committing
/// (per thread, so two attempts of a stage never share one).
std::filesystem::path partial_path(const std::filesystem::path& final_path);

/// fsyncs the partial file, renames it to `final_path` and fsyncs the folder.
/// Asks this thread's commit gate first (see commit_gate_scope): a fenced
/// attempt gets the gate's error and its partial file stays uncommitted.
maybe_error commit_partial(const std::filesystem::path& final_path);

/// A check made before every rename of a partial file on this thread: a
/// stage attempt on a worker node asks the coordinator whether it still
/// owns its lease, so a worker that was stopped past its lease never
/// overwrites the newer attempt's output (docs/scale-out.md).
using commit_gate = std::function<maybe_error(const std::filesystem::path& final_path)>;

/// Installs `gate` for the current thread while the scope lives.
class commit_gate_scope {
public:
  explicit commit_gate_scope(commit_gate gate);
  ~commit_gate_scope();
  commit_gate_scope(const commit_gate_scope&) = delete;
  commit_gate_scope& operator=(const commit_gate_scope&) = delete;

private:
  commit_gate previous_;
};

/// Deletes this thread's `<final>.partial.<tid>` (ignored if absent).
void discard_partial(const std::filesystem::path& final_path);

/// Deletes every thread's partial file of `final_path` (left by a killed
/// process or a given-up attempt): what a new attempt does first.
void discard_all_partials(const std::filesystem::path& final_path);

/// Runs `produce(partial)` (which returns a result<T>) and commits the
/// partial file when it succeeds; removes it on any failure, so nothing
/// half-written is ever left behind.
template <class Produce>
auto write_atomically(const std::filesystem::path& final_path, Produce&& produce)
  -> decltype(produce(std::filesystem::path{})) {
  discard_all_partials(final_path);
  auto out = produce(partial_path(final_path));
  if (!out) {
    discard_partial(final_path);
    return out;
  }
  if (auto err = commit_partial(final_path)) {
    discard_partial(final_path);
    return *err;
  }
  return out;
}

/// A library's "no space left" error (GStreamer says "No space left on the
/// resource") said as what it is, naming the folder that filled up and what
/// is free there; any other message unchanged.
std::string disk_full_message(const std::string& message, const std::filesystem::path& folder);
/// A stage's result with a full disk said as disk_full_message says it.
result<std::string> naming_full_disk(result<std::string> out, const std::filesystem::path& folder);

/// Bytes free for this user on the volume that holds `dir` (statvfs);
/// nullopt when that cannot be told. Each caller says what unknown means.
std::optional<std::int64_t> volume_free_bytes(const std::filesystem::path& dir);

/// Bytes of the regular files under `dir` (0 when it does not exist).
std::int64_t folder_bytes(const std::filesystem::path& dir);

/// "12.3 MB": a size as messages and the CLI say it (decimal megabytes).
std::string megabytes(std::int64_t bytes);

/// Copies the first `bytes` of `in` to `out`. @returns the bytes copied
/// (fewer when `in` ends first).
std::int64_t copy_prefix(std::istream& in, std::ostream& out, std::int64_t bytes);

/// fsyncs a file and the folder holding it (after a rename into it, too).
maybe_error sync_file_and_folder(const std::filesystem::path& file);

/// Writes `text` to `file` crash-safely (partial, fsync, rename).
maybe_error write_file_atomically(const std::filesystem::path& file, const std::string& text);

/// Deletes every `*.partial*` file directly inside `dir` (left by a crash).
/// @returns how many were removed.
int remove_stale_partials(const std::filesystem::path& dir);

/// Starts writeback of a file while it is still being written, so that the
/// fsync in commit_partial() finds little left to do (a 270 MB remux
/// otherwise waits ~1 s for the disk at the end). Best effort: errors are
/// ignored, durability still comes from commit_partial().
class early_writeback {
public:
  explicit early_writeback(std::filesystem::path file) : file_(std::move(file)) {}
  ~early_writeback();
  early_writeback(const early_writeback&) = delete;
  early_writeback& operator=(const early_writeback&) = delete;
  /// Queues the dirty pages written so far for writing (does not wait).
  void kick();

private:
  std::filesystem::path file_;
  int fd_ = -1;
};

}  // namespace postroll
