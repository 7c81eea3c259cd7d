// The API's event stream (GET /api/events, Server-Sent Events) for every
// open client at once, from one thread: transitions come from the persisted
// journal (ids are its sequence numbers, so a client that reconnects with
// Last-Event-ID misses nothing and gets nothing twice), progress and
// "waiting" events are live only, a new client first gets where every
// running stage is. A slow reader is dropped by the server, never waited for.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "net/http/server.hpp"
#include "postroll/runtime.hpp"

namespace postroll::http {

class event_hub {
public:
  explicit event_hub(runtime& rt);
  ~event_hub();  ///< ends every stream and the thread
  event_hub(const event_hub&) = delete;
  event_hub& operator=(const event_hub&) = delete;

  /// Takes one event from the runtime's subscription (cheap: it queues).
  void on_event(const event& e);

  /// A new client: journal entries after `after` (none: from now on).
  void add(stream_ptr s, std::optional<std::uint64_t> after);

private:
  struct client {
    stream_ptr out;
    std::uint64_t seq = 0;       ///< last journal entry sent
    std::uint64_t progress = 0;  ///< last live event sent
    std::chrono::steady_clock::time_point last_write;
  };
  void run();
  void pump(std::unique_lock<std::mutex>& lock);

  runtime& rt_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::uint64_t wakeups_ = 0;
  std::uint64_t journal_end_ = 0;     ///< newest journal entry seen (new clients start here)
  std::uint64_t transitions_ = 0;     ///< bumped by every event that wrote the journal
  std::uint64_t transitions_read_ = ~std::uint64_t{0};
  std::deque<std::pair<std::uint64_t, event>> live_;  ///< (counter, progress/waiting event), the newest 2000
  std::uint64_t live_counter_ = 0;
  std::map<std::string, event> latest_;  ///< newest progress per running "job/stage"
  std::vector<client> clients_;
  std::vector<client> joining_;
  std::thread thread_;
};

}  // namespace postroll::http
