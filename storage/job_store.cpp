// One file: every write of the store goes through one batch builder that
// keeps the records, the indexes (state, session, time) and the journal in
// step; split, the invariants between column families would live in two
// places. The group-commit writer is in group_writer.cpp, the codec in
// job_codec.cpp.
#include "storage/job_store.hpp"

#include <openssl/rand.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "storage/lock_holder.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace postroll {

namespace {

// Job records live in the default column family: it is the only one whose
// write-ahead-log entries RocksDB's repair can replay when the MANIFEST is
// lost (it maps log records to families by number, and only the default's
// number is known without a MANIFEST), so a corrupt database still gives
// back every job. "jobs" held them in schema 1 and is kept for migration.
enum cf_index {
  cf_jobs, cf_legacy_jobs, cf_by_status, cf_by_session, cf_journal, cf_job_journal, cf_meta, cf_by_created,
  cf_outbox, cf_count
};
const char* const cf_names[cf_count] = {rocksdb::kDefaultColumnFamilyName.c_str(),
                                        "jobs", "by_status", "by_session", "journal", "job_journal", "meta",
                                        "by_created", "outbox"};
const char* const schema_version = "2";

std::string padded(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llu", static_cast<unsigned long long>(v));
  return buf;
}

std::string status_key(const job_record& j) {
  return std::string{to_string(j.state)} + "|" + std::to_string(int(j.prio)) + "|" +
         padded(std::uint64_t(j.created_at)) + "|" + j.id;
}

std::string created_key(const job_record& j) { return padded(std::uint64_t(j.created_at)) + "|" + j.id; }

std::string counts_json(const job_counts& c) {
  return json(std::vector<std::uint64_t>(std::begin(c.by_state), std::end(c.by_state))).dump();
}

void count(job_counts& c, job_state s, int delta) {
  auto& n = c.by_state[size_t(s)];
  n = delta < 0 && n == 0 ? 0 : n + delta;
}

std::vector<rocksdb::ColumnFamilyDescriptor> cf_descriptors() {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (auto name : cf_names)
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions{});
  return cfs;
}

// RocksDB's own messages go to the node's log (spdlog), not to a LOG file
// in the data folder: one logger for everything, and its file writer used to
// abort the process on a full disk (an assertion on the write after a failed one).
class spdlog_logger : public rocksdb::Logger {
public:
  spdlog_logger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel())
      return;
    char buf[512];
    std::vsnprintf(buf, sizeof buf, format, ap);
    for (char& c : buf)
      if (c == '\n')
        c = ' ';  // one line per message
    // RocksDB's warnings (a locked or missing database, ...) come back as
    // a status this store turns into a message of its own: a node's log
    // keeps them at info, a command line shows only the message.
    auto l = level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? spdlog::level::err
             : level >= rocksdb::InfoLogLevel::WARN_LEVEL ? spdlog::level::info
                                                          : spdlog::level::debug;
    spdlog::log(l, "rocksdb: {}", buf);
  }
};

// One logger for every database this process opens.
const std::shared_ptr<rocksdb::Logger>& rocksdb_logger() {
  static const std::shared_ptr<rocksdb::Logger> logger = std::make_shared<spdlog_logger>();
  return logger;
}

rocksdb::Status open_db(const fs::path& dir, std::unique_ptr<rocksdb::DB>& db,
                        std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  rocksdb::DBOptions opts;
  opts.info_log = rocksdb_logger();
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.paranoid_checks = true;
  // Start-up time is mostly log replay: a clean close flushes (see the
  // destructor), and after a crash this bounds the log to replay.
  opts.max_total_wal_size = 8 << 20;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(opts, dir.string(), cf_descriptors(), &handles, &raw);
  db.reset(raw);
  return st;
}

}  // namespace

