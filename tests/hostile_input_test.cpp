// postroll attacked as an attacker would, against a real node and the real
// CLI (docs/security.md): a web page on another origin (raw requests and a
// real Chromium), a recorder's folder with files planted in it, manifests
// with numbers and names meant to break things, a symlink swapped while
// submitting, slow and greedy clients, a full disk. Each case asserts that
// nothing outside the session folder is read, written or deleted, that the
// node keeps serving, and that the error is one line naming the file.
#define BOOST_TEST_MODULE hostile_input
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <fstream>
#include <regex>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/interfaces.hpp"

#include "pipelines/media_probe.hpp"
#include "postroll/runtime.hpp"
#include "support/browser.hpp"
#include "support/loopback.hpp"
#include "support/node_fixture.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

// A TCP connection to 127.0.0.1:port (-1 when refused); 20 s is a
// generous bound on a test's wait, not a timing assertion.
int connect_to(int port) { return dial_loopback(port, timeval{20, 0}); }

// One raw HTTP/1.1 request (the caller writes every header, Host included);
// @returns the status line and headers and body as received until close.
std::string raw_request(int port, const std::string& text) {
  int fd = connect_to(port);
  if (fd < 0)
    return {};
  ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, std::size_t(n));
  ::close(fd);
  return out;
}

int status_of(const std::string& response) {
  std::smatch m;
  return std::regex_search(response, m, std::regex{"^HTTP/1\\.1 (\\d{3})"}) ? std::stoi(m[1].str()) : 0;
}

std::string host_of(const node_fixture& f) { return "127.0.0.1:" + std::to_string(f.http_port); }

std::string post(const node_fixture& f, const std::string& path, const std::string& body, const std::string& extra) {
  return "POST " + path + " HTTP/1.1\r\nHost: " + host_of(f) + "\r\nConnection: close\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string get(const std::string& host, const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n" + extra + "\r\n";
}

std::size_t job_count(const node_fixture& f) {
  auto r = f.client().Get("/api/jobs?limit=500");
  return r ? json::parse(r->body)["jobs"].size() : 0;
}

// A session with a short H.264 video (ffmpeg's libx264 defaults, as
// recorders write) and a WAV tone.
fs::path av_session(const fs::path& dir, const std::string& id, int video_s = 3, int audio_offset_ms = 0) {
  fs::create_directories(dir / "video");
  fs::create_directories(dir / "audio");
  sh("ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=15 -t " + std::to_string(video_s) +
     " -c:v libx264 -preset veryfast -pix_fmt yuv420p '" + (dir / "video/v.mp4").string() + "'");
  sh("sox -n -r 16000 -c 1 -b 16 '" + (dir / "audio/a.wav").string() + "' synth 3 sine 440 vol 0.3");
  write_file(dir / "session.json", json{{"schema", 1},
                                        {"id", id},
                                        {"video", {{{"path", "video/v.mp4"}, {"offsetMs", 0}}}},
                                        {"audio", {{{"path", "audio/a.wav"}, {"offsetMs", audio_offset_ms}}}}}
                                       .dump());
  return dir;
}

command_result process(const fs::path& dir, const fs::path& db, const std::vector<std::string>& more = {}) {
  std::vector<std::string> argv = {"timeout", "120", postroll_binary().string(), "process", dir.string(),
                                   "--data-dir", db.string()};
  argv.insert(argv.end(), more.begin(), more.end());
  return run(argv);
}

