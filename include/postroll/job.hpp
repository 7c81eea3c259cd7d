// Job records: what postroll knows about one run of one session.
#pragma once

#include "postroll/export.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "postroll/error.hpp"

namespace postroll {

/// Unix ms now: the clock of job records (created_at, updated_at, stage
/// times) and events.
inline std::int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Life of a job and of each of its stages.
enum class job_state : std::uint8_t {
  pending,     ///< accepted, waiting for a worker (or for a retry's backoff)
  processing,  ///< a stage is running
  completed,   ///< every stage completed
  failed,      ///< a stage failed for good; `error` says why
  cancelled,   ///< cancelled on request
};

/// Dispatch order: high before normal before low, FIFO within one.
enum class priority : std::uint8_t { high = 0, normal = 1, low = 2 };

POSTROLL_API const char* to_string(job_state s) noexcept;
POSTROLL_API const char* to_string(priority p) noexcept;
/// Parses "pending", "processing", ... @returns false for unknown text.
POSTROLL_API bool parse(const std::string& text, job_state& out) noexcept;
/// Parses "high", "normal", "low". @returns false for unknown text.
POSTROLL_API bool parse(const std::string& text, priority& out) noexcept;

/// @returns true for completed, failed and cancelled.
inline bool is_terminal(job_state s) noexcept {
  return s == job_state::completed || s == job_state::failed || s == job_state::cancelled;
}

/// One step of a job, e.g. "media.timeline" or "media.merge".
struct stage_record {
  std::string name;
  job_state state = job_state::pending;
  int attempts = 0;                 ///< runs started, including a crashed one (the fencing number)
  /// Runs stopped for a higher-priority job: they do not count against
  /// the attempt limit (attempts - preemptions is what was used up).
  int preemptions = 0;
  std::int64_t started_at = 0;      ///< Unix ms of the last start, 0 if never
  std::int64_t finished_at = 0;     ///< Unix ms, 0 while not finished
  std::int64_t not_before = 0;      ///< Unix ms: retry backoff, 0 = now
  std::string error;                ///< last failure, empty if none
  std::string result;               ///< JSON object the stage returned
  /// Stages that must complete before this one may start. Stages without
  /// a dependency on each other run in parallel (enrich.audio_review and
  /// enrich.chapters); records written before this field existed get
  /// "every earlier stage".
  std::vector<std::string> needs;
  /// The node that runs (or last ran) this stage: a worker's node id, or
  /// the coordinator's own ("" before it first started).
  std::string node;
};

/// One run of one session through its stages.
struct job_record {
  std::string id;
  std::string session_id;
  std::string session_dir;  ///< absolute path
  std::string session_name;
  job_state state = job_state::pending;
  priority prio = priority::normal;
  std::int64_t created_at = 0;  ///< Unix ms
  std::int64_t updated_at = 0;  ///< Unix ms
  std::vector<stage_record> stages;
  std::string error;            ///< why the job failed, names stage and file
  errc error_code = errc::internal;  ///< meaningful when state is failed
  bool cancel_requested = false;
  std::string output;           ///< the playable file, once media-ready
  std::int64_t media_bytes = 0; ///< size of the session's video and audio files
  std::int64_t bytes_written = 0;    ///< what postroll's outputs take, measured when the job completed
  std::int64_t bytes_reclaimed = 0;  ///< what retention freed (deleted originals)
  std::string waiting;          ///< why a ready job does not start (e.g. disk space); not persisted
  /// A removal in progress (persisted before the first file goes; the
  /// record itself goes last): 1 the outputs, 2 the outputs and the
  /// recording's files. 0 otherwise.
  std::uint8_t removing = 0;
  /// A live job whose recording is still being made: files are appended as
  /// the recorder writes them and live.record follows them; it turns false
  /// when the recording ends and the job goes on as a batch job would.
  bool live = false;
};

/// What `runtime::remove` deletes besides the job's record and history.
enum class removal : std::uint8_t {
  record = 0,    ///< only the record
  outputs = 1,   ///< and what postroll wrote (<session>/postroll/)
  everything = 2 ///< and the recording's files named in session.json, and session.json
};

/// One state transition of a job, as the journal keeps it.
struct journal_entry {
  std::uint64_t seq = 0;   ///< global, monotonic across all jobs
  std::int64_t time = 0;   ///< Unix ms
  std::string from;        ///< state before ("" when the job was created)
  std::string to;          ///< state after
  std::string reason;      ///< why, e.g. "media.merge completed"
  std::string job_id;      ///< whose transition
  std::string session_id;
};

/// How many jobs are in each state (indexed by `job_state`).
/// Per-job choices for submit; an unset one follows the node's config.
struct submit_options {
  priority prio = priority::normal;
  std::optional<bool> compress;  ///< run media.compress (re-encode the playable MP4 smaller)
  std::optional<bool> enrich;    ///< run the enrich.* stages (transcript, chapters, summary, canvas)
  /// The originals once the job completed: "keep", "trash" (moved to the
  /// session's trash, purged later) or "delete"; "" follows the config.
  std::string retention;
  /// Open the job while the recording is made (runtime::open_live): it
  /// follows the folder's session.json until that carries `endedAt`.
  bool live = false;
};

/// A file a live job is fed (runtime::append_file): one the recorder has
/// finished writing (or, for the screen video, started: it may grow).
struct live_file {
  std::string kind;            ///< "audio", "video" or "screenshot"
  std::string path;            ///< relative to the session folder
  std::int64_t offset_ms = 0;  ///< where it starts on the session timeline
};

struct job_counts {
  std::uint64_t by_state[5] = {0, 0, 0, 0, 0};
  std::uint64_t operator[](job_state s) const { return by_state[size_t(s)]; }
};

/// The record as a JSON object (the schema in docs/architecture.md).
POSTROLL_API std::string to_json(const job_record& job);
/// Reads a record written by to_json.
POSTROLL_API result<job_record> job_from_json(const std::string& text);

}  // namespace postroll