result<std::unique_ptr<job_store>> job_store::open(const fs::path& dir, std::string* moved_aside) {
  std::unique_ptr<job_store> s{new job_store};
  s->dir_ = dir.string();
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    // Only its user reads it: it holds the node's seal secret.
    fs::create_directories(dir, ec);
    if (!ec)
      fs::permissions(dir, fs::perms::owner_all, ec);
  }
  if (ec)
    return error{errc::io, dir.string() + ": cannot create database folder: " + ec.message()};
  auto st = open_db(dir, s->db_, s->cf_);
  if (st.IsCorruption()) {
    // A database we cannot read must not stop the node: keep it for forensics
    // and start empty; sessions keep their outputs on disk.
    auto aside = fs::path{dir.string() + ".corrupt-" + std::to_string(unix_now_ms())};
    fs::rename(dir, aside, ec);
    if (ec)
      return error{errc::io, dir.string() + ": corrupt (" + st.ToString() +
                               ") and cannot be moved aside: " + ec.message()};
    spdlog::error("job database {} cannot be opened ({}); moved aside to {}", dir.string(), st.ToString(),
                  aside.string());
    if (moved_aside)
      *moved_aside = aside.string();
    s->cf_.clear();
    st = open_db(dir, s->db_, s->cf_);
  }
  if (!st.ok() && st.ToString().find("LOCK") != std::string::npos) {
    auto holder = database_lock_holder(dir);
    return error{errc::unavailable, dir.string() + ": the job database is in use by " +
                                      (holder ? holder->describe() : std::string{"another postroll process"}) +
                                      "; wait for it to end, submit to it if it is a node, or use another --data-dir"};
  }
  if (!st.ok())
    return error{errc::io, dir.string() + ": cannot open job database: " + st.ToString() +
                             (st.ToString().find("No space") != std::string::npos ? " (the disk is full)" : "")};
  if (auto err = s->migrate())
    return *err;
  if (auto err = s->load_seal_secret())
    return *err;
  if (auto err = s->load_state())
    return *err;
  return s;
}

result<std::unique_ptr<job_store>> job_store::open_read_only(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "CURRENT", ec))
    return error{errc::not_found, dir.string() + ": no job database there"};
  std::unique_ptr<job_store> s{new job_store};
  s->dir_ = dir.string();
  s->broken_ = "the job database in " + dir.string() + " is open read-only";
  // The secondary keeps its own small state in a folder of its own.
  auto tmp = (fs::temp_directory_path(ec) / "postroll-read-XXXXXX").string();
  if (!::mkdtemp(tmp.data()))
    return error{errc::io, tmp + ": cannot make a folder to read the job database from"};
  s->secondary_dir_ = tmp;
  // Only a writer migrates an older schema (job_store::open).
  const error older{errc::io, dir.string() + ": the job database was written by an older postroll; open it once "
                                             "with `postroll process` or a node to upgrade it"};
  std::vector<std::string> names;
  rocksdb::DBOptions opts;
  opts.info_log = rocksdb_logger();
  opts.max_open_files = -1;  // a secondary instance requires it
  auto st = rocksdb::DB::ListColumnFamilies(opts, dir.string(), &names);
  if (st.ok())
    for (auto name : cf_names)
      if (std::find(names.begin(), names.end(), name) == names.end())
        return older;
  rocksdb::DB* raw = nullptr;
  if (st.ok())
    st = rocksdb::DB::OpenAsSecondary(opts, dir.string(), tmp, cf_descriptors(), &s->cf_, &raw);
  s->db_.reset(raw);
  if (!st.ok())
    return error{errc::io, dir.string() + ": cannot read the job database: " + st.ToString()};
  std::string version;
  s->db_->Get({}, s->cf_[cf_meta], "schema", &version);
  if (version != schema_version)
    return older;
  if (auto err = s->load_state())
    return *err;
  return s;
}

// The journal's next sequence number and the counts, from the database.
maybe_error job_store::load_state() {
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, cf_[cf_journal])};
  it->SeekToLast();
  if (it->Valid())
    next_seq_ = std::stoull(it->key().ToString()) + 1;
  std::string counts;
  if (db_->Get({}, cf_[cf_meta], "counts", &counts).ok()) {
    auto v = json::parse(counts, nullptr, false);
    if (v.is_array())
      for (size_t i = 0; i < v.size() && i < std::size(counts_.by_state); ++i)
        counts_.by_state[i] = v[i].get<std::uint64_t>();
  }
  return std::nullopt;
}

maybe_error job_store::load_seal_secret() {
  if (db_->Get({}, cf_[cf_meta], "seal_secret", &seal_secret_).ok() && seal_secret_.size() == 64)
    return std::nullopt;
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return error{errc::internal, "cannot make the node's seal secret: no random bytes"};
  static const char* hex = "0123456789abcdef";
  seal_secret_.clear();
  for (auto b : raw) {
    seal_secret_ += hex[b >> 4];
    seal_secret_ += hex[b & 15];
  }
  rocksdb::WriteBatch batch;
  batch.Put(cf_[cf_meta], "seal_secret", seal_secret_);
  return write(batch, "cannot store the node's seal secret");
}

