// Tells the world outside the process that a job ended: a desktop
// notification (freedesktop D-Bus service via libnotify, when one runs),
// and durable deliveries (persisted by the queue until done): a signed
// webhook POST with retries and a command hook. Delivery runs on a thread
// of its own: a slow webhook never holds up the event stream. No desktop
// service is not an error; it is logged once. docs/notifications.md.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <vector>
#include <mutex>
#include <string>
#include <thread>

#include "postroll/event.hpp"

namespace postroll {

struct notifier_config {
  bool desktop = true;          ///< desktop notifications when a D-Bus session bus is there
  std::string webhook_url;      ///< "" = no webhook
  long webhook_timeout_ms = 5000;  ///< per attempt
  int webhook_attempts = 3;     ///< tries per delivery (1 s, 2 s, ... apart)
  std::string webhook_secret_env;  ///< env variable with the HMAC-SHA256 key ("" = unsigned)
  std::vector<std::string> command;  ///< command hook: argv, the delivery on stdin ("" = none)
  long command_timeout_ms = 30000;
  std::string app_name = "postroll";

  /// Whether job endings need durable deliveries (webhook or command).
  bool durable() const { return !webhook_url.empty() || !command.empty(); }
};

/// Whether this process has a D-Bus session bus to show desktop
/// notifications on ($DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus).
bool session_bus_present();

class notification_sender {
public:
  explicit notification_sender(notifier_config cfg);
  ~notification_sender();  ///< delivers what is queued (bounded by the timeouts), then stops
  notification_sender(const notification_sender&) = delete;
  notification_sender& operator=(const notification_sender&) = delete;

  /// Shows a desktop notification for job_completed / job_failed events;
  /// ignores others.
  void post(const event& e);

  /// Delivers `payload` (JSON: deliveryId, event, job) to the webhook and
  /// the command hook; calls `done` on the sender's thread when both
  /// succeeded or were given up.
  void deliver(std::string id, std::string payload, std::function<void()> done);

  /// hex(HMAC-SHA256(key, body)): the X-Postroll-Signature value after "sha256=".
  static std::string signature(const std::string& key, const std::string& body);

private:
  struct delivery {
    std::string id, payload;
    std::function<void()> done;
  };
  void run();
  void show_desktop(const event& e);
  void call_webhook(const delivery& d);
  void run_command_hook(const delivery& d);

  notifier_config cfg_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<event> pending_;       ///< desktop notifications to show
  std::deque<delivery> deliveries_; ///< durable deliveries to make
  bool stopping_ = false;
  bool desktop_ok_ = true;  ///< false after the service was found missing once
  std::thread thread_;
};

}  // namespace postroll
