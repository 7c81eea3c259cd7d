// Message types exchanged between postroll's actors, and between nodes.
// Every type here is serializable (an `inspect` overload) so that a stage
// order can cross the middleman to a worker on another machine unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "postroll/event.hpp"
#include "postroll/job.hpp"
#include "postroll/node.hpp"

namespace postroll {

/// A failure as it crosses actors and nodes: postroll's error kind and its
/// one-line message, one typed value in every reply (`failed` false: none).
struct fault {
  bool failed = false;
  errc code = errc::internal;
  std::string message;

  static fault of(const error& e) { return fault{true, e.code, e.message}; }
  static fault of(errc code, std::string message) { return fault{true, code, std::move(message)}; }
  explicit operator bool() const { return failed; }
  /// @pre failed
  error err() const { return error{code, message}; }
};

/// Client -> queue: a session to run, with per-job choices.
struct submit_request {
  std::string session_dir;
  std::string priority;       ///< "high", "normal", "low" ("" = normal)
  std::int8_t compress = -1;  ///< 1: run media.compress, 0: skip it, -1: the node's config
  std::int8_t enrich = -1;    ///< 1: run the enrich.* stages, 0: skip them, -1: the node's config
  std::string retention;      ///< "keep", "trash", "delete" ("" = the node's config)
  bool live = false;          ///< a live job: the recording is still being made
};

/// Queue -> worker: run one stage of one job.
struct stage_order {
  std::string job_id;
  std::string session_id;
  std::string session_dir;
  std::string stage;
  int attempt = 0;  ///< fencing number: results for an older attempt are refused
  /// The session's seal key (session/seal.hpp): the stage seals postroll's
  /// own records in the session folder with it and trusts only those.
  std::string seal_key;
  /// live.record: the job's submit choices (JSON; which stages follow),
  /// so the follower does live only the work the job will use.
  std::string choices;
};

/// Worker -> queue: how far a running stage is.
struct stage_progress {
  std::string job_id;
  std::string stage;
  int attempt = 0;
  double fraction = 0;  ///< 0..1
  std::string note;     ///< what the stage says beside it ("" = nothing)
};

/// Worker -> queue: a stage ended.
struct stage_result {
  std::string job_id;
  std::string stage;
  int attempt = 0;
  fault failure;        ///< why the stage did not complete (none: it did)
  std::string output;   ///< the stage's JSON result when it completed

