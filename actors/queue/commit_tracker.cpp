#include "actors/queue/commit_tracker.hpp"

#include <algorithm>

namespace postroll::queue {

void commit_tracker::after_commit(callback fn) {
  if (idle()) {
    fn(std::nullopt);
    return;
  }
  after_.emplace_back(enqueued_, std::move(fn));
}

void commit_tracker::committed(std::uint64_t ticket, const maybe_error& err) {
  committed_ = std::max(committed_, ticket);
  while (!after_.empty() && after_.front().first <= committed_) {
    auto fn = std::move(after_.front().second);
    after_.pop_front();
    fn(err);
  }
}

}  // namespace postroll::queue
