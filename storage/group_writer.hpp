// Group commit for the job store: one thread writes every change the queue
// hands it, batching whatever arrived while the previous fsync ran into the
// next one. The queue never blocks on a disk sync, and a burst of N
// submissions costs a few fsyncs instead of N.
//
// Changes are numbered (tickets) in the order given; they are written in
// that order and `on_commit` reports, after each synced batch, the highest
// ticket now durable (and the error if the batch failed). It is called on
// the writer's thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/job_store.hpp"

namespace postroll {

class group_writer {
public:
  using commit_fn = std::function<void(std::uint64_t last_ticket, const maybe_error& err)>;

  group_writer(std::shared_ptr<job_store> store, commit_fn on_commit);
  /// Writes what is still queued, then stops the thread.
  ~group_writer();
  group_writer(const group_writer&) = delete;
  group_writer& operator=(const group_writer&) = delete;

  /// Queues a change. @returns its ticket (1, 2, 3, ...).
  std::uint64_t enqueue(store_op op);

  /// The ticket of the newest change queued so far (0: none yet).
  std::uint64_t last_ticket() const;

private:
  void run();
  std::shared_ptr<job_store> store_;
  commit_fn on_commit_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<store_op> queued_;
  std::uint64_t last_ticket_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace postroll
