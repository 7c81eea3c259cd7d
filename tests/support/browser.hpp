// A real headless Chromium driven through chromedriver (W3C WebDriver over
// HTTP): what the dashboard's end-to-end tests click and read. Debian's
// chromium and chromium-driver; no npm, no network.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

namespace httplib {
class Client;
}

namespace postroll::test {

class browser {
public:
  /// Starts chromedriver on a free port and a headless Chromium window of
  /// `width` x `height`. Throws when either does not start.
  explicit browser(int width = 1280, int height = 900);
  ~browser();  ///< ends the WebDriver session and chromedriver

  void go(const std::string& url);
  void reload();
  /// Runs `script` (a function body; `arguments` holds `args`) in the page.
  nlohmann::json run(const std::string& script, const nlohmann::json& args = nlohmann::json::array());
  /// The same as an async script: it ends by calling its last argument
  /// with the value to return (at most 120 s).
  nlohmann::json run_async(const std::string& script, const nlohmann::json& args = nlohmann::json::array());
  /// Waits until the JavaScript expression `expr` is truthy in the page and
  /// returns its value. Polled inside the page every 50 ms (a condition,
  /// not a sleep); throws naming `what` and the page's last value of
  /// `describe` (an expression) when `timeout` passes.
  nlohmann::json wait_for(const std::string& expr, std::chrono::milliseconds timeout, const std::string& what,
                          const std::string& describe = "document.body.innerText.slice(0, 2000)");
  /// A real click (pointer input) on the first element matching `css`.
  void click(const std::string& css);
  /// Focuses the element and types `text` (WebDriver key codes allowed,
  /// e.g. "\ue007" for Enter).
  void type(const std::string& css, const std::string& text);
  void resize(int width, int height);
  /// Saves a PNG of the viewport.
  void screenshot(const std::filesystem::path& png);

private:
  nlohmann::json call(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr);
  std::string element(const std::string& css);

  std::unique_ptr<child_process> driver_;
  std::unique_ptr<httplib::Client> http_;
  std::string session_;
};

/// Where tests leave files for people to look at (screenshots): the build
/// tree's test-artifacts/ folder.
std::filesystem::path artifact_dir();

}  // namespace postroll::test
