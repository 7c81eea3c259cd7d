#include "apps/job_reader.hpp"

#include "storage/job_store.hpp"

namespace postroll::cli {

namespace {

class runtime_reader : public job_reader {
public:
  explicit runtime_reader(runtime& r) : r_(r) {}
  result<std::vector<job_record>> list(std::uint32_t limit) override { return r_.list(limit); }
  result<job_counts> counts() override { return r_.counts(); }
  result<job_record> status(const std::string& id) override { return r_.status(id); }
  result<std::vector<journal_entry>> history(const std::string& id) override { return r_.history(id); }

private:
  runtime& r_;
};

class store_reader : public job_reader {
public:
  explicit store_reader(std::unique_ptr<job_store> s) : s_(std::move(s)) {}
  result<std::vector<job_record>> list(std::uint32_t limit) override { return s_->recent(limit); }
  result<job_counts> counts() override { return s_->count_by_state(); }
  result<job_record> status(const std::string& id) override {
    auto rec = s_->get(id);
    if (!rec)
      return rec.err();
    if (!*rec)
      return error{errc::not_found, "no job with id " + id};  // the queue's words for it
    return std::move(**rec);
  }
  result<std::vector<journal_entry>> history(const std::string& id) override {
    if (auto rec = status(id); !rec)
      return rec.err();
    return s_->history(id);
  }

private:
  std::unique_ptr<job_store> s_;
};

}  // namespace

std::unique_ptr<job_reader> read_through(runtime& r) { return std::make_unique<runtime_reader>(r); }

std::unique_ptr<job_reader> read_through(std::unique_ptr<job_store> store) {
  return std::make_unique<store_reader>(std::move(store));
}

}  // namespace postroll::cli
