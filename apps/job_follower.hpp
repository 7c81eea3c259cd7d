// Following a job from the command line: signals as events, and the
// progress bar fed by the job's events until it ends.
#pragma once

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

#include "apps/progress_bar.hpp"
#include "postroll/runtime.hpp"

namespace postroll::cli {

// SIGINT/SIGTERM are blocked in every thread and taken by one waiting thread,
// so a signal becomes an ordinary event the main thread can wait for.
class signal_waiter {
public:
  signal_waiter() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  template <class F>
  void on_signal(F f) {
    thread_ = std::thread([this, f] {
      int sig = 0;
      sigwait(&set_, &sig);
      if (!quiet_)
        f(sig);
    });
    thread_.detach();
  }
  void quiet() { quiet_ = true; }

private:
  sigset_t set_;
  std::thread thread_;
  std::atomic<bool> quiet_{false};
};

// Waits for a job to end while showing its progress.
struct job_watch {
  std::mutex mtx;
  std::condition_variable cv;
  bool ended = false;
  bool interrupted = false;
  bool replanned = false;  ///< a live job's recording ended: it has more stages now
};

// Follows the events of one session's job. Subscribe before submitting, so
// that no event of a fast job is missed; the job id is learnt from them.
class job_follower {
public:
  job_follower(runtime& rt, std::string session_id, bool show_progress)
    : rt_(rt), session_id_(std::move(session_id)), show_(show_progress) {}

  maybe_error subscribe() {
    auto sub = rt_.subscribe([this](const event& e) { on_event(e); });
    if (!sub)
      return sub.err();
    sub_ = std::move(*sub);
    return std::nullopt;
  }

  /// Waits until the job ends or a signal arrives.
  result<job_record> wait(const job_record& job, signal_waiter& sig);

private:
  void on_event(const event& e);

  runtime& rt_;
  std::string session_id_;
  bool show_;
  std::string job_id_;
  std::optional<progress_bar> bar_;
  std::vector<event> early_;  // events before the job id was known
  job_watch w_;
  subscription sub_;
};


}  // namespace postroll::cli
