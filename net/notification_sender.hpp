// Tells the world outside the process that a job ended: a desktop
// notification (freedesktop D-Bus service via libnotify, when one runs)
// and a webhook POST (with retries). Delivery runs on a thread of its own:
// a slow webhook never holds up the event stream. Neither service being
// available is an error; it is logged once.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "postroll/event.hpp"

namespace postroll {

struct notifier_config {
  bool desktop = true;          ///< desktop notifications when a D-Bus session bus is there
  std::string webhook_url;      ///< "" = no webhook
  long webhook_timeout_ms = 5000;  ///< per attempt
  int webhook_attempts = 3;     ///< tries per event (1 s, 2 s, ... apart)
  std::string app_name = "postroll";
};

class notification_sender {
public:
  explicit notification_sender(notifier_config cfg);
  ~notification_sender();  ///< delivers what is queued (bounded by the timeouts), then stops
  notification_sender(const notification_sender&) = delete;
  notification_sender& operator=(const notification_sender&) = delete;

  /// Queues a job_completed / job_failed event for delivery; ignores others.
  void post(const event& e);

  /// The webhook body for an event (docs/notifications.md).
  static std::string webhook_body(const event& e);

private:
  void run();
  void deliver(const event& e);
  void show_desktop(const event& e);
  void call_webhook(const event& e);

  notifier_config cfg_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<event> pending_;
  bool stopping_ = false;
  bool desktop_ok_ = true;  ///< false after the service was found missing once
  std::thread thread_;
};

}  // namespace postroll
