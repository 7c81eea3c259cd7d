// What runs next: a pure function of the live jobs, the worker slots and
// the time. It decides placement (the least loaded node first, only what a
// node can run), priority with aging, the enrichment limit, the disk guard
// (through a hook: the queue says whether a job's volume has room), and
// preemption; the queue applies the plan (persist, events, run orders).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "actors/queue/job_table.hpp"

namespace postroll::queue {

/// A worker slot as the scheduler sees it (the queue's slot adds the handle).
struct slot {
  std::string pool;   ///< "media", "enrich": which stages it runs
  std::string node;   ///< the node it lives on
  /// Pool, encoder class and what its node runs: slots of one kind can
  /// run the same stages (a round skips a kind that found nothing).
  std::string kind;
  std::string job;    ///< running job id, empty when idle
  std::string stage;  ///< the stage it runs
  int attempt = 0;    ///< the attempt it runs (fencing number)
  bool remote = false;          ///< on a worker node: holds its stage by lease
  std::int64_t lease_until = 0; ///< remote: Unix ms the lease lapses, renewed by progress
  bool lapsed = false;          ///< remote: its lease lapsed; busy until it reports back
  bool preempting = false;      ///< told to stop for a higher-priority job; busy until it answers
};

/// What a node can run (worker nodes say it when they join).
struct node_caps {
  bool local = false;             ///< the coordinator's own workers run every stage
  bool hardware_encoder = false;  ///< media.compress goes to such nodes first
  std::vector<std::string> stages;  ///< "media.*", "enrich.*", or stage names
};

struct schedule_limits {
  std::int64_t aging_ms = 600000;  ///< a low job waiting this long counts as normal (-1: never)
  int max_enrich_jobs = 5;         ///< jobs with an enrichment stage running at once (0: no limit)
  std::vector<std::string> extra_stages;  ///< external enrichers: only where a node names them
  bool preempt = true;                    ///< higher priority stops preemptible lower-priority stages
  std::int64_t preempt_window_ms = 600000;  ///< a stage is preempted at most once in this window
};

/// Start attempt `attempt` of `stage` of `job` on slot `slot`.
struct stage_start {
  std::size_t slot = 0;
  std::string job;
  std::string stage;
  int attempt = 0;
  bool first_start = false;  ///< the job's first stage ever: announce job.started
};

/// Stop `slot`'s stage (a lower-priority job's) so `for_job` can run.
struct preemption {
  std::size_t slot = 0;
  std::string job;
  std::string stage;
  int attempt = 0;
  std::string for_job;
};

struct schedule_plan {
  std::vector<stage_start> starts;
  std::vector<preemption> preemptions;
};

/// Whether `stage` may be stopped for a higher-priority job: the long
/// optional or resumable ones (compress, enrichment), not a merge that ends
/// in seconds nor retention that moves the originals.
bool preemptible(const std::string& stage);

/// Whether the node of `s` can run `stage`: a worker node runs the
/// built-in stages of its pools and the external enrichers its own config
/// names; an external enricher runs only where it is configured.
bool can_run(const slot& s, const std::string& stage, const std::map<std::string, node_caps>& nodes,
             const std::vector<std::string>& extra_stages);
bool hardware_node(const std::string& node, const std::map<std::string, node_caps>& nodes);
/// The kind of a slot (see slot::kind).
std::string slot_kind(const slot& s, const std::map<std::string, node_caps>& nodes);

struct schedule_input {
  job_table* jobs = nullptr;
  std::vector<const slot*> slots;            ///< every slot; the plan's indexes point here
  const std::map<std::string, node_caps>* nodes = nullptr;
  const schedule_limits* limits = nullptr;
  /// The disk guard: whether job `j`'s media stage may start (it may note
  /// in `j.waiting` why not). Unset: always.
  std::function<bool(job_record& j)> disk_ok;
  /// run_key -> Unix ms a stage was last preempted (the window).
  const std::map<std::string, std::int64_t>* preempted_at = nullptr;
};

/// The stages to start now, one per idle slot at most, and the stages to
/// stop for higher-priority jobs that found no idle slot.
schedule_plan plan_round(const schedule_input& in, std::int64_t now);

/// Slots on worker nodes whose lease lapsed by `now` (no word from the node
/// for a whole lease): their stage goes elsewhere under a new attempt.
std::vector<std::size_t> lapsed_leases(const std::vector<const slot*>& slots, std::int64_t now);

}  // namespace postroll::queue
