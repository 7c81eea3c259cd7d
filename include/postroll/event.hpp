// Events: the one stream through which postroll tells hosts, the CLI and
// other nodes what happens to jobs.
#pragma once

#include "postroll/export.h"

#include <cstdint>
#include <string>

namespace postroll {

/// Event kinds, in the order a job emits them.
namespace events {
inline constexpr const char* job_created = "job-created";
inline constexpr const char* job_started = "job-started";
inline constexpr const char* job_waiting = "job-waiting";  ///< ready but held back; the message says why
inline constexpr const char* stage_started = "stage-started";
inline constexpr const char* stage_progress = "stage-progress";
inline constexpr const char* stage_completed = "stage-completed";
inline constexpr const char* stage_failed = "stage-failed";  ///< an attempt failed; may retry
/// Stopped for a higher-priority job; back to pending, the attempt not counted.
inline constexpr const char* stage_preempted = "stage-preempted";
inline constexpr const char* media_ready = "media-ready";    ///< the playable file exists
inline constexpr const char* job_completed = "job-completed";
inline constexpr const char* job_failed = "job-failed";
inline constexpr const char* job_cancelled = "job-cancelled";
}  // namespace events

struct event {
  std::string kind;        ///< one of `events::*`
  std::string job_id;
  std::string session_id;
  std::string stage;       ///< empty for job-level events
  double progress = 0;     ///< 0..1 of the stage (stage events) or job
  std::int64_t eta_ms = -1;  ///< estimated remaining time of the stage, -1 unknown
  std::string message;     ///< error text, output path, ...
  std::int64_t time = 0;   ///< Unix ms
  std::string node;        ///< stage events: the node running the stage ("" otherwise)
};

/// The event as a JSON object.
POSTROLL_API std::string to_json(const event& e);

}  // namespace postroll
