// The node's HTTP API over a real socket: routes and their errors, the
// security rules, Range requests for media, and the event stream resumed
// with Last-Event-ID after a disconnect (nothing missed, nothing twice).
#define BOOST_TEST_MODULE http_api
#include <boost/test/unit_test.hpp>

#include <regex>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "net/http/api_server.hpp"
#include "config/endpoint.hpp"
#include "postroll/runtime.hpp"
#include "support/node_fixture.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

std::string submit_body(const fs::path& dir) { return json{{"session", dir.string()}}.dump(); }

// Reads SSE "transition" events until `until` says stop; @returns them.
std::vector<json> read_events(const node_fixture& f, const std::string& last_id,
                              const std::function<bool(const json&)>& until) {
  auto c = f.client();
  httplib::Headers h;
  if (!last_id.empty())
    h.emplace("Last-Event-ID", last_id);
  std::vector<json> got;
  std::string buffer;
  c.Get("/api/events", h, [&](const char* data, std::size_t n) {
    buffer.append(data, n);
    std::size_t end;
    while ((end = buffer.find("\n\n")) != std::string::npos) {
      auto block = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      if (block.find("event: transition") == std::string::npos)
        continue;
      auto data_at = block.find("data: ");
      auto e = json::parse(block.substr(data_at + 6));
      got.push_back(e);
      if (until(e))
        return false;  // close the stream
    }
    return true;
  });
  return got;
}

}  // namespace

