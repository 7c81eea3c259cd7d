#include "apps/job_follower.hpp"

#include <cstdio>

#include "postroll/stages.hpp"

namespace postroll::cli {

result<job_record> job_follower::wait(const job_record& job, signal_waiter& sig) {
  {
    std::lock_guard<std::mutex> guard{w_.mtx};
    job_id_ = job.id;
    bar_.emplace(int(job.stages.size()));
    for (auto& e : early_)
      bar_->update(e);
    early_.clear();
  }
  sig.on_signal([this](int) {
    std::lock_guard<std::mutex> guard{w_.mtx};
    w_.interrupted = true;
    w_.cv.notify_all();
  });
  auto now = rt_.status(job.id);
  if (now && !is_terminal(now->state)) {
    std::unique_lock<std::mutex> lock{w_.mtx};
    for (;;) {
      w_.cv.wait(lock, [&] { return w_.ended || w_.interrupted || w_.replanned; });
      if (!w_.replanned)
        break;
      w_.replanned = false;
      lock.unlock();
      auto grown = rt_.status(job.id);  // not from the event thread: it asks the queue
      lock.lock();
      if (grown && bar_)
        bar_->set_stages(int(grown->stages.size()));
    }
  }
  sig.quiet();
  sub_.reset();
  if (show_ && bar_)
    bar_->finish();
  if (w_.interrupted)
    return error{errc::cancelled, "interrupted; job " + job.id +
                                    " stays queued and resumes when this session is processed again"};
  return rt_.status(job.id);
}


void job_follower::on_event(const event& e) {
  std::lock_guard<std::mutex> guard{w_.mtx};
  if (e.session_id != session_id_ || (!job_id_.empty() && e.job_id != job_id_))
    return;
  if (e.kind == events::job_waiting)
    std::fprintf(stderr, "\npostroll: %s\n", e.message.c_str());
  if (show_) {
    if (bar_)
      bar_->update(e);
    else
      early_.push_back(e);
  }
  if (e.kind == events::stage_completed && e.stage == stage_live) {
    w_.replanned = true;
    w_.cv.notify_all();
  }
  if (!job_id_.empty() && (e.kind == events::job_completed || e.kind == events::job_failed ||
                           e.kind == events::job_cancelled)) {
    w_.ended = true;
    w_.cv.notify_all();
  }
}

}  // namespace postroll::cli