  bool ok() const { return !failure; }
};

/// Janitor -> queue: a submitted session folder, read and checked off the
/// queue's thread: the job to create, or why not.
struct session_check {
  fault failure;  ///< why the folder cannot be taken (names the file)
  std::string session_id;
  std::string session_dir;  ///< as opened (absolute, inside the roots)
  std::string session_name;
  std::string originals_retired;  ///< non-empty: an earlier job retired the originals
  std::int64_t media_bytes = 0;
  std::vector<stage_record> stages;  ///< the plan for the submit's choices
};

/// A worker node's view of one of the coordinator's session roots.
struct path_mapping {
  std::string remote;   ///< the prefix as the coordinator (and session.json paths) spell it
  std::string local;    ///< the same folder on the worker
  std::string problem;  ///< why the worker cannot use it ("" = exists and is writable)
};

/// What a node can do: sent by a worker when it joins, kept by the
/// coordinator for placement and `postroll nodes`.
struct node_info {
  std::string id;
  std::string version;
  std::uint32_t cores = 0;
  std::int64_t free_bytes = -1;        ///< free space where it writes (-1 unknown)
  std::vector<std::string> encoders;   ///< usable H.264 encoders, the chosen one first
  bool hardware_encoder = false;       ///< the chosen encoder is a hardware one
  std::vector<std::string> stages;     ///< every stage it can run
  std::int32_t media_workers = 0;      ///< media stages at once
  std::int32_t enrich_workers = 0;     ///< enrichment stages at once
  std::vector<path_mapping> paths;
};

/// A stage a worker node holds: running, or ended with a result the
/// coordinator has not acknowledged (it was away).
struct held_stage {
  std::string job_id;
  std::string stage;
  int attempt = 0;
  std::uint32_t worker = 0;  ///< index into node_join's media then enrich handles
};

/// Worker node -> coordinator's queue: a node (re)joins with its stage
/// workers and the stages it still holds.
struct node_join {
  node_info info;
  std::vector<held_stage> held;
};

/// Coordinator -> worker node: whether it joined, and its lease.
struct join_reply {
  fault failure;  ///< why it was refused (none: joined)
  std::int64_t lease_ms = 0;
};

/// Any request -> queue: the answer, or why there is none (errors are values).
struct job_reply {
  fault failure;  ///< none: `job` is the answer
  job_record job;
};

/// Client -> queue: which jobs to list (newest first).
struct list_query {
  std::int8_t state = -1;   ///< a job_state, or -1 for any
  std::string session_id;   ///< "" = any session
  std::uint32_t limit = 50;
  std::string cursor;       ///< where the previous page ended ("" = newest)
};

/// Queue -> client: a listing.
struct job_list {
  fault failure;
  std::vector<job_record> jobs;
  std::string next;  ///< cursor of the next page, "" when this was the last
};

/// Queue -> client: one job's journal.
struct job_history {
  fault failure;
  std::vector<journal_entry> entries;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, path_mapping& x) {
  return f(caf::meta::type_name("path_mapping"), x.remote, x.local, x.problem);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_info& x) {
  return f(caf::meta::type_name("node_info"), x.id, x.version, x.cores, x.free_bytes, x.encoders,
           x.hardware_encoder, x.stages, x.media_workers, x.enrich_workers, x.paths);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fault& x) {
  return f(caf::meta::type_name("fault"), x.failed, x.code, x.message);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_check& x) {
  return f(caf::meta::type_name("session_check"), x.failure, x.session_id, x.session_dir, x.session_name,
           x.originals_retired, x.media_bytes, x.stages);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, held_stage& x) {
  return f(caf::meta::type_name("held_stage"), x.job_id, x.stage, x.attempt, x.worker);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_join& x) {
  return f(caf::meta::type_name("node_join"), x.info, x.held);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_reply& x) {
  return f(caf::meta::type_name("join_reply"), x.failure, x.lease_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_summary& x) {
  return f(caf::meta::type_name("node_summary"), x.id, x.local, x.version, x.cores, x.free_bytes, x.encoders,
           x.hardware_encoder, x.stages, x.media_workers, x.enrich_workers, x.paths, x.joined_at, x.slots, x.running,
           x.leases, x.completed, x.failed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journal_entry& x) {
  return f(caf::meta::type_name("journal_entry"), x.seq, x.time, x.from, x.to, x.reason, x.job_id, x.session_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_history& x) {
  return f(caf::meta::type_name("job_history"), x.failure, x.entries);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stage_record& x) {
  return f(caf::meta::type_name("stage_record"), x.name, x.state, x.attempts, x.preemptions, x.started_at,
           x.finished_at, x.not_before, x.error, x.result, x.needs, x.node);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_record& x) {
  return f(caf::meta::type_name("job_record"), x.id, x.session_id, x.session_dir,
           x.session_name, x.state, x.prio, x.created_at, x.updated_at, x.stages, x.error,
           x.error_code, x.cancel_requested, x.output, x.media_bytes, x.bytes_written, x.bytes_reclaimed, x.waiting,
           x.removing, x.live);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("event"), x.kind, x.job_id, x.session_id, x.stage, x.progress,
           x.eta_ms, x.message, x.time, x.node);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, submit_request& x) {
  return f(caf::meta::type_name("submit_request"), x.session_dir, x.priority, x.compress, x.enrich,
           x.retention, x.live);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stage_order& x) {
  return f(caf::meta::type_name("stage_order"), x.job_id, x.session_id, x.session_dir, x.stage,
           x.attempt, x.seal_key, x.choices);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stage_progress& x) {
  return f(caf::meta::type_name("stage_progress"), x.job_id, x.stage, x.attempt, x.fraction, x.note);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stage_result& x) {
  return f(caf::meta::type_name("stage_result"), x.job_id, x.stage, x.attempt, x.failure, x.output);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_reply& x) {
  return f(caf::meta::type_name("job_reply"), x.failure, x.job);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_list& x) {
  return f(caf::meta::type_name("job_list"), x.failure, x.jobs, x.next);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_query& x) {
  return f(caf::meta::type_name("list_query"), x.state, x.session_id, x.limit, x.cursor);
}

}  // namespace postroll