// The one line `postroll` printed to say why it stopped.
std::string last_line(const std::string& text) {
  auto t = text;
  while (!t.empty() && t.back() == '\n')
    t.pop_back();
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_page_on_another_origin_can_neither_act_nor_read) {
  node_fixture f{"web_dir = " + json((source_dir() / "web").string()).dump() + "\n"};
  auto dir = av_session(f.t / "sessions/a", "csrf-a");
  auto body = json{{"session", dir.string()}, {"options", {{"retention", "delete"}}}}.dump();
  // The "simple" request a page sends without asking: text/plain, another origin.
  auto csrf = raw_request(f.http_port, post(f, "/api/jobs", body, "Origin: http://evil.example\r\nContent-Type: text/plain\r\n"));
  BOOST_TEST(status_of(csrf) == 403, csrf);
  auto json_csrf = raw_request(f.http_port, post(f, "/api/jobs", body, "Origin: http://evil.example\r\nContent-Type: application/json\r\n"));
  BOOST_TEST(status_of(json_csrf) == 403);
  auto null_origin = raw_request(f.http_port, post(f, "/api/jobs", body, "Origin: null\r\nContent-Type: application/json\r\n"));
  BOOST_TEST(status_of(null_origin) == 403);
  auto fetch_meta = raw_request(f.http_port, post(f, "/api/jobs", body, "Sec-Fetch-Site: cross-site\r\nContent-Type: application/json\r\n"));
  BOOST_TEST(status_of(fetch_meta) == 403);
  auto same_site = raw_request(f.http_port, post(f, "/api/jobs", body, "Sec-Fetch-Site: same-site\r\nContent-Type: application/json\r\n"));
  BOOST_TEST(status_of(same_site) == 403, "another port on localhost is another origin");
  // Without a browser's headers a body must still say it is JSON.
  auto plain = raw_request(f.http_port, post(f, "/api/jobs", body, "Content-Type: text/plain\r\n"));
  BOOST_TEST(status_of(plain) == 415);
  auto form = raw_request(f.http_port, post(f, "/api/jobs", "session=x", "Content-Type: application/x-www-form-urlencoded\r\n"));
  BOOST_TEST(status_of(form) == 415);
  BOOST_TEST(job_count(f) == 0u);
  BOOST_TEST(fs::exists(dir / "video/v.mp4"));

  // DNS rebinding: the page's own name, resolved to 127.0.0.1.
  auto rebound = raw_request(f.http_port, get("evil.example:" + std::to_string(f.http_port), "/api/jobs"));
  BOOST_TEST(status_of(rebound) == 421, rebound);
  BOOST_TEST(rebound.find("\"jobs\"") == std::string::npos);
  BOOST_TEST(status_of(raw_request(f.http_port, get("127.0.0.1:1", "/api/jobs"))) == 421);
  BOOST_TEST(status_of(raw_request(f.http_port, "GET /api/jobs HTTP/1.0\r\n\r\n")) == 421, "no Host at all");
  BOOST_TEST(status_of(raw_request(f.http_port, get("localhost:" + std::to_string(f.http_port), "/api/jobs"))) == 200);

  // The node's own page works, and a job it submits runs.
  auto own = raw_request(f.http_port, post(f, "/api/jobs", json{{"session", dir.string()}}.dump(),
                                            "Origin: http://" + host_of(f) + "\r\nSec-Fetch-Site: same-origin\r\n"
                                            "Content-Type: application/json\r\n"));
  BOOST_REQUIRE_MESSAGE(status_of(own) == 201, own);
  auto id = json::parse(own.substr(own.find("\r\n\r\n") + 4))["id"].get<std::string>();
  auto rt = runtime::connect(f.caf_host, f.caf_port);
  BOOST_REQUIRE(rt);
  auto done = (*rt)->wait(id, 120s);
  BOOST_REQUIRE(done && done->state == job_state::completed);
  // Cancel and retry from another origin are refused too.
  BOOST_TEST(status_of(raw_request(f.http_port, post(f, "/api/jobs/" + id + "/retry", "", "Origin: http://evil.example\r\n"))) == 403);
  BOOST_TEST(status_of(raw_request(f.http_port, post(f, "/api/jobs/" + id + "/cancel", "", "Origin: http://evil.example\r\n"))) == 403);
  auto del = "DELETE /api/jobs/" + id + "?files=true HTTP/1.1\r\nHost: " + host_of(f) +
             "\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n";
  BOOST_TEST(status_of(raw_request(f.http_port, del)) == 403);
  BOOST_TEST(fs::exists(dir / "video/v.mp4"));

  // Media cannot be embedded by another site, and says so in its headers.
  auto media = "/api/sessions/csrf-a/media/session.mp4";
  auto embedded = raw_request(f.http_port, get(host_of(f), media, "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Dest: video\r\n"));
  BOOST_TEST(status_of(embedded) == 403);
  auto mine = raw_request(f.http_port, get(host_of(f), media, "Sec-Fetch-Site: same-origin\r\nRange: bytes=0-99\r\n"));
  BOOST_TEST(status_of(mine) == 206);
  BOOST_TEST(mine.find("Cross-Origin-Resource-Policy: same-origin") != std::string::npos);
  BOOST_TEST(mine.find("X-Content-Type-Options: nosniff") != std::string::npos);
  BOOST_TEST(mine.find("Access-Control-Allow-Origin") == std::string::npos);
  auto page = raw_request(f.http_port, get(host_of(f), "/"));
  BOOST_TEST(status_of(page) == 200);
  BOOST_TEST(page.find("Content-Security-Policy: default-src 'self'") != std::string::npos);
  BOOST_TEST(page.find("frame-ancestors 'none'") != std::string::npos);
  // No CORS: a preflight from another origin gets no permission.
  auto preflight = "OPTIONS /api/jobs HTTP/1.1\r\nHost: " + host_of(f) +
                   "\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n";
  auto pre = raw_request(f.http_port, preflight);
  BOOST_TEST(status_of(pre) == 403);
  BOOST_TEST(pre.find("Access-Control-Allow-Origin") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_foreign_page_in_chromium_can_neither_submit_nor_embed) {
  node_fixture f;
  auto done_dir = av_session(f.t / "sessions/done", "embed-done");
  auto rt = runtime::connect(f.caf_host, f.caf_port);
  BOOST_REQUIRE(rt);
  auto job = (*rt)->submit(done_dir.string());
  BOOST_REQUIRE(job);
  BOOST_REQUIRE((*rt)->wait(job->id, 120s));
  auto victim = av_session(f.t / "sessions/victim", "embed-victim");
  auto before = job_count(f);

  // The attacker's page, served from another port of this machine.
  temp_dir site;
  auto node = "http://127.0.0.1:" + std::to_string(f.http_port);
  write_file(site / "evil.html",
             "<!doctype html><html><body><video id=v muted></video><script>\n"
             "const node = '" + node + "';\n"
             "const body = JSON.stringify({session: '" + victim.string() + "', options: {retention: 'delete'}});\n"
             "window.results = {};\n"
             "const v = document.getElementById('v');\n"
             "v.onloadedmetadata = () => { results.video = 'loaded ' + v.duration; };\n"
             "v.onerror = () => { results.video = 'blocked'; };\n"
             "v.src = node + '/api/sessions/embed-done/media/session.mp4';\n"
             "Promise.allSettled([\n"
             "  fetch(node + '/api/jobs', {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body}),\n"
             "  fetch(node + '/api/jobs', {method: 'POST', headers: {'Content-Type': 'application/json'}, body}),\n"
             "  fetch(node + '/api/jobs').then(r => r.text()),\n"
             "]).then(r => { results.fetches = r.map(x => x.status + ':' + (x.reason ? 'error' : 'ok')); });\n"
             "</script></body></html>\n");
  child_process server{{"python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", site.path().string(), "0"}};
  auto line = server.wait_for_line([](const std::string& l) { return l.find("Serving HTTP") != std::string::npos; }, 20s);
  std::smatch m;
  BOOST_REQUIRE_MESSAGE(std::regex_search(line, m, std::regex{"port (\\d+)"}), server.transcript());
  browser b;
  b.go("http://127.0.0.1:" + m[1].str() + "/evil.html");
  auto seen = b.wait_for("window.results && results.video && results.fetches && results", 30s, "the page's attempts");
  BOOST_TEST_MESSAGE("foreign page saw: " << seen.dump());
  BOOST_TEST(seen["video"] == "blocked");
  // The no-cors request reaches the node and is refused there; the CORS
  // ones are stopped by the browser or refused.
  BOOST_TEST(job_count(f) == before, "a foreign page created a job");
  BOOST_TEST(fs::exists(victim / "video/v.mp4"));
  BOOST_TEST(fs::exists(victim / "audio/a.wav"));
}

BOOST_AUTO_TEST_CASE(bookkeeping_planted_in_the_session_folder_is_never_trusted) {
  temp_dir t;
  auto dir = av_session(t / "s", "planted");
  // Outside the folder: a file retention must not delete and a video that
  // must not become the session's.
  write_file(t / "victim.txt", "precious");
  sh("ffmpeg -loglevel error -f lavfi -i testsrc2=size=320x240:rate=15 -t 9 -c:v libx264 -preset veryfast '" +
     (t / "secret.mp4").string() + "'");
  ::chmod((t / "secret.mp4").c_str(), 0600);
  fs::create_directories(dir / "postroll/repair");
  fs::create_directories(dir / "postroll/enrichment");
  write_file(dir / "postroll/retention.json",
             json{{"policy", "delete"}, {"state", "removing"}, {"job", "x"},
                  {"files", {(t / "victim.txt").string(), "../victim.txt"}}, {"done", json::array()}, {"bytes", 1}}
                 .dump());
  write_file(dir / "postroll/repair/repairs.json",
             json{{"repairs", {{{"kind", "video"}, {"index", 0}, {"file", "video/v.mp4"},
                                {"repaired", (t / "secret.mp4").string()},
                                {"original", {{"bytes", fs::file_size(dir / "video/v.mp4")}, {"mtime", 0}}}}}}}
                 .dump());
  write_file(dir / "postroll/enrichment/chapters.json",
             json{{"cacheKey", "0123456789abcdef"}, {"chapters", {{{"title", "PLANTED"}, {"startMs", 0}}}}}.dump());
  auto r = process(dir, t / "db", {"--retention", "delete"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  BOOST_TEST(read_file(t / "victim.txt") == "precious");
  BOOST_TEST(fs::exists(t / "secret.mp4"));
  // The session's own 3 s video, not the 9 s secret one.
  BOOST_TEST(probe_duration(dir / "postroll/session.mp4", "v:0") < 5.0);
  BOOST_TEST(read_file(dir / "postroll/enrichment/chapters.json").find("PLANTED") == std::string::npos);
  BOOST_TEST(r.err.find("was not written by this node") != std::string::npos, r.err);
  // Its own retention ran: the originals went, the outputs stayed.
  BOOST_TEST(!fs::exists(dir / "video/v.mp4"));
  BOOST_TEST(fs::exists(dir / "postroll/session.mp4"));
}

BOOST_AUTO_TEST_CASE(an_output_folder_that_is_a_symlink_is_refused_and_never_served) {
  node_fixture f;
  auto dir = av_session(f.t / "sessions/link", "out-link");
  fs::create_directories(f.t / "elsewhere");
  write_file(f.t / "elsewhere/existing.txt", "private");
  fs::create_directory_symlink(f.t / "elsewhere", dir / "postroll");
  auto r = process(dir, f.t / "cli-db");
  BOOST_TEST(r.exit_code == 2, r.err);
  BOOST_TEST(last_line(r.err).find(dir.string() + "/postroll: is a symbolic link, not a real folder") != std::string::npos, r.err);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(f.t / "elsewhere")) {
    (void)e;
    ++files;
  }
  BOOST_TEST(files == 1u, "postroll wrote into the folder the link points to");
  // The node refuses it the same way, and serves nothing through the link.
  auto rt = runtime::connect(f.caf_host, f.caf_port);
  BOOST_REQUIRE(rt);
  auto job = (*rt)->submit(dir.string());
  BOOST_REQUIRE(job);
  auto ended = (*rt)->wait(job->id, 60s);
  BOOST_REQUIRE(ended);
  BOOST_TEST(to_string(ended->state) == std::string{"failed"});
  BOOST_TEST(ended->error.find("is a symbolic link, not a real folder") != std::string::npos, ended->error);
  auto c = f.client();
  BOOST_TEST(c.Get("/api/sessions/out-link/media/existing.txt")->status == 404);
  auto session = json::parse(c.Get("/api/sessions/out-link")->body);
  BOOST_TEST(session["outputs"].empty(), session.dump());
}

BOOST_AUTO_TEST_CASE(a_manifest_that_is_not_a_file_fails_at_once_without_echoing_anything) {
  temp_dir t;
  fs::create_directories(t / "fifo");
  BOOST_REQUIRE(::mkfifo((t / "fifo/session.json").c_str(), 0600) == 0);
  auto fifo = process(t / "fifo", t / "db");
  BOOST_TEST(fifo.exit_code == 2, "exit " << fifo.exit_code << ": " << fifo.err);
  BOOST_TEST(last_line(fifo.err) == "postroll: " + (t / "fifo/session.json").string() + ": is not a regular file");
  fs::create_directories(t / "zero");
  fs::create_symlink("/dev/zero", t / "zero/session.json");
  auto zero = process(t / "zero", t / "db");
  BOOST_TEST(zero.exit_code == 2);
  BOOST_TEST(last_line(zero.err).find("resolves outside the session folder") != std::string::npos, zero.err);
  write_file(t / "secret.json", "{\"schema\":1, \"id\": \"s\", \"TOPSECRET\": ");
  fs::create_directories(t / "link");
  fs::create_symlink(t / "secret.json", t / "link/session.json");
  auto link = process(t / "link", t / "db");
  BOOST_TEST(link.exit_code == 2);
  BOOST_TEST(link.err.find("TOPSECRET") == std::string::npos);
  BOOST_TEST(link.err.find("{") == std::string::npos);
  // Inside the folder, a broken manifest names the byte, not its text.
  fs::create_directories(t / "broken");
  write_file(t / "broken/session.json", "{\"schema\": 1, \"id\": \"x\", \"name\": \"TOPSECRET\" oops}");
  auto broken = process(t / "broken", t / "db");
  BOOST_TEST(broken.exit_code == 2);
  BOOST_TEST(last_line(broken.err).find("invalid JSON (at byte") != std::string::npos, broken.err);
  BOOST_TEST(broken.err.find("TOPSECRET") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_node_answers_about_a_session_whose_manifest_became_dev_zero) {
  node_fixture f;
  auto dir = av_session(f.t / "sessions/z", "zero-later");
  auto rt = runtime::connect(f.caf_host, f.caf_port);
  BOOST_REQUIRE(rt);
  auto job = (*rt)->submit(dir.string());
  BOOST_REQUIRE(job);
  BOOST_REQUIRE((*rt)->wait(job->id, 120s));
  fs::remove(dir / "session.json");
  fs::create_symlink("/dev/zero", dir / "session.json");
  auto c = f.client();
  for (int i = 0; i < 5; ++i) {
    auto r = c.Get("/api/sessions/zero-later");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 200);
    BOOST_TEST(json::parse(r->body)["manifestError"].get<std::string>().find("resolves outside") != std::string::npos);
  }
  BOOST_TEST(rss_kb(f.node->pid()) < 400 * 1024, "the node read /dev/zero into memory");
  BOOST_TEST(c.Get("/api/sessions/zero-later/files/video/0")->status == 409);
}

BOOST_AUTO_TEST_CASE(numbers_out_of_range_are_refused_before_any_arithmetic) {
  temp_dir t;
  av_session(t / "s", "numbers");
  for (const std::string& offset : {"9223372036854775807", "18446744073709551615", "1000000000000", "1000000000000000",
                                    "86400001", "-1", "1e3"}) {
    auto text = read_file(t / "s/session.json");
    auto doc = json::parse(text);
    doc["audio"][0]["offsetMs"] = json::parse(offset);
    write_file(t / "s/session.json", doc.dump());
    auto r = process(t / "s", t / "db");
    BOOST_TEST(r.exit_code == 2, offset << ": exit " << r.exit_code << " " << r.err);
    BOOST_TEST(last_line(r.err).find("session.json: audio[0].offsetMs") != std::string::npos, offset << ": " << r.err);
    write_file(t / "s/session.json", text);
  }
  // A longest session that is configured longer takes the day-long offset.
  write_file(t / "long.toml", "[media]\nmax_session_hours = 48\ncompress = false\n[enrich]\nenabled = false\n"
                              "[notify]\ndesktop = false\n");
  auto doc = json::parse(read_file(t / "s/session.json"));
  doc["video"][0]["offsetMs"] = 172800001;
  write_file(t / "s/session.json", doc.dump());
  auto r = run({"timeout", "60", postroll_binary().string(), "process", (t / "s").string(), "--config",
                (t / "long.toml").string(), "--data-dir", (t / "db2").string()});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("video[0].offsetMs") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(a_name_is_text_never_pipeline_syntax) {
  temp_dir t;
  auto dir = av_session(t / "s", "name-inject");
  write_file(t / "secret.txt", "secret");
  ::chmod((t / "secret.txt").c_str(), 0600);
  auto pwned = t / "pwned.txt";
  auto doc = json::parse(read_file(dir / "session.json"));
  // A NUL and control characters are refused outright.
  doc["name"] = std::string("x\0y", 3);
  write_file(dir / "session.json", doc.dump());
  auto nul = process(dir, t / "db");
  BOOST_TEST(nul.exit_code == 2);
  BOOST_TEST(last_line(nul.err).find("name: must be at most 1024 bytes of UTF-8 without control characters") !=
             std::string::npos, nul.err);
  // Pipeline syntax without control characters is only a name: the canvas
  // shows it, no element it names is made.
  doc["name"] = "Demo\" ! filesrc location=" + (t / "secret.txt").string() + " ! filesink location=" + pwned.string() +
                " name=\"x & <b>y</b>";
  write_file(dir / "session.json", doc.dump());
  auto r = process(dir, t / "db");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  BOOST_TEST(!fs::exists(pwned));
  BOOST_TEST(fs::file_size(dir / "postroll/enrichment/canvas.jpg") > 1000u);
}

BOOST_AUTO_TEST_CASE(many_entries_are_refused_and_a_file_listed_twice_counts_once) {
  temp_dir t;
  auto dir = av_session(t / "s", "many");
  auto doc = json::parse(read_file(dir / "session.json"));
  auto one = doc["audio"][0];
  doc["audio"] = json::array();
  for (int i = 0; i < 20001; ++i) {
    one["offsetMs"] = i;
    doc["audio"].push_back(one);
  }
  write_file(dir / "session.json", doc.dump());
  auto r = process(dir, t / "db");
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(last_line(r.err).find("lists 20002 files; postroll takes at most 20000") != std::string::npos, r.err);
  doc["audio"] = json::array({one, one, one});
  doc["audio"][1]["offsetMs"] = 3000;
  doc["audio"][2]["offsetMs"] = 6000;
  write_file(dir / "session.json", doc.dump());
  auto ok = process(dir, t / "db", {"--json", "--no-enrich", "--no-compress"});
  BOOST_REQUIRE_MESSAGE(ok.exit_code == 0, ok.err);
  auto rec = json::parse(ok.out);
  BOOST_TEST(rec["mediaBytes"].get<std::int64_t>() ==
             std::int64_t(fs::file_size(dir / "video/v.mp4") + fs::file_size(dir / "audio/a.wav")));
}

BOOST_AUTO_TEST_CASE(a_symlink_swapped_while_submitting_never_lands_a_job_outside_the_roots) {
  node_fixture f;
  auto inside = av_session(f.t / "sessions/real", "inside");
  auto outside = av_session(f.t / "outside/real", "outside");
  auto link = f.t / "sessions/link";
  fs::create_directory_symlink(inside, link);
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    // Atomic swaps (rename over the link), as fast as possible.
    for (int i = 0; !stop; ++i) {
      auto tmp = f.t / "sessions/link.tmp";
      std::error_code ec;
      fs::remove(tmp, ec);
      fs::create_directory_symlink(i % 2 ? outside : inside, tmp, ec);
      fs::rename(tmp, link, ec);
    }
  });
  auto c = f.client();
  int accepted = 0, refused = 0;
  std::set<std::string> dirs;
  for (int i = 0; i < 300; ++i) {
    auto r = c.Post("/api/jobs", json{{"session", link.string()}}.dump(), "application/json");
    BOOST_REQUIRE(r);
    if (r->status == 201) {
      ++accepted;
      dirs.insert(json::parse(r->body)["sessionDir"].get<std::string>());
    } else {
      ++refused;
      BOOST_TEST((r->status == 403 || r->status == 400), r->status << " " << r->body);
    }
  }
  stop = true;
  swapper.join();
  BOOST_TEST_MESSAGE(accepted << " submissions accepted, " << refused << " refused");
  BOOST_TEST(accepted > 0);
  for (const auto& d : dirs)
    BOOST_TEST(d == fs::canonical(inside).string(), "a job outside the roots: " << d);
  auto listed = json::parse(c.Get("/api/jobs?limit=500")->body)["jobs"];
  for (const auto& j : listed)
    BOOST_TEST(j["sessionId"] == "inside");
}

BOOST_AUTO_TEST_CASE(slow_clients_many_streams_and_endless_bodies_do_not_stop_the_api) {
  node_fixture f;
  // 600 clients that never finish their request (slowloris).
  std::vector<int> slow;
  for (int i = 0; i < 600; ++i) {
    int fd = connect_to(f.http_port);
    if (fd >= 0) {
      std::string part = "GET /api/jobs HTTP/1.1\r\nHost: " + host_of(f) + "\r\nX-Slow: ";
      ::send(fd, part.data(), part.size(), MSG_NOSIGNAL);
      slow.push_back(fd);
    }
  }
  BOOST_TEST(slow.size() > 500u);
  // 300 event streams: more than the node keeps (256); the rest are told so.
  std::vector<int> streams;
  int busy = 0;
  for (int i = 0; i < 300; ++i) {
    int fd = connect_to(f.http_port);
    BOOST_REQUIRE(fd >= 0);
    auto req = get(host_of(f), "/api/events");
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    char buf[256];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    std::string head(buf, n > 0 ? std::size_t(n) : 0);
    if (status_of(head) == 503)
      ++busy;
    else
      BOOST_TEST(status_of(head) == 200, head);
    streams.push_back(fd);
  }
  BOOST_TEST(busy == 300 - 256);
  // The API still answers (a 20 s bound on the wait, not a latency check:
  // bench/bench-http.sh measures that).
  auto c = f.client();
  for (int i = 0; i < 20; ++i) {
    auto r = c.Get("/api/jobs");
    BOOST_REQUIRE_MESSAGE(r, "the API stopped answering");
    BOOST_TEST(r->status == 200);
  }
  // A chunked body that never ends is cut at the limit.
  int fd = connect_to(f.http_port);
  std::string head = "POST /api/jobs HTTP/1.1\r\nHost: " + host_of(f) +
                     "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  std::string chunk(1 << 20, 'x');
  auto framed = "100000\r\n" + chunk + "\r\n";
  std::size_t sent = 0;
  for (int i = 0; i < 64; ++i) {
    auto n = ::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL);
    if (n <= 0)
      break;
    sent += std::size_t(n);
  }
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    answer.append(buf, std::size_t(n));
  ::close(fd);
  BOOST_TEST(status_of(answer) == 413, answer.substr(0, 200));
  BOOST_TEST_MESSAGE("sent " << sent / 1000000 << " MB of a chunked body before the node closed");
  BOOST_TEST(rss_kb(f.node->pid()) < 300 * 1024, "node RSS " << rss_kb(f.node->pid()) << " kB");
  for (int s : slow)
    ::close(s);
  for (int s : streams)
    ::close(s);
  BOOST_TEST(c.Get("/healthz")->status == 200);
}