BOOST_AUTO_TEST_CASE(routes_answer_with_json_and_reject_bad_requests_clearly) {
  node_fixture f;
  auto c = f.client();
  auto health = c.Get("/healthz");
  BOOST_REQUIRE(health);
  BOOST_TEST(health->status == 200);

  auto bad = c.Post("/api/jobs", "{not json", "application/json");
  BOOST_REQUIRE(bad);
  BOOST_TEST(bad->status == 400);
  BOOST_TEST(json::parse(bad->body)["error"] == "bad_input");

  auto outside = c.Post("/api/jobs", submit_body(f.t / "elsewhere"), "application/json");
  BOOST_TEST(outside->status == 403);
  BOOST_TEST(json::parse(outside->body)["message"].get<std::string>().find("session root") != std::string::npos);

  auto escape = c.Post("/api/jobs", submit_body(f.t / "sessions/../elsewhere"), "application/json");
  BOOST_TEST(escape->status == 403);

  auto missing = c.Post("/api/jobs", submit_body(f.t / "sessions/none"), "application/json");
  BOOST_TEST(missing->status == 400);
  BOOST_TEST(json::parse(missing->body)["message"].get<std::string>().find("sessions/none") != std::string::npos);

  auto unknown = c.Get("/api/jobs/j000000000000");
  BOOST_TEST(unknown->status == 404);
  BOOST_TEST(json::parse(unknown->body)["error"] == "not_found");
  auto traversal = c.Get("/api/sessions/x/media/..%2F..%2Fetc%2Fpasswd");
  BOOST_TEST(traversal->status == 404);

  auto huge = c.Post("/api/jobs", std::string(2 << 20, 'x'), "application/json");
  BOOST_REQUIRE(huge);
  BOOST_TEST(huge->status == 413);

  // Still serving, and a good submission works end to end.
  auto dir = tone_session(f.t / "sessions/a", "http-a");
  auto created = c.Post("/api/jobs", submit_body(dir), "application/json");
  BOOST_REQUIRE(created);
  BOOST_TEST(created->status == 201);
  auto id = json::parse(created->body)["id"].get<std::string>();
  auto client = runtime::connect(f.caf_host, f.caf_port);
  BOOST_REQUIRE(client);
  auto done = (*client)->wait(id, 60s);
  BOOST_REQUIRE(done && done->state == job_state::completed);
  auto listed = c.Get("/api/jobs?state=completed");
  BOOST_TEST(json::parse(listed->body)["jobs"].size() == 1u);
  BOOST_TEST(json::parse(listed->body)["counts"]["completed"] == 1);
  BOOST_TEST(json::parse(c.Get(("/api/jobs/" + id).c_str())->body)["state"] == "completed");
  auto metrics = c.Get("/metrics");
  BOOST_TEST(metrics->body.find("postroll_jobs{state=\"completed\"} 1") != std::string::npos, metrics->body);
  // Stage durations as a histogram, and the recording's bytes counted.
  BOOST_TEST(metrics->body.find("postroll_stage_duration_seconds_count{stage=\"media.merge\"} 1") != std::string::npos,
             metrics->body);
  BOOST_TEST(metrics->body.find("postroll_stage_duration_seconds_bucket{stage=\"media.merge\",le=\"+Inf\"} 1") !=
                 std::string::npos);
  BOOST_TEST(metrics->body.find("postroll_processed_bytes_total " + std::to_string(done->media_bytes) + "\n") !=
                 std::string::npos, metrics->body);
  BOOST_TEST(done->media_bytes > 0);
  // Per node: a standalone node is one node, its own workers.
  BOOST_TEST(metrics->body.find("postroll_node_stages_total{node=\"") != std::string::npos, metrics->body);
  auto nodes = json::parse(c.Get("/api/nodes")->body)["nodes"];
  BOOST_REQUIRE(nodes.size() == 1u);
  BOOST_TEST(nodes[0]["local"] == true);
  BOOST_TEST(nodes[0]["completed"].get<int>() >= 2);
  auto session = json::parse(c.Get("/api/sessions/http-a")->body);
  BOOST_TEST(session["job"]["id"] == id);
  // The recording's files, by index, as the player of an unmerged session needs them.
  BOOST_REQUIRE(session["manifest"]["audio"].size() == 1u);
  auto original = session["manifest"]["audio"][0];
  BOOST_TEST(original["offsetMs"] == 0);
  BOOST_TEST(original["contentType"] == "audio/wav");
  auto wav = read_file(dir / original["path"].get<std::string>());
  auto head = c.Get(original["url"].get<std::string>().c_str(), {{"Range", "bytes=0-43"}});
  BOOST_REQUIRE(head);
  BOOST_TEST(head->status == 206);
  BOOST_TEST(head->body == wav.substr(0, 44));
  BOOST_TEST(c.Get("/api/sessions/http-a/files/audio/1")->status == 404);
  BOOST_TEST(c.Get("/api/sessions/http-a/files/video/0")->status == 404);
  BOOST_TEST(c.Get("/api/sessions/http-a/files/etc/0")->status == 404);
  bool lists_output = false;
  for (const auto& o : session["outputs"])
    lists_output |= o["name"] == "session.m4a";
  BOOST_TEST(lists_output, session["outputs"].dump());

  // Range: a player seeks without downloading the file.
  auto file = fs::path{done->output};
  auto bytes = read_file(file);
  auto part = c.Get("/api/sessions/http-a/media/session.m4a", {{"Range", "bytes=100-199"}});
  BOOST_REQUIRE(part);
  BOOST_TEST(part->status == 206);
  BOOST_TEST(part->get_header_value("Content-Type") == "audio/mp4");
  BOOST_TEST(part->body == bytes.substr(100, 100));
  auto whole = c.Get("/api/sessions/http-a/media/session.m4a");
  BOOST_TEST(whole->status == 200);
  BOOST_TEST(whole->body.size() == bytes.size());
}

