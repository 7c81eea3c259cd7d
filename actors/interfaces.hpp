// Every actor interface of postroll, in one place: read this file to learn
// the whole message protocol. Handles are typed; a message an actor does not
// understand is a compile error, not a silent drop.
#pragma once

#include <caf/all.hpp>

#include "actors/messages.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(postroll, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(postroll, (postroll::stage_order))
  CAF_ADD_TYPE_ID(postroll, (postroll::stage_progress))
  CAF_ADD_TYPE_ID(postroll, (postroll::stage_result))
  CAF_ADD_TYPE_ID(postroll, (postroll::job_reply))
  CAF_ADD_TYPE_ID(postroll, (postroll::job_list))
  CAF_ADD_TYPE_ID(postroll, (postroll::event))
  CAF_ADD_TYPE_ID(postroll, (postroll::job_record))
  CAF_ADD_TYPE_ID(postroll, (postroll::job_history))
  CAF_ADD_TYPE_ID(postroll, (postroll::submit_request))
  CAF_ADD_TYPE_ID(postroll, (postroll::list_query))
  CAF_ADD_TYPE_ID(postroll, (postroll::node_join))
  CAF_ADD_TYPE_ID(postroll, (postroll::join_reply))
  CAF_ADD_TYPE_ID(postroll, (postroll::node_summary))
  CAF_ADD_TYPE_ID(postroll, (postroll::held_stage))
  CAF_ADD_TYPE_ID(postroll, (postroll::session_check))
  CAF_ADD_TYPE_ID(postroll, (postroll::fault))
CAF_END_TYPE_ID_BLOCK(postroll)

