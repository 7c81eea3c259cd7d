#include "net/http/event_stream.hpp"

#include <nlohmann/json.hpp>

namespace postroll::http {

namespace {

std::string transition_text(const journal_entry& e) {
  nlohmann::json j = {{"seq", e.seq}, {"time", e.time}, {"jobId", e.job_id}, {"sessionId", e.session_id},
                      {"from", e.from}, {"to", e.to}, {"reason", e.reason}};
  return "id: " + std::to_string(e.seq) + "\nevent: transition\ndata: " +
         j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

std::string live_text(const event& e) {
  return std::string{"event: "} + (e.kind == events::job_waiting ? "waiting" : "progress") + "\ndata: " + to_json(e) +
         "\n\n";
}

}  // namespace

event_hub::event_hub(runtime& rt) : rt_(rt) {
  // Where the journal ends now: clients without Last-Event-ID start there.
  for (;;) {
    auto tail = rt_.journal(journal_end_, 10000);
    if (!tail || tail->empty())
      break;
    journal_end_ = tail->back().seq;
  }
  thread_ = std::thread([this] { run(); });
}

event_hub::~event_hub() {
  {
    std::lock_guard<std::mutex> g{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  for (auto& c : clients_)
    c.out->close();
  for (auto& c : joining_)
    c.out->close();
}

void event_hub::on_event(const event& e) {
  std::lock_guard<std::mutex> g{mtx_};
  if (e.kind == events::stage_progress || e.kind == events::job_waiting) {
    live_.emplace_back(++live_counter_, e);
    if (live_.size() > 2000)
      live_.pop_front();
    if (e.kind == events::stage_progress)
      latest_[e.job_id + "/" + e.stage] = e;
  } else {
    ++transitions_;
    if (!e.stage.empty()) {
      latest_.erase(e.job_id + "/" + e.stage);
    } else if (e.kind == events::job_completed || e.kind == events::job_failed || e.kind == events::job_cancelled) {
      for (auto it = latest_.lower_bound(e.job_id + "/"); it != latest_.end() && it->first.rfind(e.job_id + "/", 0) == 0;)
        it = latest_.erase(it);
    }
  }
  ++wakeups_;
  cv_.notify_all();
}

void event_hub::add(stream_ptr s, std::optional<std::uint64_t> after) {
  std::lock_guard<std::mutex> g{mtx_};
  client c;
  c.out = std::move(s);
  c.seq = after ? *after : journal_end_;
  c.progress = live_counter_;
  c.last_write = std::chrono::steady_clock::now();
  // Where every running stage is, at once (a reloaded page shows 50%, not
  // 0% until the next tick).
  std::string snapshot;
  for (const auto& [key, e] : latest_)
    snapshot += live_text(e);
  if (!snapshot.empty())
    c.out->write(std::move(snapshot));
  joining_.push_back(std::move(c));
  ++wakeups_;
  cv_.notify_all();
}

void event_hub::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  while (!stop_) {
    pump(lock);
    auto seen = wakeups_;
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || wakeups_ != seen; });
  }
}

// One round: journal entries to every client that lacks them (one read for
// all clients at the same place), live events, keep-alives; closed streams go.
void event_hub::pump(std::unique_lock<std::mutex>& lock) {
  bool joined = !joining_.empty();
  for (auto& c : joining_)
    clients_.push_back(std::move(c));
  joining_.clear();
  clients_.erase(std::remove_if(clients_.begin(), clients_.end(), [](const client& c) { return c.out->closed(); }),
                 clients_.end());
  if (clients_.empty()) {
    transitions_read_ = transitions_;
    return;
  }
  auto moved = transitions_;
  if (moved != transitions_read_ || joined) {
    auto from = clients_.front().seq;
    for (const auto& c : clients_)
      from = std::min(from, c.seq);
    bool full = false;
    lock.unlock();  // the journal is read without holding the hub
    std::vector<journal_entry> entries;
    for (int page = 0; page < 20; ++page) {
      auto got = rt_.journal(from, 500);
      if (!got || got->empty())
        break;
      from = got->back().seq;
      entries.insert(entries.end(), got->begin(), got->end());
      full = got->size() == 500;
      if (!full)
        break;
    }
    lock.lock();
    for (auto& c : clients_) {
      std::string out;
      for (const auto& e : entries)
        if (e.seq > c.seq) {
          out += transition_text(e);
          c.seq = e.seq;
        }
      if (!out.empty()) {
        c.out->write(std::move(out));
        c.last_write = std::chrono::steady_clock::now();
      }
    }
    if (!entries.empty())
      journal_end_ = std::max(journal_end_, entries.back().seq);
    transitions_read_ = full ? transitions_read_ : moved;  // a full page: read on next round
    if (full)
      ++wakeups_;
  }
  auto now = std::chrono::steady_clock::now();
  for (auto& c : clients_) {
    std::string out;
    for (const auto& [n, e] : live_)
      if (n > c.progress) {
        out += live_text(e);
        c.progress = n;
      }
    if (out.empty() && now - c.last_write > std::chrono::seconds(15))
      out = ": keep-alive\n\n";  // proxies close streams that stay silent
    if (!out.empty()) {
      c.out->write(std::move(out));
      c.last_write = now;
    }
  }
}

}  // namespace postroll::http