namespace {
// A small tmpfs of its own (root only: the test says so and skips otherwise).
struct small_disk {
  fs::path dir;
  bool mounted = false;
  small_disk(const fs::path& where, const std::string& size) : dir(where) {
    fs::create_directories(dir);
    mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~small_disk() {
    if (mounted)
      ::umount2(dir.c_str(), MNT_DETACH);
  }
  void fill() {
    std::ofstream out(dir / "fill", std::ios::binary);
    std::string block(1 << 16, '\0');
    while (out.write(block.data(), std::streamsize(block.size())))
      ;
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(a_full_disk_fails_the_job_naming_the_folder_and_never_aborts) {
  temp_dir t;
  small_disk media{t / "media", "3m"};
  if (!media.mounted) {
    BOOST_TEST_MESSAGE("skipped: mounting a tmpfs needs root");
    return;
  }
  // The recording fits; its playable file does not.
  sh("mkdir -p '" + (media.dir / "s/video").string() + "' '" + (media.dir / "s/audio").string() + "'");
  sh("ffmpeg -loglevel error -f lavfi -i testsrc2=size=640x360:rate=30 -t 8 -c:v libx264 -preset ultrafast -b:v 2M '" +
     (media.dir / "s/video/v.mp4").string() + "'");
  sh("sox -n -r 16000 -c 1 -b 16 '" + (media.dir / "s/audio/a.wav").string() + "' synth 8 sine 440 vol 0.3");
  write_file(media.dir / "s/session.json",
             json{{"schema", 1}, {"id", "full"}, {"video", {{{"path", "video/v.mp4"}}}}, {"audio", {{{"path", "audio/a.wav"}}}}}.dump());
  auto left = fs::space(media.dir).available;
  auto video = fs::file_size(media.dir / "s/video/v.mp4");
  BOOST_REQUIRE_MESSAGE(left < video, "the disk must not hold a second copy of the video");
  write_file(t / "noguard.toml", "[queue]\nmin_free_factor = 0\nmax_attempts = 1\n[enrich]\nenabled = false\n"
                                 "[notify]\ndesktop = false\n");
  auto r = run({"timeout", "120", postroll_binary().string(), "process", (media.dir / "s").string(), "--config",
                (t / "noguard.toml").string(), "--data-dir", (t / "db").string()});
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(last_line(r.err).find((media.dir / "s/postroll").string() + ": the disk is full") != std::string::npos, r.err);
  BOOST_TEST(partial_files(media.dir).empty());
  // With the disk guard, the job waits, then fails saying how long.
  write_file(t / "guard.toml", "[queue]\ndisk_wait_ms = 1500\n[enrich]\nenabled = false\n[notify]\ndesktop = false\n");
  fs::remove_all(media.dir / "s/postroll");
  auto g = run({"timeout", "120", postroll_binary().string(), "process", (media.dir / "s").string(), "--config",
                (t / "guard.toml").string(), "--data-dir", (t / "db2").string()});
  BOOST_TEST(g.exit_code == 1, g.err);
  BOOST_TEST(last_line(g.err).find("disk full: ") != std::string::npos, g.err);
  BOOST_TEST(last_line(g.err).find("waited 1 s (queue.disk_wait_ms)") != std::string::npos, g.err);

  // The job database on a full disk: a message, not an abort.
  small_disk db{t / "dbdisk", "1m"};
  db.fill();
  auto d = run({"timeout", "60", postroll_binary().string(), "process", (media.dir / "s").string(), "--no-enrich",
                "--data-dir", (db.dir / "db").string()});
  BOOST_TEST(d.exit_code == 1, "exit " << d.exit_code << ": " << d.err);
  BOOST_TEST(last_line(d.err).find((db.dir / "db").string() + ": cannot open job database") != std::string::npos, d.err);
  BOOST_TEST(last_line(d.err).find("the disk is full") != std::string::npos, d.err);
}

BOOST_AUTO_TEST_CASE(audio_that_outlasts_the_video_by_minutes_completes_with_default_settings) {
  temp_dir t;
  auto dir = av_session(t / "s", "long-audio", 3, 120000);
  auto r = process(dir, t / "db", {"--json", "--no-enrich"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto rec = json::parse(r.out);
  BOOST_TEST(rec["state"] == "completed");
  // GStreamer's own demuxer still sees the video (a short track would be
  // skipped as a "preview"): the last frame holds to the end.
  auto info = probe_media(dir / "postroll/session.mp4");
  BOOST_REQUIRE(info);
  BOOST_TEST(info->has_video);
  BOOST_TEST(info->duration_ms > 122000);
  BOOST_TEST(probe_duration(dir / "postroll/session.mp4", "v:0") > 122.0);
}

// The queue's own messages (its writer's "committed", its timers) are not
// part of what a client may send. A client on the node's port that learns
// the atoms and sends them anyway, with and without a sender, changes
// nothing: a forged failed commit would otherwise make the node refuse
// every job ("not accepted: ..."), a forged deadline kill a worker.
BOOST_AUTO_TEST_CASE(a_connected_client_cannot_send_the_queues_internal_messages) {
  node_fixture f;
  caf::actor_system_config cfg;
  add_message_types(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto sup = sys.middleman().remote_actor<supervisor_actor>(f.caf_host, f.caf_port);
  BOOST_REQUIRE_MESSAGE(sup, (sup ? std::string{} : caf::to_string(sup.error())));
  queue_actor queue;
  {
    caf::scoped_actor self{sys};
    self->request(*sup, 10s, get_atom::value)
      .receive([&](queue_actor& q, notifier_actor&) { queue = q; }, [](caf::error&) {});
  }
  BOOST_REQUIRE(queue);
  auto untyped = caf::actor_cast<caf::actor>(queue);
  auto forge = [&](auto&&... xs) {
    caf::anon_send(untyped, xs...);
    caf::scoped_actor self{sys};
    self->send(untyped, xs...);
  };
  forge(committed_atom::value, std::uint64_t(1) << 60, std::uint8_t(errc::io), std::string{"forged: disk full"});
  forge(deadline_atom::value, std::string{"j000000000000"}, std::string{"media.merge"}, std::int32_t(1));
  forge(wakeup_atom::value);
  forge(adopt_atom::value);
  forge(watchdog_atom::value);
  forge(purge_atom::value);
  // Still accepting, and a job runs to its end.
  auto client = runtime::connect(f.caf_host, f.caf_port);
  BOOST_REQUIRE(client);
  auto dir = tone_session(f.t / "sessions/after-forgery", "after-forgery");
  auto job = (*client)->submit(dir.string());
  BOOST_REQUIRE_MESSAGE(job, (job ? "" : job.err().message));
  auto done = (*client)->wait(job->id, 60s);
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->state) == "completed");
  f.node->drain();
  const auto& log = f.node->transcript();
  BOOST_TEST(log.find("dropped an internal message") != std::string::npos, log);
}
