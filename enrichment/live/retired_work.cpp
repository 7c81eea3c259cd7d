#include "enrichment/live/retired_work.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace postroll {

namespace {

struct retired {
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> done;
};

std::mutex retired_mtx;
std::vector<retired> retired_threads;

}  // namespace

void retire(std::function<void()> teardown) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread t([teardown = std::move(teardown), done] {
    teardown();
    *done = true;
  });
  std::lock_guard<std::mutex> g{retired_mtx};
  // Those that finished are joined now: the list stays short.
  for (auto it = retired_threads.begin(); it != retired_threads.end();)
    if (*it->done) {
      it->thread.join();
      it = retired_threads.erase(it);
    } else {
      ++it;
    }
  retired_threads.push_back({std::move(t), std::move(done)});
}

void join_retired() {
  std::vector<retired> all;
  {
    std::lock_guard<std::mutex> g{retired_mtx};
    all.swap(retired_threads);
  }
  for (auto& r : all)
    r.thread.join();
}

}  // namespace postroll
