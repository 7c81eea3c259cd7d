#pragma once
// Cancels a running stage in the middle, whatever the machine's speed: the
// stage's first progress report holds it until the cancel has been sent,
// so the cancel never lands after the stage has finished or decided.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace postroll::test {

template <class Result>
struct mid_stream_outcome {
  bool reported = false;  // the stage reported progress before it ended
  double last = 0;        // the last fraction it reported
  std::optional<Result> result;
};

// `stage(progress)` runs on its own thread and returns a Result; `cancel` is
// the token it watches; `while_held` runs while the stage waits in its
// first progress report (to look at what it has written so far).
template <class Result, class Stage, class Token>
mid_stream_outcome<Result> cancel_at_first_progress(Stage stage, Token& cancel,
                                                    const std::function<void()>& while_held = {}) {
  std::mutex mtx;
  std::condition_variable cv;
  bool cancelled = false;
  mid_stream_outcome<Result> o;
  std::thread worker([&] {
    auto r = stage([&](double f) {
      std::unique_lock<std::mutex> g{mtx};
      o.last = f;
      if (!o.reported) {
        o.reported = true;
        cv.notify_all();
        cv.wait(g, [&] { return cancelled; });
      }
    });
    std::lock_guard<std::mutex> g{mtx};
    o.result.emplace(std::move(r));
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait(lock, [&] { return o.reported || o.result; });
    if (o.reported && !o.result && while_held) {
      lock.unlock();
      while_held();
      lock.lock();
    }
    cancel.cancel();
    cancelled = true;
    cv.notify_all();
  }
  worker.join();
  return o;
}

}  // namespace postroll::test
