// Collects a runtime's events and lets a test wait for one (no sleeps).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "postroll/event.hpp"

namespace postroll::test {

struct event_log {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<event> all;

  std::function<void(const event&)> sink() {
    return [this](const event& e) {
      std::lock_guard<std::mutex> g{mtx};
      all.push_back(e);
      cv.notify_all();
    };
  }
  bool wait_for(const std::function<bool(const event&)>& match,
                std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, timeout, [&] { return std::any_of(all.begin(), all.end(), match); });
  }
  std::vector<std::string> kinds_of(const std::string& job) {
    std::lock_guard<std::mutex> g{mtx};
    std::vector<std::string> out;
    for (auto& e : all)
      if (e.job_id == job && e.kind != events::stage_progress)
        out.push_back(e.kind + (e.stage.empty() ? "" : ":" + e.stage));
    return out;
  }
  /// The last progress line of `job`'s `stage` (for failure messages).
  std::string last_note(const std::string& job, const std::string& stage) {
    std::lock_guard<std::mutex> g{mtx};
    for (auto it = all.rbegin(); it != all.rend(); ++it)
      if (it->job_id == job && it->stage == stage && it->kind == events::stage_progress)
        return it->message;
    return {};
  }
  int count(const std::string& job, const std::string& kind) {
    std::lock_guard<std::mutex> g{mtx};
    return int(std::count_if(all.begin(), all.end(),
                             [&](const event& e) { return e.job_id == job && e.kind == kind; }));
  }
};

inline auto is(const std::string& job, const char* kind) {
  return [job, kind](const event& e) { return e.job_id == job && e.kind == kind; };
}

}  // namespace postroll::test
