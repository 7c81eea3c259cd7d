// Notifications leave the process durably: a signed webhook delivery that
// survives a SIGKILL of the node between the job's end and the delivery
// (at least once, one delivery id), a command hook, and a desktop
// notification received by a notification service on a private D-Bus
// session bus.
#define BOOST_TEST_MODULE notify
#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <csignal>
#include <future>
#include <mutex>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gio/gio.h>
#include <nlohmann/json.hpp>

#include "postroll/runtime.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

std::vector<json> lines_of(const fs::path& file) {
  std::vector<json> out;
  std::ifstream in(file);
  for (std::string l; std::getline(in, l);)
    if (!l.empty())
      out.push_back(json::parse(l));
  return out;
}

// Waits (up to `timeout`) for `file` to hold something: the command hook
// writes it from another process, so there is no message to wait for.
bool wait_for_file(const fs::path& file, std::chrono::seconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  std::error_code ec;
  while (std::chrono::steady_clock::now() < until) {
    if (fs::exists(file, ec) && fs::file_size(file, ec) > 0)
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_signed_webhook_delivery_survives_a_sigkill_and_arrives_once_by_id) {
  temp_dir t;
  auto log = t / "hooks.jsonl";
  ::setenv("POSTROLL_TEST_HOOK_SECRET", "hook-secret-42", 1);
  write_file(log.string() + ".down", "");  // the receiver is down at first
  child_process server({"python3", (source_dir() / "tests/support/fake_http_server.py").string(), log.string(), "gated"});
  auto line = server.wait_for_line([](const std::string& l) { return l.rfind("listening", 0) == 0; }, 10s);
  BOOST_REQUIRE(!line.empty());
  write_file(t / "node.toml", "[node]\nport = 0\ndata_dir = \"" + (t / "db").string() +
                                "\"\n[enrich]\nenabled = false\n[notify]\ndesktop = false\nwebhook_url = \"http://127.0.0.1:" +
                                line.substr(10) + "/hook\"\nwebhook_secret_env = \"POSTROLL_TEST_HOOK_SECRET\"\n"
                                "webhook_attempts = 20\nwebhook_timeout_ms = 2000\n");
  std::vector<std::string> argv = {postroll_binary().string(), "node", "--config", (t / "node.toml").string()};
  std::string job_id;
  {
    child_process node{argv};
    auto [host, port] = wait_for_node(node);
    auto client = runtime::connect(host, port);
    BOOST_REQUIRE(client);
    auto job = (*client)->submit(tone_session(t / "s", "hooked").string());
    BOOST_REQUIRE(job);
    job_id = job->id;
    auto done = (*client)->wait(job->id, 60s);
    BOOST_REQUIRE(done && done->state == job_state::completed);
    // The first attempt failed (503): the delivery is pending in the node.
    BOOST_REQUIRE(!server.wait_for_line([](const std::string& l) { return l == "post 1 503"; }, 20s).empty());
    client->reset();
    node.signal(SIGKILL);
    node.wait();
  }
  fs::remove(log.string() + ".down");  // the receiver comes back
  child_process node{argv};
  wait_for_node(node);
  // The restarted node sends it again from its outbox.
  BOOST_REQUIRE(!server.wait_for_line([](const std::string& l) { return l.find(" 200") != std::string::npos; }, 30s).empty());
  auto posts = lines_of(log);
  BOOST_REQUIRE(posts.size() >= 2u);
  std::set<std::string> ids;
  int delivered = 0;
  for (const auto& p : posts) {
    auto body = json::parse(p["body"].get<std::string>());
    ids.insert(body["deliveryId"].get<std::string>());
    BOOST_TEST(p["signatureValid"].get<bool>());
    BOOST_TEST(p["headers"]["X-Postroll-Delivery"] == body["deliveryId"]);
    BOOST_TEST(body["event"] == "job-completed");
    BOOST_TEST(body["job"]["id"] == job_id);
    BOOST_TEST(body["job"]["state"] == "completed");
    delivered += p["status"].get<int>() == 200;
  }
  BOOST_TEST(ids.size() == 1u);  // one delivery, counted once by its id
  BOOST_TEST(delivered >= 1);
}

BOOST_AUTO_TEST_CASE(the_command_hook_gets_the_final_record_on_stdin) {
  temp_dir t;
  config cfg;
  cfg.data_dir = (t / "db").string();
  cfg.enrich = false;
  cfg.desktop_notifications = false;
  cfg.log_level = "warn";
  auto out = t / "hook-out.json";
  cfg.notify_command = {"sh", "-c", "cat > '" + out.string() + ".tmp' && mv '" + out.string() + ".tmp' '" + out.string() + "'"};
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  auto job = (*rt)->submit((tone_session(t / "s", "cmdhook")).string());
  BOOST_REQUIRE(job);
  auto done = (*rt)->wait(job->id, 60s);
  BOOST_REQUIRE(done && done->state == job_state::completed);
  BOOST_REQUIRE(wait_for_file(out, 20s));
  auto got = json::parse(read_file(out));
  BOOST_TEST(got["job"]["id"] == job->id);
  BOOST_TEST(got["job"]["state"] == "completed");
  BOOST_TEST(got["deliveryId"].get<std::string>().find(job->id) == 0u);
}

// A minimal org.freedesktop.Notifications service on a bus (GDBus, on a
// thread of its own): records every Notify call's summary and body.
class fake_notification_service {
public:
  explicit fake_notification_service(const std::string& address) {
    ctx_ = g_main_context_new();
    loop_ = g_main_loop_new(ctx_, FALSE);
    std::promise<bool> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, address, &ready] {
      g_main_context_push_thread_default(ctx_);
      GError* err = nullptr;
      conn_ = g_dbus_connection_new_for_address_sync(
        address.c_str(),
        GDBusConnectionFlags(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
        nullptr, nullptr, &err);
      bool ok = conn_ != nullptr;
      if (ok) {
        static const char* xml =
          "<node><interface name='org.freedesktop.Notifications'>"
          "<method name='GetServerInformation'><arg type='s' direction='out'/><arg type='s' direction='out'/>"
          "<arg type='s' direction='out'/><arg type='s' direction='out'/></method>"
          "<method name='GetCapabilities'><arg type='as' direction='out'/></method>"
          "<method name='Notify'><arg type='s'/><arg type='u'/><arg type='s'/><arg type='s'/><arg type='s'/>"
          "<arg type='as'/><arg type='a{sv}'/><arg type='i'/><arg type='u' direction='out'/></method>"
          "</interface></node>";
        auto* info = g_dbus_node_info_new_for_xml(xml, nullptr);
        static const GDBusInterfaceVTable vtable = {&fake_notification_service::on_call, nullptr, nullptr, {}};
        g_dbus_connection_register_object(conn_, "/org/freedesktop/Notifications", info->interfaces[0], &vtable, this,
                                          nullptr, nullptr);
        g_dbus_node_info_unref(info);
        auto reply = g_dbus_connection_call_sync(conn_, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                 "org.freedesktop.DBus", "RequestName",
                                                 g_variant_new("(su)", "org.freedesktop.Notifications", 4u), nullptr,
                                                 G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, nullptr);
        ok = reply != nullptr;
        if (reply)
          g_variant_unref(reply);
      }
      if (err)
        g_error_free(err);
      ready.set_value(ok);
      g_main_loop_run(loop_);
      g_main_context_pop_thread_default(ctx_);
    });
    ok_ = started.get();
  }
  ~fake_notification_service() {
    g_main_loop_quit(loop_);
    thread_.join();
    if (conn_)
      g_object_unref(conn_);
    g_main_loop_unref(loop_);
    g_main_context_unref(ctx_);
  }
  bool ok() const { return ok_; }
  // Waits for a Notify call; @returns "summary\nbody" or "".
  std::string wait_for_notify(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait_for(lock, timeout, [&] { return !notes_.empty(); });
    return notes_.empty() ? std::string{} : notes_.front();
  }

private:
  static void on_call(GDBusConnection*, const gchar*, const gchar*, const gchar*, const gchar* method,
                      GVariant* params, GDBusMethodInvocation* call, gpointer self_ptr) {
    auto* self = static_cast<fake_notification_service*>(self_ptr);
    std::string m = method;
    if (m == "GetServerInformation") {
      g_dbus_method_invocation_return_value(call, g_variant_new("(ssss)", "fake", "postroll-test", "1", "1.2"));
    } else if (m == "GetCapabilities") {
      const gchar* caps[] = {"body", nullptr};
      g_dbus_method_invocation_return_value(call, g_variant_new("(^as)", caps));
    } else {
      const gchar *app = nullptr, *icon = nullptr, *summary = nullptr, *body = nullptr;
      guint32 replaces = 0;
      g_variant_get_child(params, 0, "&s", &app);
      g_variant_get_child(params, 1, "u", &replaces);
      g_variant_get_child(params, 2, "&s", &icon);
      g_variant_get_child(params, 3, "&s", &summary);
      g_variant_get_child(params, 4, "&s", &body);
      {
        std::lock_guard<std::mutex> g{self->mtx_};
        self->notes_.push_back(std::string{summary} + "\n" + body);
      }
      self->cv_.notify_all();
      g_dbus_method_invocation_return_value(call, g_variant_new("(u)", 1u));
    }
  }

  GMainContext* ctx_ = nullptr;
  GMainLoop* loop_ = nullptr;
  GDBusConnection* conn_ = nullptr;
  std::thread thread_;
  bool ok_ = false;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::string> notes_;
};

