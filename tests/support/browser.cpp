#include "support/browser.hpp"

#include <regex>
#include <stdexcept>

#include <httplib.h>
#include <openssl/evp.h>

namespace postroll::test {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {
const char* const element_key = "element-6066-11e4-a52e-4f735466cecf";  // fixed by the W3C spec

std::string base64_decode(const std::string& in) {
  std::string out(in.size() / 4 * 3 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          int(in.size()));
  if (n < 0)
    throw std::runtime_error("browser: bad base64 in a screenshot");
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t pad = in.size() >= 2 && in[in.size() - 1] == '=' ? (in[in.size() - 2] == '=' ? 2 : 1) : 0;
  out.resize(std::size_t(n) - pad);
  return out;
}
}  // namespace

fs::path artifact_dir() {
  auto dir = fs::path{POSTROLL_ARTIFACT_DIR};
  fs::create_directories(dir);
  return dir;
}

browser::browser(int width, int height) {
  driver_ = std::make_unique<child_process>(std::vector<std::string>{"chromedriver", "--port=0"});
  auto line = driver_->wait_for_line([](const std::string& l) { return l.find("started successfully on port") != std::string::npos; }, 30s);
  std::smatch m;
  if (!std::regex_search(line, m, std::regex{"port (\\d+)"}))
    throw std::runtime_error("chromedriver did not start: " + driver_->transcript());
  http_ = std::make_unique<httplib::Client>("127.0.0.1", std::stoi(m[1].str()));
  http_->set_read_timeout(120, 0);
  json args = {"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-dev-shm-usage", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
               "--window-size=" + std::to_string(width) + "," + std::to_string(height)};
  json caps = {{"capabilities",
                {{"alwaysMatch", {{"browserName", "chrome"},
                                  {"goog:chromeOptions", {{"binary", "/usr/bin/chromium"}, {"args", args}}}}}}}};
  auto created = call("POST", "/session", caps);
  session_ = created["sessionId"].get<std::string>();
  call("POST", "/session/" + session_ + "/timeouts", {{"script", 120000}, {"pageLoad", 60000}});
}

browser::~browser() {
  try {
    if (!session_.empty())
      call("DELETE", "/session/" + session_);
  } catch (...) {
  }
}

json browser::call(const std::string& method, const std::string& path, const json& body) {
  httplib::Result r = method == "GET"      ? http_->Get(path.c_str())
                       : method == "DELETE" ? http_->Delete(path.c_str())
                                            : http_->Post(path.c_str(), body.is_null() ? "{}" : body.dump(), "application/json");
  if (!r)
    throw std::runtime_error("webdriver " + method + " " + path + ": " + httplib::to_string(r.error()));
  auto reply = json::parse(r->body, nullptr, false);
  if (r->status != 200 || reply.is_discarded())
    throw std::runtime_error("webdriver " + method + " " + path + ": " + std::to_string(r->status) + " " +
                             r->body.substr(0, 2000));
  return reply["value"];
}

void browser::go(const std::string& url) { call("POST", "/session/" + session_ + "/url", {{"url", url}}); }

void browser::reload() { call("POST", "/session/" + session_ + "/refresh", json::object()); }

json browser::run(const std::string& script, const json& args) {
  return call("POST", "/session/" + session_ + "/execute/sync", {{"script", script}, {"args", args}});
}

json browser::run_async(const std::string& script, const json& args) {
  return call("POST", "/session/" + session_ + "/execute/async", {{"script", script}, {"args", args}});
}

json browser::wait_for(const std::string& expr, std::chrono::milliseconds timeout, const std::string& what,
                       const std::string& describe) {
  // The expressions are part of the script's own text: the dashboard's
  // Content-Security-Policy forbids eval (new Function) in the page, while
  // WebDriver's scripts are not subject to it.
  auto script = std::string{R"(
    const timeout = arguments[0];
    const done = arguments[arguments.length - 1];
    const value = () => { try { return ()"} + expr + R"(); } catch (err) { return undefined; } };
    const describe = () => { try { return ()" + describe + R"(); } catch (err) { return undefined; } };
    const t0 = performance.now();
    (function poll() {
      const v = value();
      if (v) return done({ ok: true, value: v });
      if (performance.now() - t0 > timeout) return done({ ok: false, seen: String(describe()) });
      setTimeout(poll, 50);
    })();)";
  auto r = call("POST", "/session/" + session_ + "/execute/async", {{"script", script}, {"args", {timeout.count()}}});
  if (!r.value("ok", false))
    throw std::runtime_error("browser: timed out waiting for " + what + " (" + expr + "); page: " + r.value("seen", ""));
  return r["value"];
}

std::string browser::element(const std::string& css) {
  auto e = call("POST", "/session/" + session_ + "/element", {{"using", "css selector"}, {"value", css}});
  return e[element_key].get<std::string>();
}

void browser::click(const std::string& css) {
  call("POST", "/session/" + session_ + "/element/" + element(css) + "/click", json::object());
}

void browser::type(const std::string& css, const std::string& text) {
  call("POST", "/session/" + session_ + "/element/" + element(css) + "/value", {{"text", text}});
}

void browser::resize(int width, int height) {
  call("POST", "/session/" + session_ + "/window/rect", {{"width", width}, {"height", height}});
}

void browser::screenshot(const fs::path& png) {
  auto data = call("GET", "/session/" + session_ + "/screenshot");
  write_file(png, base64_decode(data.get<std::string>()));
}

}  // namespace postroll::test
