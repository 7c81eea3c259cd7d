#include "net/notification_sender.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <libnotify/notify.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "net/http_post.hpp"

namespace postroll {

namespace {
// Only with a session bus: without one GLib would try to autolaunch a bus
// (or fail slowly); a headless node simply has no desktop to notify.
bool session_bus_present() {
  if (const char* a = std::getenv("DBUS_SESSION_BUS_ADDRESS"); a && *a)
    return true;
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::error_code ec;
  return runtime && std::filesystem::exists(std::filesystem::path{runtime} / "bus", ec);
}
}  // namespace

notification_sender::notification_sender(notifier_config cfg) : cfg_(std::move(cfg)) {
  thread_ = std::thread([this] { run(); });
}

notification_sender::~notification_sender() {
  {
    std::lock_guard<std::mutex> lock{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void notification_sender::post(const event& e) {
  if (e.kind != events::job_completed && e.kind != events::job_failed)
    return;
  if (!cfg_.desktop && cfg_.webhook_url.empty())
    return;
  {
    std::lock_guard<std::mutex> lock{mtx_};
    pending_.push_back(e);
  }
  cv_.notify_one();
}

std::string notification_sender::webhook_body(const event& e) {
  nlohmann::json j = {{"event", e.kind}, {"jobId", e.job_id}, {"sessionId", e.session_id}, {"time", e.time}};
  if (e.kind == events::job_completed)
    j["output"] = e.message;
  else
    j["error"] = e.message;
  return j.dump();
}

void notification_sender::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty())
      return;  // stopping and nothing left
    auto e = std::move(pending_.front());
    pending_.pop_front();
    lock.unlock();
    deliver(e);
    lock.lock();
  }
}

void notification_sender::deliver(const event& e) {
  if (cfg_.desktop && desktop_ok_)
    show_desktop(e);
  if (!cfg_.webhook_url.empty())
    call_webhook(e);
}

void notification_sender::show_desktop(const event& e) {
  if (!session_bus_present()) {
    desktop_ok_ = false;
    spdlog::info("notify: no D-Bus session bus; desktop notifications are off");
    return;
  }
  if (!notify_is_initted() && !notify_init(cfg_.app_name.c_str())) {
    desktop_ok_ = false;
    spdlog::info("notify: libnotify could not start; desktop notifications are off");
    return;
  }
  bool ok = e.kind == events::job_completed;
  auto title = std::string{ok ? "Session ready: " : "Session failed: "} + e.session_id;
  NotifyNotification* n = notify_notification_new(title.c_str(), e.message.c_str(), ok ? "video-x-generic" : "dialog-error");
  GError* err = nullptr;
  if (!notify_notification_show(n, &err)) {
    desktop_ok_ = false;  // no notification service on this bus: not an error
    spdlog::info("notify: no desktop notification service ({}); desktop notifications are off",
                 err ? err->message : "unknown reason");
  }
  if (err)
    g_error_free(err);
  g_object_unref(G_OBJECT(n));
}

void notification_sender::call_webhook(const event& e) {
  auto body = webhook_body(e);
  for (int attempt = 1; attempt <= cfg_.webhook_attempts; ++attempt) {
    auto r = http_post(cfg_.webhook_url, body, {"Content-Type: application/json"}, cfg_.webhook_timeout_ms);
    if (r && r->status >= 200 && r->status < 300) {
      spdlog::info("notify: webhook took {} for job {} (attempt {})", e.kind, e.job_id, attempt);
      return;
    }
    auto why = r ? "HTTP " + std::to_string(r->status) : r.err().message;
    bool retryable = !r || r->status >= 500 || r->status == 429;
    if (!retryable || attempt == cfg_.webhook_attempts) {
      spdlog::warn("notify: webhook gave up on {} for job {} after {} attempt(s): {}", e.kind, e.job_id, attempt, why);
      return;
    }
    spdlog::info("notify: webhook attempt {} for job {} failed ({}); retrying", attempt, e.job_id, why);
    std::unique_lock<std::mutex> lock{mtx_};
    // Shutdown does not wait out the back-off: it cuts retries short.
    if (cv_.wait_for(lock, std::chrono::seconds(1 << (attempt - 1)), [&] { return stopping_; }))
      return;
  }
}

}  // namespace postroll
