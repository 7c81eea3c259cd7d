// The newest manifest for a live worker's thread: the follower puts each
// one it reads, the thread takes the newest (one not taken yet is replaced:
// every manifest lists all that the one before it did, and more).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "session/manifest.hpp"

namespace postroll {

class manifest_inbox {
public:
  void put(std::shared_ptr<const manifest> m) {
    {
      std::lock_guard<std::mutex> g{mtx_};
      latest_ = std::move(m);
    }
    cv_.notify_all();
  }
  /// Blocks for the next manifest; null once closed.
  std::shared_ptr<const manifest> take() {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait(lock, [&] { return closed_ || latest_; });
    if (closed_)
      return nullptr;
    return std::move(latest_);
  }
  /// As take(), waiting at most `limit`: null on the timeout or once closed (closed() tells).
  std::shared_ptr<const manifest> take_for(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait_for(lock, limit, [&] { return closed_ || latest_; });
    if (closed_)
      return nullptr;
    return std::move(latest_);
  }
  bool closed() const {
    std::lock_guard<std::mutex> g{mtx_};
    return closed_;
  }
  void close() {
    {
      std::lock_guard<std::mutex> g{mtx_};
      closed_ = true;
    }
    cv_.notify_all();
  }

private:
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::shared_ptr<const manifest> latest_;
  bool closed_ = false;
};

}  // namespace postroll
