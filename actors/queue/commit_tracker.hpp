// Group commit, seen from the queue: changes go to the writer thread under
// increasing tickets; what depends on a change being durable (a reply, an
// event, starting a stage) waits here until the writer reports its ticket
// committed. Plain C++: no actor, no store.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <utility>

#include "postroll/error.hpp"

namespace postroll::queue {

class commit_tracker {
public:
  using callback = std::function<void(const maybe_error&)>;

  /// A change was handed to the writer under `ticket` (increasing).
  void enqueued(std::uint64_t ticket) { enqueued_ = ticket; }

  /// Runs `fn` once every change handed over so far is durable: at once
  /// if it already is. Callbacks run in the order they were added.
  void after_commit(callback fn);

  /// The writer made everything up to `ticket` durable, or failed (`err`):
  /// the callbacks waiting for it run, in order, with `err`.
  void committed(std::uint64_t ticket, const maybe_error& err);

  /// Whether nothing handed over is still waiting to be durable.
  bool idle() const { return committed_ >= enqueued_ && after_.empty(); }
  std::uint64_t last_enqueued() const { return enqueued_; }
  std::uint64_t last_committed() const { return committed_; }

private:
  std::uint64_t enqueued_ = 0;   ///< ticket of the newest change handed to the writer
  std::uint64_t committed_ = 0;  ///< newest ticket known durable
  std::deque<std::pair<std::uint64_t, callback>> after_;
};

}  // namespace postroll::queue