BOOST_AUTO_TEST_CASE(a_desktop_notification_goes_over_the_session_bus) {
  temp_dir t;
  // A private session bus with a notification service on it.
  child_process bus({"dbus-daemon", "--session", "--nofork", "--print-address=1"});
  auto address = bus.wait_for_line([](const std::string& l) { return l.rfind("unix:", 0) == 0; }, 10s);
  BOOST_REQUIRE(!address.empty());
  fake_notification_service service{address};
  BOOST_REQUIRE(service.ok());
  ::setenv("DBUS_SESSION_BUS_ADDRESS", address.c_str(), 1);
  config cfg;
  cfg.data_dir = (t / "db").string();
  cfg.enrich = false;
  cfg.desktop_notifications = true;
  cfg.log_level = "warn";
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  auto job = (*rt)->submit(tone_session(t / "s", "desktop-note").string());
  BOOST_REQUIRE(job);
  auto done = (*rt)->wait(job->id, 60s);
  BOOST_REQUIRE(done && done->state == job_state::completed);
  auto note = service.wait_for_notify(20s);
  BOOST_TEST(note.find("Session ready: desktop-note") == 0u, note);
  BOOST_TEST(note.find("session.m4a") != std::string::npos, note);  // the playable file
  ::unsetenv("DBUS_SESSION_BUS_ADDRESS");
}
