// The durable job table, in RocksDB. Only the queue actor uses it.
//
// Column families (keys are text; numbers zero-padded so they sort):
//   jobs       job id -> job record JSON (see job_codec)
//   by_status  "<state>|<priority digit>|<createdAt, 16 digits>|<id>" -> ""
//              (dispatch order without scanning jobs: high=0 sorts first)
//   by_session session id -> id of its newest job
//   journal    "<seq, 16 digits>" -> {"time","job","session","from","to","reason"}
//              (every state transition, in order; seq is global and monotonic)
//   job_journal "<job id>|<seq, 16 digits>" -> the same entry (one job's history
//              without a scan)
//   meta       "schema" -> "1"
//
// Every save() is one WriteBatch written with sync=true: after it returns the
// transition survives power loss, and a crash before it leaves the previous
// state complete. Progress is never written here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "postroll/job.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace postroll {

class job_store {
public:
  /// Opens (or creates) the database in `dir`. A database that cannot be
  /// opened because it is corrupt is moved aside to `<dir>.corrupt-<time>`
  /// and a new one is created; `moved_aside` then names where it went.
  static result<std::unique_ptr<job_store>> open(const std::filesystem::path& dir,
                                                 std::string* moved_aside = nullptr);
  ~job_store();
  job_store(const job_store&) = delete;
  job_store& operator=(const job_store&) = delete;

  /// Writes `job` durably. `previous` (the record as stored before, if any)
  /// lets the status index move and the journal record the transition.
  maybe_error save(const job_record& job, const job_record* previous, const std::string& reason);

  /// Reads one job. @returns nullopt if unknown.
  result<std::optional<job_record>> get(const std::string& id) const;

  /// Every job in `state`, in dispatch order (priority, then age).
  result<std::vector<job_record>> in_state(job_state state) const;

  /// Up to `limit` jobs, newest first (by creation), for listings.
  result<std::vector<job_record>> recent(size_t limit) const;

  /// The newest job of a session, if any.
  std::optional<std::string> job_for_session(const std::string& session_id) const;

  /// Writes many jobs in one synced batch, without journal entries (bulk
  /// loading: benchmarks, rebuilding the table from session outputs).
  maybe_error import(const std::vector<job_record>& jobs);

  /// Removes a job, its index entries and its history (the global journal
  /// keeps its transitions).
  maybe_error remove(const job_record& job);

  /// Every transition of one job, oldest first.
  result<std::vector<journal_entry>> history(const std::string& id) const;

  /// How many jobs are in each state, from the status index's keys only.
  result<job_counts> count_by_state() const;

  /// The sequence number the next journal entry gets.
  std::uint64_t next_journal_seq() const { return next_seq_; }

private:
  job_store() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cf_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace postroll