// Brings an older database to the current schema: schema 1 kept jobs in
// their own family and had no by_created index and no stored counts. Runs
// once, with one scan.
maybe_error job_store::migrate() {
  std::string version;
  db_->Get({}, cf_[cf_meta], "schema", &version);
  if (version == schema_version)
    return std::nullopt;
  rocksdb::WriteBatch batch;
  job_counts counts;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, cf_[cf_legacy_jobs])};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto rec = job_from_json(it->value().ToString());
    if (!rec)
      continue;
    batch.Put(cf_[cf_jobs], it->key(), it->value());
    batch.Delete(cf_[cf_legacy_jobs], it->key());
    batch.Put(cf_[cf_by_created], created_key(*rec), "");
    count(counts, rec->state, +1);
  }
  batch.Put(cf_[cf_meta], "counts", counts_json(counts));
  batch.Put(cf_[cf_meta], "schema", schema_version);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto st = db_->Write(wo, &batch);
  if (!st.ok())
    return error{errc::io, "cannot upgrade the job database to schema " + std::string{schema_version} + ": " +
                             st.ToString()};
  return std::nullopt;
}

std::vector<job_record> job_store::salvage(const fs::path& corrupt_dir) {
  std::vector<job_record> out;
  auto copy = fs::path{corrupt_dir.string() + ".salvage"};
  std::error_code ec;
  fs::remove_all(copy, ec);
  fs::copy(corrupt_dir, copy, fs::copy_options::recursive, ec);
  if (ec)
    return out;
  // Without a readable MANIFEST, repair cannot tell which column family a
  // logged write belonged to (they come back under made-up names), so every
  // family is read and every value that parses as a job record is one.
  rocksdb::DBOptions opts;
  opts.create_if_missing = false;
  auto st = rocksdb::RepairDB(copy.string(), opts, cf_descriptors(), rocksdb::ColumnFamilyOptions{});
  std::vector<std::string> names;
  if (st.ok())
    st = rocksdb::DB::ListColumnFamilies(opts, copy.string(), &names);
  if (st.ok()) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (auto& n : names)
      cfs.emplace_back(n, rocksdb::ColumnFamilyOptions{});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    if (rocksdb::DB::OpenForReadOnly(opts, copy.string(), cfs, &handles, &raw).ok()) {
      std::map<std::string, job_record> found;  // one per id; the newest update wins
      for (auto* h : handles) {
        std::unique_ptr<rocksdb::Iterator> it{raw->NewIterator({}, h)};
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
          if (it->value().size() < 2 || it->value()[0] != '{')
            continue;
          auto rec = job_from_json(it->value().ToString());
          if (!rec || rec->id.empty() || rec->id != it->key().ToString())
            continue;
          auto& slot = found[rec->id];
          if (slot.id.empty() || rec->updated_at >= slot.updated_at)
            slot = std::move(*rec);
        }
      }
      for (auto& [id, rec] : found)
        out.push_back(std::move(rec));
      for (auto* h : handles)
        raw->DestroyColumnFamilyHandle(h);
      delete raw;
    }
  }
  if (!st.ok())
    spdlog::warn("job database {}: nothing salvaged ({})", corrupt_dir.string(), st.ToString());
  fs::remove_all(copy, ec);
  return out;
}

maybe_error job_store::write(rocksdb::WriteBatch& batch, const std::string& what) {
  if (!broken_.empty())
    return error{errc::io, what + ": " + broken_};
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto st = db_->Write(wo, &batch);
  if (st.ok())
    return std::nullopt;
  broken_ = "the job database in " + dir_ + " cannot be written (" + st.ToString() +
            (st.IsNoSpace() || st.ToString().find("No space") != std::string::npos ? "; the disk is full" : "") +
            "); nothing more is written until the node restarts";
  spdlog::critical("store: {}", broken_);
  return error{errc::io, what + ": " + broken_};
}

