#include "storage/job_store.hpp"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace postroll {

namespace {

enum cf_index { cf_default, cf_jobs, cf_by_status, cf_by_session, cf_journal, cf_job_journal, cf_meta, cf_count };
const char* const cf_names[cf_count] = {rocksdb::kDefaultColumnFamilyName.c_str(),
                                        "jobs", "by_status", "by_session", "journal", "job_journal", "meta"};

std::string padded(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llu", static_cast<unsigned long long>(v));
  return buf;
}

std::string status_key(const job_record& j) {
  return std::string{to_string(j.state)} + "|" + std::to_string(int(j.prio)) + "|" +
         padded(std::uint64_t(j.created_at)) + "|" + j.id;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

rocksdb::Status open_db(const fs::path& dir, std::unique_ptr<rocksdb::DB>& db,
                        std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  rocksdb::DBOptions opts;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.paranoid_checks = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (auto name : cf_names)
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions{});
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(opts, dir.string(), cfs, &handles, &raw);
  db.reset(raw);
  return st;
}

}  // namespace

result<std::unique_ptr<job_store>> job_store::open(const fs::path& dir, std::string* moved_aside) {
  std::unique_ptr<job_store> s{new job_store};
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return error{errc::io, dir.string() + ": cannot create database folder: " + ec.message()};
  auto st = open_db(dir, s->db_, s->cf_);
  if (st.IsCorruption()) {
    // A database we cannot read must not stop the node: keep it for forensics
    // and start empty; sessions keep their outputs on disk.
    auto aside = fs::path{dir.string() + ".corrupt-" + std::to_string(now_ms())};
    fs::rename(dir, aside, ec);
    if (ec)
      return error{errc::io, dir.string() + ": corrupt (" + st.ToString() +
                               ") and cannot be moved aside: " + ec.message()};
    if (moved_aside)
      *moved_aside = aside.string() + " (" + st.ToString() + ")";
    s->cf_.clear();
    st = open_db(dir, s->db_, s->cf_);
  }
  if (!st.ok() && st.ToString().find("LOCK") != std::string::npos)
    return error{errc::unavailable, dir.string() +
                                      ": job database is in use by another postroll process (a node or "
                                      "`postroll process`); submit to that node, or use another --data-dir"};
  if (!st.ok())
    return error{errc::io, dir.string() + ": cannot open job database: " + st.ToString()};
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s->db_->Put(wo, s->cf_[cf_meta], "schema", "1");
  std::unique_ptr<rocksdb::Iterator> it{s->db_->NewIterator({}, s->cf_[cf_journal])};
  it->SeekToLast();
  if (it->Valid())
    s->next_seq_ = std::stoull(it->key().ToString()) + 1;
  return s;
}

job_store::~job_store() {
  if (db_) {
    for (auto* h : cf_)
      db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }
}

maybe_error job_store::save(const job_record& job, const job_record* previous,
                            const std::string& reason) {
  rocksdb::WriteBatch batch;
  batch.Put(cf_[cf_jobs], job.id, to_json(job));
  if (previous)
    batch.Delete(cf_[cf_by_status], status_key(*previous));
  batch.Put(cf_[cf_by_status], status_key(job), "");
  batch.Put(cf_[cf_by_session], job.session_id, job.id);
  json entry = {{"time", job.updated_at},
                {"job", job.id},
                {"session", job.session_id},
                {"from", previous ? to_string(previous->state) : ""},
                {"to", to_string(job.state)},
                {"reason", reason}};
  auto text = entry.dump();
  batch.Put(cf_[cf_journal], padded(next_seq_), text);
  batch.Put(cf_[cf_job_journal], job.id + "|" + padded(next_seq_), text);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto st = db_->Write(wo, &batch);
  if (!st.ok())
    return error{errc::io, "cannot write job " + job.id + ": " + st.ToString()};
  ++next_seq_;
  return std::nullopt;
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

result<std::vector<job_record>> job_store::recent(size_t limit) const {
  std::vector<job_record> out;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, cf_[cf_jobs])};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto rec = job_from_json(it->value().ToString());
    if (rec)
      out.push_back(std::move(*rec));
  }
  std::sort(out.begin(), out.end(), [](const job_record& a, const job_record& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
  });
  if (out.size() > limit)
    out.resize(limit);
  return out;
}

result<std::vector<journal_entry>> job_store::history(const std::string& id) const {
  std::vector<journal_entry> out;
  auto prefix = id + "|";
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, cf_[cf_job_journal])};
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto v = json::parse(it->value().ToString(), nullptr, false);
    if (!v.is_object())
      continue;
    journal_entry e;
    e.seq = std::stoull(it->key().ToString().substr(prefix.size()));
    e.time = v.value("time", std::int64_t{0});
    e.from = v.value("from", "");
    e.to = v.value("to", "");
    e.reason = v.value("reason", "");
    out.push_back(std::move(e));
  }
  if (!it->status().ok())
    return error{errc::io, "cannot read the history of job " + id + ": " + it->status().ToString()};
  return out;
}

result<job_counts> job_store::count_by_state() const {
  job_counts out;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, cf_[cf_by_status])};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = it->key().ToString();
    job_state s;
    if (parse(key.substr(0, key.find('|')), s))
      ++out.by_state[size_t(s)];
  }
  if (!it->status().ok())
    return error{errc::io, "cannot count jobs: " + it->status().ToString()};
  return out;
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
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto st = db_->Write(wo, &batch);
  if (!st.ok())
    return error{errc::io, "cannot import " + std::to_string(jobs.size()) + " jobs: " + st.ToString()};
  return std::nullopt;
}

maybe_error job_store::remove(const job_record& job) {
  rocksdb::WriteBatch batch;
  batch.Delete(cf_[cf_jobs], job.id);
  batch.Delete(cf_[cf_by_status], status_key(job));
  if (job_for_session(job.session_id) == job.id)
    batch.Delete(cf_[cf_by_session], job.session_id);
  // Its history goes too; the global journal keeps the transitions (it is
  // the event log other nodes and clients resume from).
  auto prefix = job.id + "|";
  batch.DeleteRange(cf_[cf_job_journal], prefix, job.id + "}");  // '}' sorts right after '|'
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto st = db_->Write(wo, &batch);
  if (!st.ok())
    return error{errc::io, "cannot remove job " + job.id + ": " + st.ToString()};
  return std::nullopt;
}

}  // namespace postroll