BOOST_AUTO_TEST_CASE(the_event_stream_resumes_with_last_event_id_missing_nothing) {
  node_fixture f;
  auto c = f.client();
  auto client = runtime::connect(f.caf_host, f.caf_port);
  BOOST_REQUIRE(client);
  // First job: read its stream until it completed; remember the last id.
  auto a = json::parse(c.Post("/api/jobs", submit_body(tone_session(f.t / "sessions/a", "ev-a")), "application/json")->body);
  auto first = read_events(f, "0", [&](const json& e) { return e["jobId"] == a["id"] && e["to"] == "completed"; });
  BOOST_REQUIRE(!first.empty());
  auto last_seen = first.back()["seq"].get<std::uint64_t>();
  // Disconnected: a second job runs to the end.
  auto b = json::parse(c.Post("/api/jobs", submit_body(tone_session(f.t / "sessions/b", "ev-b")), "application/json")->body);
  auto done = (*client)->wait(b["id"].get<std::string>(), 60s);
  BOOST_REQUIRE(done && done->state == job_state::completed);
  // Reconnect from the last id: exactly what happened since, in order.
  auto second = read_events(f, std::to_string(last_seen),
                            [&](const json& e) { return e["jobId"] == b["id"] && e["to"] == "completed"; });
  BOOST_REQUIRE(!second.empty());
  BOOST_TEST(second.front()["seq"].get<std::uint64_t>() == last_seen + 1);
  for (std::size_t i = 1; i < second.size(); ++i)
    BOOST_TEST(second[i]["seq"].get<std::uint64_t>() == second[i - 1]["seq"].get<std::uint64_t>() + 1);
  auto history = (*client)->history(b["id"].get<std::string>());
  BOOST_REQUIRE(history);
  std::size_t of_b = std::count_if(second.begin(), second.end(), [&](const json& e) { return e["jobId"] == b["id"]; });
  BOOST_TEST(of_b == history->size());  // every transition of the job, once
}

BOOST_AUTO_TEST_CASE(a_token_guards_every_route_and_off_loopback_needs_one) {
  ::setenv("POSTROLL_TEST_HTTP_TOKEN", "s3cret-token", 1);
  {
    node_fixture f{"token_env = \"POSTROLL_TEST_HTTP_TOKEN\"\n"};
    auto c = f.client();
    BOOST_TEST(c.Get("/healthz")->status == 401);
    BOOST_TEST(c.Get("/api/jobs", {{"Authorization", "Bearer wrong-token!"}})->status == 401);
    BOOST_TEST(c.Get("/api/jobs", {{"Authorization", "Bearer s3cret-token"}})->status == 200);
  }
  BOOST_TEST(postroll::is_loopback("127.0.0.1"));
  BOOST_TEST(postroll::is_loopback("127.3.2.1"));
  BOOST_TEST(!postroll::is_loopback("0.0.0.0"));
  temp_dir t;
  write_file(t / "open.toml", "[node]\nhost = \"0.0.0.0\"\nport = 0\ndata_dir = \"" + (t / "db").string() +
                                "\"\n[notify]\ndesktop = false\n");
  auto r = run({postroll_binary().string(), "node", "--config", (t / "open.toml").string()});
  BOOST_TEST(r.exit_code != 0);
  // Off loopback the middleman needs TLS first (docs/scale-out.md); with
  // TLS set up, the HTTP API still asks for its token (api_server::start).
  BOOST_TEST(r.err.find("off loopback: set [tls]") != std::string::npos, r.err);
}

