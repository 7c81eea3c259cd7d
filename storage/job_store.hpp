// The durable job table, in RocksDB. Only the queue actor (through its
// group_writer) writes it.
//
// Column families (keys are text; numbers zero-padded so they sort):
//   default    job id -> job record JSON (see job_codec; the default family
//              so that repair can replay it from the log, see salvage())
//   by_status  "<state>|<priority digit>|<createdAt, 16 digits>|<id>" -> ""
//              (dispatch order without scanning jobs: high=0 sorts first)
//   by_session session id -> id of its newest job
//   by_created "<createdAt, 16 digits>|<id>" -> "" (listings, newest first,
//              without a scan; a key is also a paging cursor)
//   journal    "<seq, 16 digits>" -> {"time","job","session","from","to","reason"}
//              (every state transition, in order; seq is global and monotonic)
//   job_journal "<job id>|<seq, 16 digits>" -> the same entry (one job's history
//              without a scan)
//   meta       "schema" -> "2"; "counts" -> jobs per state (JSON array), written
//              in the same batch as every change, so start-up reads one key;
//              "seal_secret" -> 32 random bytes (hex), made at the first open:
//              the node's key for sealing its records in session folders
//
// Every apply() is one WriteBatch written with sync=true: after it returns the
// changes survive power loss, and a crash before it leaves the previous state
// complete. Progress is never written here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "postroll/job.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace postroll {

/// One change to the table: a job saved (with the transition it made) or
/// removed. Several are written as one synced batch (group commit).
struct store_op {
  bool remove = false;
  bool job_change = true;                ///< false: only the outbox fields below
  job_record job;                        ///< the record as it is now
  std::optional<job_record> previous;    ///< as stored before (save only)
  std::string reason;                    ///< the journal's reason (save only)
  /// Notifications owed to the outside world, written in the same batch as
  /// the job change that owes them (so a crash cannot lose one): id -> payload.
  std::vector<std::pair<std::string, std::string>> outbox_add;
  std::vector<std::string> outbox_done;  ///< delivered (or given up): removed
};

class job_store {
public:
  /// Opens (or creates) the database in `dir`. A database that cannot be
  /// opened because it is corrupt is moved aside to `<dir>.corrupt-<time>`
  /// and a new one is created; `moved_aside` then names where it went.
  static result<std::unique_ptr<job_store>> open(const std::filesystem::path& dir,
                                                 std::string* moved_aside = nullptr);
  /// Opens the database in `dir` for reading only, also while another
  /// process has it open for writing (a RocksDB secondary instance: what
  /// that process synced before this call is seen). Every write fails.
  /// @returns `not_found` when `dir` holds no database.
  static result<std::unique_ptr<job_store>> open_read_only(const std::filesystem::path& dir);
  /// Every job record that can still be read from a database that failed
  /// to open (a moved-aside one): RocksDB's repair runs on a copy, the
  /// original stays as it was for forensics. Empty if nothing is readable.
  static std::vector<job_record> salvage(const std::filesystem::path& corrupt_dir);
  ~job_store();
  job_store(const job_store&) = delete;
  job_store& operator=(const job_store&) = delete;

  /// Writes every op in one synced batch: all or none.
  maybe_error apply(const std::vector<store_op>& ops);

  /// One save as its own batch (tests, tools).
  maybe_error save(const job_record& job, const job_record* previous, const std::string& reason);

  /// Removes a job, its index entries and its history (the global journal
  /// keeps its transitions).
  maybe_error remove(const job_record& job);

  /// The global journal after sequence number `after`, oldest first, at
  /// most `limit` entries: what an event stream resumes from.
  result<std::vector<journal_entry>> journal(std::uint64_t after, std::size_t limit) const;

  /// Notifications not yet delivered (id, payload), by id.
  result<std::vector<std::pair<std::string, std::string>>> outbox() const;

  /// Reads one job. @returns nullopt if unknown.
  result<std::optional<job_record>> get(const std::string& id) const;

  /// Every job in `state`, in dispatch order (priority, then age).
  result<std::vector<job_record>> in_state(job_state state) const;

  /// Up to `limit` jobs, newest first (by creation). `before` is a cursor
  /// from an earlier page (empty: from the newest); `next` receives the
  /// cursor of the following page (empty when this was the last). With
  /// `keep`, only jobs it accepts are returned and counted (the scan goes
  /// on through the index until `limit` are found).
  result<std::vector<job_record>> recent(size_t limit, const std::string& before = {},
                                         std::string* next = nullptr,
                                         const std::function<bool(const job_record&)>& keep = {}) const;

  /// The newest job of a session, if any.
  std::optional<std::string> job_for_session(const std::string& session_id) const;

  /// Writes many jobs in one synced batch, without journal entries (bulk
  /// loading: benchmarks, rebuilding the table from salvaged records).
  maybe_error import(const std::vector<job_record>& jobs);

  /// Every transition of one job, oldest first.
  result<std::vector<journal_entry>> history(const std::string& id) const;

  /// How many jobs are in each state (kept with every write; no scan).
  job_counts count_by_state() const;

  /// The sequence number the next journal entry gets.
  std::uint64_t next_journal_seq() const;

  /// The node's secret (made at the first open, kept in `meta`): the seal
  /// keys of session folders derive from it (session/seal.hpp).
  const std::string& seal_secret() const { return seal_secret_; }

private:
  job_store() = default;
  maybe_error migrate();
  maybe_error load_seal_secret();
  /// One synced write; after a failed one (a full disk) nothing is written
  /// again: RocksDB's log writer must not be used after an error (Debian's
  /// build asserts), so every later write gets the first error, naming the
  /// folder, until the node restarts.
  maybe_error write(rocksdb::WriteBatch& batch, const std::string& what);
  maybe_error load_state();
  std::string seal_secret_;
  std::string dir_;
  std::string secondary_dir_;  ///< open_read_only: the secondary instance's own folder (removed on close)
  std::string broken_;  ///< the first write error ("" = none)
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cf_;
  mutable std::mutex mutex_;  ///< guards the two fields below (writer vs readers)
  std::uint64_t next_seq_ = 1;
  job_counts counts_;
};

}  // namespace postroll
