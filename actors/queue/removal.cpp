// Removing a finished job: its record, and with its files (deleted by the janitor, off the queue's thread); the trash sweep.
#include "actors/queue/queue_logic.hpp"

#include "actors/caf_errors.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace postroll::queue {

caf::result<job_reply> queue_logic::remove(const std::string& id, std::uint8_t what) {
  if (auto no = refuse_if_broken())
    return *no;
  if (auto it = st_.jobs.live.find(id); it != st_.jobs.live.end())
    return reply_error(errc::bad_input, "job " + id + " is " + to_string(it->second.state) +
                                          "; cancel it before deleting it");
  auto r = status(id);
  if (r.failure)
    return r;
  if (auto other = st_.jobs.live_session.find(r.job.session_id); what && other != st_.jobs.live_session.end())
    return reply_error(errc::bad_input, "session " + r.job.session_id + " has a live job " + other->second +
                                          " writing its outputs; cancel it first");
  if (what == 0) {
    drop_record(r.job);
    return reply_when_durable(r);
  }
  // Files go: persist the intent first; the record goes only once they
  // are gone, so a crash in between is finished at the next start.
  job_record before = r.job;
  r.job.removing = std::uint8_t(std::min<int>(what, 2));
  persist(r.job, &before, r.job.removing == 2 ? "removal of the job, outputs and recording started"
                                              : "removal of the job and outputs started");
  after_commit([self = self_, job = r.job](const maybe_error& err) {
    if (!err)
      queue_logic{self}.start_removal(job);
  });
  // The answer comes once the files and the record are gone.
  auto rp = self_->template make_response_promise<job_reply>();
  st_.removal_waiters[id].push_back([rp](job_reply reply) mutable { rp.deliver(std::move(reply)); });
  return rp;
}

void queue_logic::drop_record(const job_record& job) {
  store_op op;
  op.remove = true;
  op.job = job;
  st_.commits.enqueued(st_.writer->enqueue(std::move(op)));
  st_.unflushed[job.id] = {st_.commits.last_enqueued(), std::nullopt};
  st_.jobs.forget(job);
  spdlog::info("queue: job {} deleted", job.id);
}

// The janitor deletes the files (its own thread); the queue hears back.
void queue_logic::start_removal(const job_record& job) {
  self_->request(st_.janitor, caf::infinite, delete_atom::value, job)
    .then([self = self_, id = job.id](const std::string& failure) { queue_logic{self}.removal_done(id, failure); },
          [self = self_, id = job.id](caf::error& e) {
            queue_logic{self}.removal_done(id, "the janitor did not answer: " + plain_words(e));
          });
}

void queue_logic::removal_done(const std::string& id, const std::string& failure) {
  auto r = status(id);
  if (r.failure)
    return;
  auto waiters = std::move(st_.removal_waiters[id]);
  st_.removal_waiters.erase(id);
  if (!failure.empty()) {
    // Kept with its flag: the next start tries again; the record says why.
    spdlog::error("queue: removing job {}: {}", id, failure);
    job_record before = r.job;
    r.job.error = "removal failed: " + failure;
    persist(r.job, &before, r.job.error);
    for (auto& w : waiters)
      w(reply_error(errc::io, r.job.error));
    return;
  }
  drop_record(r.job);
  after_commit([waiters = std::move(waiters), r](const maybe_error& err) mutable {
    for (auto& w : waiters)
      w(err ? reply_error(err->code, "not saved: " + err->message) : r);
  });
}

// Trashed originals older than trash_days go for good: the janitor scans
// the completed jobs' records and deletes, off the queue's thread.
void queue_logic::purge_trash() {
  auto cutoff = now() - std::int64_t(st_.cfg.trash_days) * 86400000;
  self_->request(st_.janitor, caf::infinite, purge_atom::value, cutoff)
    .then([](std::uint32_t purged) {
            if (purged > 0)
              spdlog::info("queue: the trash sweep deleted {} folder(s)", purged);
          },
          [](caf::error& e) { spdlog::warn("queue: the trash sweep did not finish: {}", caf::to_string(e)); });
}

}  // namespace postroll::queue
