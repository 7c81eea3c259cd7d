#include "net/notification_sender.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <libnotify/notify.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "net/external_command.hpp"
#include "net/http_post.hpp"

namespace postroll {

// Only with a session bus: without one GLib would try to autolaunch a bus
// (or fail slowly); a headless node simply has no desktop to notify.
bool session_bus_present() {
  if (const char* a = std::getenv("DBUS_SESSION_BUS_ADDRESS"); a && *a)
    return true;
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::error_code ec;
  return runtime && std::filesystem::exists(std::filesystem::path{runtime} / "bus", ec);
}

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
  if (!cfg_.desktop)
    return;
  {
    std::lock_guard<std::mutex> lock{mtx_};
    pending_.push_back(e);
  }
  cv_.notify_one();
}

void notification_sender::deliver(std::string id, std::string payload, std::function<void()> done) {
  {
    std::lock_guard<std::mutex> lock{mtx_};
    deliveries_.push_back({std::move(id), std::move(payload), std::move(done)});
  }
  cv_.notify_one();
}

std::string notification_sender::signature(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(body.data()), body.size(),
       mac, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 15];
  }
  return out;
}

void notification_sender::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !pending_.empty() || !deliveries_.empty(); });
    if (!pending_.empty()) {
      auto e = std::move(pending_.front());
      pending_.pop_front();
      lock.unlock();
      if (desktop_ok_)
        show_desktop(e);
      lock.lock();
      continue;
    }
    if (!deliveries_.empty() && !stopping_) {
      auto d = std::move(deliveries_.front());
      deliveries_.pop_front();
      lock.unlock();
      if (!cfg_.webhook_url.empty())
        call_webhook(d);
      if (!cfg_.command.empty())
        run_command_hook(d);
      // Given up by a stop: not done; the queue's outbox keeps it for the
      // next start.
      bool stopped;
      {
        std::lock_guard<std::mutex> g{mtx_};
        stopped = stopping_;
      }
      if (!stopped && d.done)
        d.done();
      lock.lock();
      continue;
    }
    if (stopping_)
      return;  // undelivered ones stay in the queue's outbox
  }
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

void notification_sender::call_webhook(const delivery& d) {
  std::vector<std::string> headers = {"Content-Type: application/json", "X-Postroll-Delivery: " + d.id};
  if (!cfg_.webhook_secret_env.empty()) {
    const char* key = std::getenv(cfg_.webhook_secret_env.c_str());
    if (key && *key)
      headers.push_back("X-Postroll-Signature: sha256=" + signature(key, d.payload));
    else
      spdlog::warn("notify: {} (the webhook secret) is not set; sending unsigned", cfg_.webhook_secret_env);
  }
  for (int attempt = 1; attempt <= cfg_.webhook_attempts; ++attempt) {
    auto r = http_post(cfg_.webhook_url, d.payload, headers, cfg_.webhook_timeout_ms);
    if (r && r->status >= 200 && r->status < 300) {
      spdlog::info("notify: webhook took delivery {} (attempt {})", d.id, attempt);
      return;
    }
    auto why = r ? "HTTP " + std::to_string(r->status) : r.err().message;
    bool retryable = !r || r->status >= 500 || r->status == 429;
    if (!retryable || attempt == cfg_.webhook_attempts) {
      spdlog::error("notify: webhook gave up on delivery {} after {} attempt(s): {}", d.id, attempt, why);
      return;
    }
    spdlog::info("notify: webhook attempt {} for delivery {} failed ({}); retrying", attempt, d.id, why);
    std::unique_lock<std::mutex> lock{mtx_};
    // A stop cuts the back-off short; the outbox keeps the delivery.
    if (cv_.wait_for(lock, std::chrono::seconds(1 << (attempt - 1)), [&] { return stopping_; }))
      return;
  }
}

void notification_sender::run_command_hook(const delivery& d) {
  cancel_token never;
  auto r = run_command("notify.command", cfg_.command, d.payload, cfg_.command_timeout_ms, never, {});
  if (r)
    spdlog::info("notify: command hook took delivery {}", d.id);
  else
    spdlog::error("notify: command hook failed for delivery {}: {}", d.id, r.err().message);
}

}  // namespace postroll