job_store::~job_store() {
  if (!secondary_dir_.empty()) {
    if (db_)
      for (auto* h : cf_)
        db_->DestroyColumnFamilyHandle(h);
    cf_.clear();
    db_.reset();
    std::error_code ec;
    fs::remove_all(secondary_dir_, ec);
    return;
  }
  if (db_ && !broken_.empty()) {
    // Flushing or closing after a write error would use the failed log
    // writer again: the last synced batch is on disk, the log replays.
    for (auto* h : cf_)
      db_->DestroyColumnFamilyHandle(h);
    db_.release();  // deliberately not closed (see above); the process ends soon
    return;
  }
  if (db_) {
    // Flushed tables open in milliseconds; an unflushed log is replayed
    // record by record at the next start (100,000 jobs: about a second).
    rocksdb::FlushOptions fo;
    db_->Flush(fo, cf_);
    for (auto* h : cf_)
      db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }
}

maybe_error job_store::apply(const std::vector<store_op>& ops) {
  std::lock_guard lock{mutex_};
  rocksdb::WriteBatch batch;
  auto seq = next_seq_;
  auto counts = counts_;
  for (const auto& op : ops) {
    for (const auto& [id, payload] : op.outbox_add)
      batch.Put(cf_[cf_outbox], id, payload);
    for (const auto& id : op.outbox_done)
      batch.Delete(cf_[cf_outbox], id);
    if (!op.job_change)
      continue;
    const auto& job = op.job;
    if (op.remove) {
      batch.Delete(cf_[cf_jobs], job.id);
      batch.Delete(cf_[cf_by_status], status_key(job));
      batch.Delete(cf_[cf_by_created], created_key(job));
      if (job_for_session(job.session_id) == job.id)
        batch.Delete(cf_[cf_by_session], job.session_id);
      // Its history goes too; the global journal keeps the transitions (it
      // is the event log other nodes and clients resume from).
      batch.DeleteRange(cf_[cf_job_journal], job.id + "|", job.id + "}");  // '}' sorts right after '|'
      count(counts, job.state, -1);
      continue;
    }
    batch.Put(cf_[cf_jobs], job.id, to_json(job));
    if (op.previous) {
      batch.Delete(cf_[cf_by_status], status_key(*op.previous));
      count(counts, op.previous->state, -1);
    } else {
      batch.Put(cf_[cf_by_created], created_key(job), "");
    }
    count(counts, job.state, +1);
    batch.Put(cf_[cf_by_status], status_key(job), "");
    batch.Put(cf_[cf_by_session], job.session_id, job.id);
    json entry = {{"time", job.updated_at},
                  {"job", job.id},
                  {"session", job.session_id},
                  {"from", op.previous ? to_string(op.previous->state) : ""},
                  {"to", to_string(job.state)},
                  {"reason", op.reason}};
    auto text = entry.dump();
    batch.Put(cf_[cf_journal], padded(seq), text);
    batch.Put(cf_[cf_job_journal], job.id + "|" + padded(seq), text);
    ++seq;
  }
  batch.Put(cf_[cf_meta], "counts", counts_json(counts));
  if (auto err = write(batch, "cannot write " + std::to_string(ops.size()) + " job change(s), first " +
                                  (ops.empty() ? std::string{} : ops.front().job.id)))
    return err;
  next_seq_ = seq;
  counts_ = counts;
  return std::nullopt;
}

maybe_error job_store::save(const job_record& job, const job_record* previous, const std::string& reason) {
  store_op op;
  op.job = job;
  if (previous)
    op.previous = *previous;
  op.reason = reason;
  return apply({op});
}

maybe_error job_store::remove(const job_record& job) {
  store_op op;
  op.remove = true;
  op.job = job;
  return apply({op});
}

std::uint64_t job_store::next_journal_seq() const {
  std::lock_guard lock{mutex_};
  return next_seq_;
}

result<std::optional<job_record>> job_store::get(const std::string& id) const {
  std::string value;
  auto st = db_->Get({}, cf_[cf_jobs], id, &value);
  if (st.IsNotFound())
    return std::optional<job_record>{};
  if (!st.ok())
    return error{errc::io, "cannot read job " + id + ": " + st.ToString()};
  auto rec = job_from_json(value);
  if (!rec)
    return rec.err();
  return std::optional<job_record>{std::move(*rec)};
}