namespace postroll {

// Atoms (at most 10 characters in CAF 0.17).
using submit_atom = caf::atom_constant<caf::atom("submit")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using wakeup_atom = caf::atom_constant<caf::atom("wakeup")>;
using purge_atom = caf::atom_constant<caf::atom("purge")>;
using removed_atom = caf::atom_constant<caf::atom("removed")>;
using finished_atom = caf::atom_constant<caf::atom("finished")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using history_atom = caf::atom_constant<caf::atom("history")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
using delete_atom = caf::atom_constant<caf::atom("delete")>;
using watchdog_atom = caf::atom_constant<caf::atom("watchdog")>;
using committed_atom = caf::atom_constant<caf::atom("committed")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using delivered_atom = caf::atom_constant<caf::atom("delivered")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using report_atom = caf::atom_constant<caf::atom("report")>;
using lease_atom = caf::atom_constant<caf::atom("lease")>;
using nodes_atom = caf::atom_constant<caf::atom("nodes")>;
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;
using connect_atom = caf::atom_constant<caf::atom("connect")>;
using append_atom = caf::atom_constant<caf::atom("append")>;
using end_atom = caf::atom_constant<caf::atom("end")>;

/// The EVENT SINK interface: anything that wants the event stream.
using event_sink_actor = caf::typed_actor<caf::reacts_to<event>>;

/// The NOTIFIER actor interface: fans every event out to its subscribers
/// and the log.
using notifier_actor = caf::typed_actor<
  // Delivers an event to every subscriber, in the order received.
  caf::reacts_to<publish_atom, event>,
  // Adds a subscriber (answers once added); it is dropped when it terminates.
  caf::replies_to<subscribe_atom, event_sink_actor>::with<bool>,
  // Delivers a durable notification (id, payload: webhook, command hook);
  // answers once it was delivered or given up, so the queue can drop it
  // from its outbox.
  caf::replies_to<deliver_atom, std::string, std::string>::with<bool>,
  // Internal: the sender thread finished a delivery.
  caf::reacts_to<delivered_atom, std::string>>;

/// Where a stage worker reports: the queue itself on the same node, the
/// node agent on a worker node (which forwards to the coordinator).
using stage_report_actor = caf::typed_actor<
  // Progress of a running stage.
  caf::reacts_to<stage_progress>,
  // A stage ended.
  caf::reacts_to<stage_result>,
  // May this attempt still write its output? (false: its lease lapsed and
  // a newer attempt owns the stage.)
  caf::replies_to<lease_atom, std::string, std::string, std::int32_t>::with<bool>>;

/// The STAGE WORKER actor interface, shared by the media processor and the
/// enrichment worker: runs one stage at a time, off the scheduler threads,
/// and reports to the queue it registered with.
using stage_worker_actor = caf::typed_actor<
  // Starts a stage; progress and the result go to the queue by message.
  caf::reacts_to<run_atom, stage_order>,
  // Stops the running stage of a job (deletes its partial output).
  caf::reacts_to<cancel_atom, std::string>>;

/// A stage worker as it runs: the interface above plus what only it sends
/// itself (private to actors/stage_worker.cpp).
using stage_worker_impl_actor = stage_worker_actor::extend<
  // Its stage thread finished the stage (the result to report).
  caf::reacts_to<finished_atom, stage_result>,
  // The progress beat (every 100 ms) of the run with this tick number.
  caf::reacts_to<wakeup_atom, int>>;

/// The NODE AGENT of a worker node: where its stage workers report; it
/// forwards to the coordinator's queue (keeping results until acknowledged,
/// across a restart of either side) and joins it with the node's workers.
using node_agent_actor = stage_report_actor::extend<
  // Try to reach the coordinator (again), with backoff; sent to itself.
  caf::reacts_to<connect_atom>>;

/// A worker of the "media" pool (media.* stages, GStreamer pipelines).
using media_processor_actor = stage_worker_actor;
/// A worker of the "enrich" pool (enrich.* stages).
using enrichment_worker_actor = stage_worker_actor;

/// The QUEUE actor interface: the only owner of job state.
using queue_actor = caf::typed_actor<
  // Validates a session folder and accepts a job for it (or returns its live job).
  caf::replies_to<submit_atom, std::string, std::string>::with<job_reply>,
  // The same with per-job choices (which optional stages run).
  caf::replies_to<submit_atom, submit_request>::with<job_reply>,
  // One job's record.
  caf::replies_to<status_atom, std::string>::with<job_reply>,
  // A live job: a file the recorder finished (kind, path, offset ms).
  caf::replies_to<append_atom, std::string, std::string, std::string, std::int64_t>::with<job_reply>,
  // A live job: the recording ended (its session.json gets endedAt).
  caf::replies_to<end_atom, std::string>::with<job_reply>,
  // The newest jobs (at most N).
  caf::replies_to<list_atom, std::uint32_t>::with<job_list>,
  // A page of jobs matching a filter, newest first, with the next page's cursor.
  caf::replies_to<list_atom, list_query>::with<job_list>,
  // Stops starting stages (for a graceful stop); answers once no stage
  // runs any more.
  caf::replies_to<drain_atom>::with<bool>,
  // Every state transition of one job, oldest first.
  caf::replies_to<history_atom, std::string>::with<job_history>,
  // The global journal after a sequence number (at most N entries).
  caf::replies_to<history_atom, std::uint64_t, std::uint32_t>::with<job_history>,
  // How many jobs are in each state (indexed by job_state), from memory.
  caf::replies_to<count_atom>::with<std::vector<std::uint64_t>>,
  // Cancels a pending or running job.
  caf::replies_to<cancel_atom, std::string>::with<job_reply>,
  // Re-runs a failed or cancelled job from its first unfinished stage.
  caf::replies_to<retry_atom, std::string>::with<job_reply>,
  // Removes a finished job and its history; with `true` also the outputs
  // postroll wrote (<session>/postroll/). The recording itself always stays.
  caf::replies_to<delete_atom, std::string, std::uint8_t>::with<job_reply>,
  // A media processor offers itself for work.
  caf::reacts_to<register_atom, stage_worker_actor>,
  // A worker of a named pool ("media", "enrich") offers itself for work:
  // it is sent only stages of that pool (the stage name's prefix).
  caf::reacts_to<register_atom, stage_worker_actor, std::string>,
  // Progress of a running stage.
  caf::reacts_to<stage_progress>,
  // A stage ended.
  caf::reacts_to<stage_result>,
  // Whether attempt N of a job's stage still holds its lease: asked by a
  // worker node's stage before it commits an output file (fencing).
  caf::replies_to<lease_atom, std::string, std::string, std::int32_t>::with<bool>,
  // A worker node joins (or rejoins after a restart of either side) with
  // its capabilities and the stages it holds; refused with a reason when
  // it cannot serve (a mapped session root missing or read-only).
  caf::replies_to<join_atom, node_join, std::vector<stage_worker_actor>>::with<join_reply>,
  // A worker node's stage result, acknowledged (it keeps the result until
  // then, across a restart of the coordinator).
  caf::replies_to<report_atom, stage_result>::with<bool>,
  // Every node serving this queue, its capabilities, load and leases.
  caf::replies_to<nodes_atom>::with<std::vector<node_summary>>>;

/// The queue as it runs: the interface above plus the messages only the
/// queue sends itself (its timers and its writer thread, sent under the
/// queue's own identity). No handle of this type leaves actors/queue/: a
/// client, a worker or another node holds a `queue_actor`, and a message
/// below that does not come from the queue itself is dropped.
using queue_internal_actor = queue_actor::extend<
  // Stages found running at start-up that no worker re-adopted in adopt_ms.
  caf::reacts_to<adopt_atom>,
  // Re-checks backoff timers, jobs waiting for disk space and idle workers.
  caf::reacts_to<wakeup_atom>,
  // Purges trashed originals older than trash_days (hourly).
  caf::reacts_to<purge_atom>,
  // Looks for running stages that stopped making progress, and lapsed leases.
  caf::reacts_to<watchdog_atom>,
  // The group-commit writer made changes up to a ticket durable (error
  // code and message if that write failed).
  caf::reacts_to<committed_atom, std::uint64_t, std::uint8_t, std::string>,
  // A worker told to stop a job (attempt) has had its grace time.
  caf::reacts_to<deadline_atom, std::string, std::string, std::int32_t>>;

/// The JANITOR actor interface: the file-system work the queue must not
/// wait for, on a thread of its own (reading and checking a submitted
/// folder, deleting a job's files, the trash sweep). It answers by reply.
using janitor_actor = caf::typed_actor<
  // Reads and checks a submitted session folder; plans its stages.
  caf::replies_to<submit_atom, submit_request>::with<session_check>,
  // Deletes a finished job's outputs (removing = 1) or outputs and
  // recording (removing = 2); answers "" or why not.
  caf::replies_to<delete_atom, job_record>::with<std::string>,
  // Deletes trashed originals older than the cutoff (Unix ms) that
  // completed jobs' records point to; answers how many folders went.
  caf::replies_to<purge_atom, std::int64_t>::with<std::uint32_t>,
  // Adds a file (kind, path, offset ms) to a live session's session.json,
  // atomically and durably; answers the fault (none when taken).
  caf::replies_to<append_atom, std::string, std::string, std::string, std::int64_t>::with<fault>,
  // Writes endedAt (Unix ms) into a live session's session.json.
  caf::replies_to<end_atom, std::string, std::int64_t>::with<fault>>;

/// The SUPERVISOR actor interface: starts the others and restarts crashed workers.
using supervisor_actor = caf::typed_actor<
  // The queue and notifier, for the runtime facade and the node listener.
  caf::replies_to<get_atom>::with<queue_actor, notifier_actor>,
  // The media processors now running (and how many restarts so far).
  caf::replies_to<list_atom>::with<std::vector<media_processor_actor>, std::int32_t>>;

/// Registers postroll's message types with an actor system config.
inline void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::postroll>();
  cfg.add_message_type<std::vector<postroll::job_record>>("std::vector<postroll::job_record>");
  cfg.add_message_type<std::vector<postroll::stage_record>>("std::vector<postroll::stage_record>");
  cfg.add_message_type<std::vector<postroll::journal_entry>>("std::vector<postroll::journal_entry>");
  cfg.add_message_type<std::vector<std::uint64_t>>("std::vector<std::uint64_t>");
  cfg.add_message_type<std::vector<postroll::node_summary>>("std::vector<postroll::node_summary>");
  // Handles travel between nodes too (a client learns the queue from the
  // supervisor; a remote subscriber hands the notifier its sink).
  cfg.add_message_type<queue_actor>("postroll::queue_actor");
  cfg.add_message_type<notifier_actor>("postroll::notifier_actor");
  cfg.add_message_type<event_sink_actor>("postroll::event_sink_actor");
  cfg.add_message_type<stage_worker_actor>("postroll::stage_worker_actor");
  cfg.add_message_type<supervisor_actor>("postroll::supervisor_actor");
  cfg.add_message_type<std::vector<stage_worker_actor>>("std::vector<postroll::stage_worker_actor>");
}

}  // namespace postroll