// media.output_dir is the node's choice: the outputs, the job's playable
// file and the dashboard's session view all follow it.
BOOST_AUTO_TEST_CASE(a_non_default_output_dir_is_where_the_api_finds_the_outputs) {
  node_fixture f{"[media]\noutput_dir = \"finalized\"\n"};
  auto c = f.client();
  auto dir = tone_session(f.t / "sessions/o", "http-out");
  auto created = c.Post("/api/jobs", submit_body(dir), "application/json");
  BOOST_REQUIRE(created);
  BOOST_REQUIRE_EQUAL(created->status, 201);
  auto id = json::parse(created->body)["id"].get<std::string>();
  auto client = runtime::connect(f.caf_host, f.caf_port);
  BOOST_REQUIRE(client);
  auto done = (*client)->wait(id, 60s);
  BOOST_REQUIRE(done && done->state == job_state::completed);
  BOOST_TEST(done->output == (dir / "finalized/session.m4a").string());
  BOOST_TEST(!fs::exists(dir / default_output_dir));
  auto session = json::parse(c.Get("/api/sessions/http-out")->body);
  bool lists_output = false;
  for (const auto& o : session["outputs"])
    lists_output |= o["name"] == "session.m4a";
  BOOST_TEST(lists_output, session["outputs"].dump());
  auto media = c.Get("/api/sessions/http-out/media/session.m4a");
  BOOST_REQUIRE(media);
  BOOST_TEST(media->status == 200);
  BOOST_TEST(media->body == read_file(dir / "finalized/session.m4a"));
}

BOOST_AUTO_TEST_CASE(a_live_job_is_opened_fed_and_ended_over_http) {
  node_fixture f;
  auto c = f.client();
  auto dir = f.t / "sessions/live";
  fs::create_directories(dir / "audio");
  write_file(dir / "session.json", json{{"schema", 1}, {"id", "http-live"}}.dump());
  auto opened = c.Post("/api/jobs", json{{"session", dir.string()}, {"live", true}}.dump(), "application/json");
  BOOST_REQUIRE(opened);
  BOOST_TEST(opened->status == 201, opened->body);
  auto job = json::parse(opened->body);
  BOOST_TEST(job["live"] == true);
  auto id = job["id"].get<std::string>();
  // The session route shows a recording that lists nothing yet.
  BOOST_TEST(c.Get("/api/sessions/http-live")->status == 200);
  sh("sox -n -r 16000 -c 1 -b 16 '" + (dir / "audio/0.wav").string() + "' synth 2 sine 440 vol 0.3");
  auto files = "/api/jobs/" + id + "/files";
  auto added = c.Post(files.c_str(), R"({"kind": "audio", "path": "audio/0.wav", "offsetMs": 0})", "application/json");
  BOOST_REQUIRE(added);
  BOOST_TEST(added->status == 200, added->body);
  BOOST_TEST(json::parse(read_file(dir / "session.json"))["audio"].size() == 1u);
  // Numbers and paths from the request are checked before use.
  for (const char* bad : {R"({"kind": "audio", "path": "audio/0.wav", "offsetMs": -5})",
                          R"({"kind": "audio", "path": "audio/0.wav", "offsetMs": 1e300})",
                          R"({"kind": "audio", "path": "audio/0.wav", "offsetMs": 18446744073709551615})",
                          R"({"kind": "audio", "path": "/etc/passwd", "offsetMs": 0})",
                          R"({"kind": "audio"})"}) {
    auto r = c.Post(files.c_str(), bad, "application/json");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 400, bad << " -> " << r->body);
  }
  // A page of another origin cannot feed or end it.
  httplib::Headers foreign{{"Origin", "http://evil.example"}};
  auto csrf = c.Post(("/api/jobs/" + id + "/end").c_str(), foreign, "{}", "application/json");
  BOOST_REQUIRE(csrf);
  BOOST_TEST(csrf->status == 403);
  BOOST_TEST(!json::parse(read_file(dir / "session.json")).contains("endedAt"));
  auto ended = c.Post(("/api/jobs/" + id + "/end").c_str(), "{}", "application/json");
  BOOST_REQUIRE(ended);
  BOOST_TEST(ended->status == 200, ended->body);
  auto client = runtime::connect(f.caf_host, f.caf_port);
  BOOST_REQUIRE(client);
  auto done = (*client)->wait(id, 60s);
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->state) == "completed");
  auto late = c.Post(files.c_str(), R"({"kind": "audio", "path": "audio/0.wav", "offsetMs": 2000})", "application/json");
  BOOST_TEST(late->status == 400);
}