result<std::vector<job_record>> job_store::in_state(job_state state) const {
  std::vector<job_record> out;
  std::string prefix = std::string{to_string(state)} + "|";
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, cf_[cf_by_status])};
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto key = it->key().ToString();
    auto id = key.substr(key.rfind('|') + 1);
    auto rec = get(id);
    if (!rec)
      return rec.err();
    if (*rec)
      out.push_back(std::move(**rec));
  }
  return out;
}

result<std::vector<job_record>> job_store::recent(size_t limit, const std::string& before, std::string* next,
                                                  const std::function<bool(const job_record&)>& keep) const {
  std::vector<job_record> out;
  if (next)
    next->clear();
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, cf_[cf_by_created])};
  if (before.empty())
    it->SeekToLast();
  else
    it->SeekForPrev(before);
  if (it->Valid() && !before.empty() && it->key() == before)
    it->Prev();  // the cursor is the last key of the previous page
  for (; it->Valid() && out.size() < limit; it->Prev()) {
    auto key = it->key().ToString();
    auto rec = get(key.substr(key.find('|') + 1));
    if (!rec)
      return rec.err();
    if (*rec && (!keep || keep(**rec)))
      out.push_back(std::move(**rec));
    if (out.size() == limit && next)
      *next = key;
  }
  if (!it->status().ok())
    return error{errc::io, "cannot list jobs: " + it->status().ToString()};
  if (next && !it->Valid())
    next->clear();  // nothing after this page
  return out;
}

result<std::vector<std::pair<std::string, std::string>>> job_store::outbox() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, cf_[cf_outbox])};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (!it->status().ok())
    return error{errc::io, "cannot read the notification outbox: " + it->status().ToString()};
  return out;
}

namespace {
journal_entry entry_from(std::uint64_t seq, const json& v) {
  journal_entry e;
  e.seq = seq;
  e.time = v.value("time", std::int64_t{0});
  e.from = v.value("from", "");
  e.to = v.value("to", "");
  e.reason = v.value("reason", "");
  e.job_id = v.value("job", "");
  e.session_id = v.value("session", "");
  return e;
}
}  // namespace

result<std::vector<journal_entry>> job_store::journal(std::uint64_t after, std::size_t limit) const {
  std::vector<journal_entry> out;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, cf_[cf_journal])};
  for (it->Seek(padded(after + 1)); it->Valid() && out.size() < limit; it->Next()) {
    auto v = json::parse(it->value().ToString(), nullptr, false);
    if (v.is_object())
      out.push_back(entry_from(std::stoull(it->key().ToString()), v));
  }
  if (!it->status().ok())
    return error{errc::io, "cannot read the journal: " + it->status().ToString()};
  return out;
}

result<std::vector<journal_entry>> job_store::history(const std::string& id) const {
  std::vector<journal_entry> out;
  auto prefix = id + "|";
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, cf_[cf_job_journal])};
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto v = json::parse(it->value().ToString(), nullptr, false);
    if (v.is_object())
      out.push_back(entry_from(std::stoull(it->key().ToString().substr(prefix.size())), v));
  }
  if (!it->status().ok())
    return error{errc::io, "cannot read the history of job " + id + ": " + it->status().ToString()};
  return out;
}

job_counts job_store::count_by_state() const {
  std::lock_guard lock{mutex_};
  return counts_;
}

std::optional<std::string> job_store::job_for_session(const std::string& session_id) const {
  std::string value;
  if (db_->Get({}, cf_[cf_by_session], session_id, &value).ok())
    return value;
  return std::nullopt;
}

maybe_error job_store::import(const std::vector<job_record>& jobs) {
  rocksdb::WriteBatch batch;
  for (const auto& job : jobs) {
    batch.Put(cf_[cf_jobs], job.id, to_json(job));
    batch.Put(cf_[cf_by_status], status_key(job), "");
    batch.Put(cf_[cf_by_session], job.session_id, job.id);
    batch.Put(cf_[cf_by_created], created_key(job), "");
  }
  std::lock_guard lock{mutex_};
  auto counts = counts_;
  for (const auto& job : jobs)
    count(counts, job.state, +1);
  batch.Put(cf_[cf_meta], "counts", counts_json(counts));
  if (auto err = write(batch, "cannot import " + std::to_string(jobs.size()) + " jobs"))
    return err;
  counts_ = counts;
  return std::nullopt;
}

}  // namespace postroll
