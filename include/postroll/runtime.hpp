// postroll's C++ API: a handle on a runtime, either started inside this
// process (`start`) or a node's, reached over the network (`connect`). Both
// offer the same calls. No CAF, GStreamer or RocksDB type appears here.
#pragma once

#include "postroll/export.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <optional>

#include "postroll/config.hpp"
#include "postroll/error.hpp"
#include "postroll/event.hpp"
#include "postroll/job.hpp"
#include "postroll/node.hpp"

namespace postroll {

class subscription;

/// Which jobs runtime::list returns, newest first.
struct list_filter {
  std::optional<job_state> state;  ///< only jobs in this state
  std::string session_id;          ///< only this session's jobs ("" = any)
  std::uint32_t limit = 50;        ///< at most this many
  std::string cursor;              ///< from job_page::next, to continue ("" = from the newest)
};

/// One page of a listing.
struct job_page {
  std::vector<job_record> jobs;
  std::string next;  ///< cursor for the following page; "" when this was the last
};

/// A running postroll runtime (or a connection to one). Non-copyable and
/// non-movable; the destructor stops it (see stop()). Every call is safe from
/// any thread.
class POSTROLL_API runtime {
public:
  /// Starts the actors in this process with `cfg` (RocksDB in cfg.data_dir).
  /// @returns the runtime, or an error when the config is invalid or the job
  ///          database cannot be opened.
  static result<std::unique_ptr<runtime>> start(const config& cfg);

  /// The same with a TOML config file (the node's keys, docs/configuration.md).
  /// @returns `errc::bad_input` naming the file, line and key of a bad setting.
  static result<std::unique_ptr<runtime>> start(const std::string& config_path);

  /// Connects to a node started with `postroll node` at host:port.
  static result<std::unique_ptr<runtime>> connect(const std::string& host, std::uint16_t port);

  /// The same over the transport `cfg` sets up: TLS with its [tls]
  /// certificate, key and CA when present (nodes off loopback).
  static result<std::unique_ptr<runtime>> connect(const std::string& host, std::uint16_t port, const config& cfg);

  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // --- jobs ---------------------------------------------------------------

  /// Validates the session folder and accepts a job for it. A session that
  /// already has a live (pending or processing) job gets that job back.
  /// @returns the job, or `errc::bad_input` naming the file and the reason.
  result<job_record> submit(const std::string& session_dir, priority prio = priority::normal);

  /// The same, with per-job choices (unset ones follow the node's config).
  result<job_record> submit(const std::string& session_dir, const submit_options& options);

  // --- live jobs (docs/session-format.md: "Live sessions") ------------------

  /// Opens a live job for a session whose recording is being made: the
  /// folder's session.json must exist (its id at least) and may list no
  /// file yet. The job follows the manifest (live.record) until it carries
  /// `endedAt`, doing per-file work as files are listed; then it goes on as
  /// a submitted job would, reusing that work. Files come either from
  /// append_file (postroll rewrites session.json) or from a recorder that
  /// rewrites session.json itself by atomic rename — not both.
  /// @returns the job (`live` set), or `errc::bad_input` naming the file.
  result<job_record> open_live(const std::string& session_dir, const submit_options& options = {});

  /// Lists a file the recorder finished in the live job's session.json
  /// (written and fsynced before this returns). Appending the same path at
  /// the same offset again changes nothing.
  /// @returns the job, or `bad_input` (not live, the file is outside the
  ///          folder or missing, the offset out of range).
  result<job_record> append_file(const std::string& job_id, const live_file& file);

  /// The recording is over: session.json gets `endedAt`; the job finishes
  /// what is left (the final mux, compression, summary, canvas).
  result<job_record> end_recording(const std::string& job_id);

  /// @returns the job's current record, or `errc::not_found`.
  result<job_record> status(const std::string& job_id);

  /// @returns up to `limit` jobs, newest first.
  result<std::vector<job_record>> list(std::uint32_t limit = 50);

  /// A page of the jobs matching `filter`, newest first (no full scan of
  /// the table per page: the creation index is walked from the cursor).
  result<job_page> list(const list_filter& filter);

  /// Every state transition of the job, oldest first, with time and reason.
  result<std::vector<journal_entry>> history(const std::string& job_id);

  /// The global journal (every job's state transitions) after sequence
  /// number `after`, oldest first, at most `limit` entries. Sequence
  /// numbers are monotonic and persisted: an event stream that resumes
  /// from the last one it saw misses nothing and repeats nothing.
  result<std::vector<journal_entry>> journal(std::uint64_t after, std::uint32_t limit = 1000);

  /// Every node serving this runtime's queue (its own workers included),
  /// with capabilities, load and the leases it holds.
  result<std::vector<node_summary>> nodes();

  /// How many jobs are in each state (answered from memory, no scan).
  result<job_counts> counts();

  /// Cancels a pending job at once, a running one within a second (its
  /// partial output is deleted). @returns the record as it is now.
  result<job_record> cancel(const std::string& job_id);

  /// Re-runs a failed or cancelled job from its first unfinished stage.
  result<job_record> retry(const std::string& job_id);

  /// Deletes a finished (completed, failed or cancelled) job and its history.
  /// With `with_outputs`, also what postroll wrote into the session folder
  /// (`<session>/postroll/`, refused while another job of the session is
  /// live); the recording itself is never deleted. @returns the deleted record.
  result<job_record> remove(const std::string& job_id, bool with_outputs = false);

  /// Removes a job and, as `what` says, the session's outputs and its
  /// recording. A live job is cancelled first (this waits until it ended).
  /// Crash-safe: the removal is persisted before the first file goes and
  /// finished at the next start if the node dies; the record goes last.
  /// @returns the record as the removal started (`removing` set when files go).
  result<job_record> remove(const std::string& job_id, removal what);

  /// Blocks until the job is completed, failed or cancelled, or `timeout`
  /// passes (`errc::unavailable` then). @returns the final record.
  result<job_record> wait(const std::string& job_id, std::chrono::milliseconds timeout);

  // --- events -------------------------------------------------------------

  /// Calls `callback` for every event from now on, in order, on a thread the
  /// runtime owns (never a thread of the caller's). Events stop when the
  /// returned subscription is destroyed.
  result<subscription> subscribe(std::function<void(const event&)> callback);

  // --- serving ------------------------------------------------------------

  /// Makes this runtime reachable by `connect` (and `postroll submit`...) on
  /// host:port; port 0 lets the OS pick. @returns the port listened on.
  result<std::uint16_t> listen(const std::string& host, std::uint16_t port);

  /// Stops the actors. Running stages are cancelled; their jobs stay
  /// durable and resume at the next start. Idempotent.
  void stop();

  /// Graceful stop: no new stage starts; running stages may finish for up
  /// to `grace`; then stop() (what still runs is cancelled and resumes at
  /// the next start).
  void stop(std::chrono::milliseconds grace);

  struct impl;

private:
  explicit runtime(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Keeps an event subscription alive; destroying it unsubscribes.
class POSTROLL_API subscription {
public:
  subscription() = default;
  subscription(subscription&&) noexcept;
  subscription& operator=(subscription&&) noexcept;
  ~subscription();
  /// Unsubscribes now; no callback runs after this returns.
  void reset();

  struct state;

private:
  friend class runtime;
  explicit subscription(std::shared_ptr<state> s);
  std::shared_ptr<state> state_;
};

}  // namespace postroll
