// What is durable when: every change goes to the group-commit writer, and replies, events and run orders wait for it.
#include "actors/queue/queue_logic.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace postroll::queue {

job_reply reply_error(errc code, std::string message) {
  return job_reply{fault::of(code, std::move(message)), {}};
}

job_reply reply_ok(const job_record& j) { return job_reply{fault{}, j}; }

void queue_logic::emit(const job_record& j, const char* kind, const std::string& stage, std::string message,
                       double progress, std::int64_t eta) {
  event e;
  e.kind = kind;
  e.job_id = j.id;
  e.session_id = j.session_id;
  e.stage = stage;
  e.progress = progress;
  e.eta_ms = eta;
  e.message = std::move(message);
  e.time = now();
  for (const auto& s : j.stages)
    if (!stage.empty() && s.name == stage)
      e.node = s.node;
  // An event never announces a change that a crash could still undo.
  after_commit([self = self_, e = std::move(e)](const maybe_error& err) mutable {
    if (!err)  // a change that was not saved is not announced
      self->send(self->state.notifier, publish_atom::value, std::move(e));
  });
}

caf::result<job_reply> queue_logic::reply_when_durable(job_reply r) {
  return when_durable<job_reply>([r](const maybe_error& err) {
    return err ? reply_error(err->code, "not saved: " + err->message) : r;
  });
}

void queue_logic::on_committed(std::uint64_t ticket, std::uint8_t code, const std::string& message) {
  maybe_error err;
  if (code != 0) {
    err = error{errc(code), message};
    if (st_.store_broken.empty())
      spdlog::critical("queue: {}; no new stage starts and no job is accepted until the node restarts "
                       "(running stages finish; what they do is not saved)",
                       message);
    st_.store_broken = message;
  }
  st_.commits.committed(ticket, err);
  for (auto it = st_.unflushed.begin(); it != st_.unflushed.end();)
    it = it->second.first <= st_.commits.last_committed() ? st_.unflushed.erase(it) : std::next(it);
}

// Hands `j` to the writer and updates memory at once; `before` is the
// stored version. Whatever must not run before it is durable goes
// through after_commit.
void queue_logic::persist(job_record& j, const job_record* before, const std::string& reason) {
  j.updated_at = now();
  store_op op;
  op.job = j;
  if (before)
    op.previous = *before;
  op.reason = reason;
  std::optional<std::pair<std::string, std::string>> owed;
  if (st_.cfg.outbox && (j.state == job_state::completed || j.state == job_state::failed) &&
      (!before || !is_terminal(before->state))) {
    // The notification is written in the same batch as the final state:
    // no crash can lose it (at least once; the id lets receivers dedupe).
    auto id = j.id + ":" + to_string(j.state) + ":" + std::to_string(j.updated_at);
    nlohmann::json payload = {{"deliveryId", id},
                              {"event", j.state == job_state::completed ? events::job_completed : events::job_failed},
                              {"job", nlohmann::json::parse(to_json(j))}};
    owed.emplace(id, payload.dump());
    op.outbox_add.push_back(*owed);
  }
  st_.commits.enqueued(st_.writer->enqueue(std::move(op)));
  if (owed)
    after_commit([self = self_, owed = *owed](const maybe_error& err) {
      if (!err)
        queue_logic{self}.deliver(owed.first, owed.second);
    });
  st_.jobs.record(j, before);
  if (is_terminal(j.state)) {
    for (const auto& s : j.stages) {
      st_.last_progress.erase(run_key(j.id, s.name));
      st_.live_notes.erase(run_key(j.id, s.name));
      st_.preempted_at.erase(run_key(j.id, s.name));
    }
    st_.unflushed[j.id] = {st_.commits.last_enqueued(), j};
  }
}

std::string queue_logic::new_id() {
  static const char* hex = "0123456789abcdef";
  std::uint64_t v = std::uint64_t(now()) * 1000003u ^ (++st_.id_counter * 0x9e3779b97f4a7c15ull) ^
                    std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  std::string id = "j";
  for (int i = 0; i < 12; ++i, v >>= 4)
    id += hex[v & 15];
  return id;
}

}  // namespace postroll::queue
