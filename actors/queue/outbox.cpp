// Durable notifications: written with a job's final state, delivered through the notifier, dropped once confirmed.
#include "actors/queue/queue_logic.hpp"

#include <spdlog/spdlog.h>

namespace postroll::queue {

// Hands a notification to the notifier; once it is delivered (or given
// up) it leaves the outbox. Not answered (a crash): it stays, and the
// next start sends it again.
void queue_logic::deliver(const std::string& id, const std::string& payload) {
  self_->request(st_.notifier, caf::infinite, deliver_atom::value, id, payload)
    .then(
      [self = self_, id](bool) {
        store_op op;
        op.job_change = false;
        op.outbox_done.push_back(id);
        auto& st = self->state;
        st.commits.enqueued(st.writer->enqueue(std::move(op)));
      },
      [id](caf::error& e) {
        // The notifier is gone (shutdown): the delivery stays in the
        // outbox and goes out at the next start.
        spdlog::info("queue: notification {} not confirmed ({}); kept for the next start", id, caf::to_string(e));
      });
}

}  // namespace postroll::queue
