#include "storage/group_writer.hpp"

namespace postroll {

group_writer::group_writer(std::shared_ptr<job_store> store, commit_fn on_commit)
  : store_(std::move(store)), on_commit_(std::move(on_commit)), thread_([this] { run(); }) {}

group_writer::~group_writer() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

std::uint64_t group_writer::enqueue(store_op op) {
  std::uint64_t ticket;
  {
    std::lock_guard lock{mutex_};
    queued_.push_back(std::move(op));
    ticket = ++last_ticket_;
  }
  wake_.notify_one();
  return ticket;
}

std::uint64_t group_writer::last_ticket() const {
  std::lock_guard lock{mutex_};
  return last_ticket_;
}

void group_writer::run() {
  std::vector<store_op> batch;
  for (;;) {
    std::uint64_t upto;
    {
      std::unique_lock lock{mutex_};
      wake_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
      if (queued_.empty())
        return;  // stopping, and everything is written
      batch.swap(queued_);
      upto = last_ticket_;
    }
    auto err = store_->apply(batch);
    batch.clear();
    on_commit_(upto, err);
  }
}

}  // namespace postroll
