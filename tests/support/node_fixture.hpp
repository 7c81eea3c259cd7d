// A `postroll node` child process with its HTTP API on a free loopback
// port, a data folder and a session root of its own.
#pragma once

#include <regex>

#include <boost/test/unit_test.hpp>
#include <httplib.h>

#include "support/test_support.hpp"

namespace postroll::test {

struct node_fixture {
  temp_dir t;
  std::unique_ptr<child_process> node;
  int http_port = 0;
  std::string caf_host;
  std::uint16_t caf_port = 0;

  /// `extra` is appended to the node's config (after its [http] table).
  explicit node_fixture(const std::string& extra = "", bool enrich = false) {
    using namespace std::chrono_literals;
    std::filesystem::create_directories(t / "sessions");
    write_file(t / "node.toml", "[node]\nport = 0\ndata_dir = \"" + (t / "db").string() + "\"\n[enrich]\nenabled = " +
                                  (enrich ? "true" : "false") + "\n[notify]\ndesktop = false\n[http]\nsession_roots = [\"" +
                                  (t / "sessions").string() + "\"]\n" + extra);
    node = std::make_unique<child_process>(
        std::vector<std::string>{postroll_binary().string(), "node", "--config", (t / "node.toml").string()});
    auto line = node->wait_for_line([](const std::string& l) { return l.find("postroll http on") != std::string::npos; }, 30s);
    std::smatch m;
    BOOST_REQUIRE_MESSAGE(std::regex_search(line, m, std::regex{":(\\d+)$"}), node->transcript());
    http_port = std::stoi(m[1].str());
    std::tie(caf_host, caf_port) = wait_for_node(*node);
  }
  httplib::Client client() const {
    httplib::Client c{"127.0.0.1", http_port};
    c.set_read_timeout(30, 0);
    return c;
  }
  std::string url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(http_port) + path; }
};

}  // namespace postroll::test
