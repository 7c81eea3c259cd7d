// The web dashboard in a real browser (headless Chromium through
// chromedriver) against a real node: a session submitted through the page
// reaches 100% over the event stream, the player opens by itself, a chapter
// click seeks and plays, a reload mid-job shows the running stage's
// progress at once, a failed job shows its reason and Retry, a narrow
// window does not scroll sideways, and a session not merged yet plays its
// own video with the audio segments scheduled by Web Audio.
// Screenshots of each view land in the build tree's test-artifacts/.
#define BOOST_TEST_MODULE dashboard_e2e
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/browser.hpp"
#include "support/node_fixture.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

std::string toml_string(const fs::path& p) { return json(p.string()).dump(); }

std::string web_dir_line() { return "web_dir = " + toml_string(source_dir() / "web") + "\n"; }

// JavaScript: the jobs panel's row of the job whose session has this name.
std::string row(const std::string& job_id) { return "document.querySelector('tr.job[data-id=\"" + job_id + "\"]')"; }

json job_of(const node_fixture& f, const std::string& id) {
  auto c = f.client();
  return json::parse(c.Get(("/api/jobs/" + id).c_str())->body);
}

void save(browser& b, const std::string& name) {
  auto png = artifact_dir() / name;
  b.screenshot(png);
  BOOST_TEST_MESSAGE("screenshot: " << png.string());
  BOOST_TEST(fs::file_size(png) > 10000u);  // a rendered page, not an empty image
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_session_submitted_in_the_page_is_watched_to_the_end_and_played_by_chapter) {
  // An extra enrichment stage that holds the job at 50% until the test
  // writes to a FIFO: "mid-job" is a state, not a moment to catch.
  temp_dir gate_dir;
  auto gate = gate_dir / "gate";
  BOOST_REQUIRE(::mkfifo(gate.c_str(), 0600) == 0);
  node_fixture f{web_dir_line() + "[[enrich.command]]\nstage = \"enrich.review_gate\"\nargv = [\"sh\", \"-c\", " +
                     toml_string("echo 'progress 0.5' >&2; read line < " + gate.string() + "; echo '{\"reviewed\": true}'") +
                     "]\ntimeout_ms = 300000\n",
                 /*enrich=*/true};
  auto demo = f.t / "sessions" / "demo";
  make_demo_session(demo, 40);

  browser b;
  b.go(f.url("/"));
  b.wait_for("document.querySelector('#connection').textContent === 'live'", 20s, "the event stream");
  b.type("#session-path", demo.string());
  b.click("#submit-form button[type=submit]");
  auto id = b.wait_for("document.querySelector('tr.job') && document.querySelector('tr.job').dataset.id", 20s,
                       "the submitted job's row")
                .get<std::string>();

  // The player opens by itself on the merged file while enrichment runs.
  b.wait_for("document.querySelector('#player-area').dataset.mode === 'merged'", 120s, "the player on the merged file");
  BOOST_TEST(job_of(f, id)["state"] == "processing");
  BOOST_TEST(b.run("return document.querySelector('#player').src").get<std::string>().find("/media/session.mp4") !=
             std::string::npos);
  b.wait_for("document.querySelector('li[data-stage=\"enrich.review_gate\"] .eta') && "
             "document.querySelector('li[data-stage=\"enrich.review_gate\"] .eta').textContent.startsWith('50%')",
             120s, "the held stage at 50%");
  b.wait_for("document.querySelector('li[data-stage=\"enrich.canvas\"] .badge').textContent === 'completed'", 180s,
             "every other stage to complete", "document.querySelector('#stages').innerText");
  auto before = b.run("return +" + row(id) + ".querySelector('progress').value").get<double>();
  BOOST_TEST(before > 0.8);
  BOOST_TEST(before < 1.0);
  BOOST_TEST(b.run("return document.documentElement.scrollWidth <= window.innerWidth && "
                   "[...document.querySelectorAll('section')].every(s => s.scrollWidth <= s.clientWidth)")
                 .get<bool>(),
             "a panel scrolls sideways at 1280 px");
  save(b, "dashboard-processing.png");

  // Reload mid-job: the running stage's progress is back at once (the
  // stream's snapshot), not 0% until its next tick (it sends none).
  b.reload();
  b.wait_for("document.querySelector('#connection').textContent === 'live'", 20s, "the event stream after reload");
  b.wait_for(row(id) + " && " + row(id) + ".querySelector('.eta').textContent.startsWith('" +
                 std::to_string(int(before * 100 + 0.5)) + "%')",
             10s, "the job's progress after reload", row(id) + " && " + row(id) + ".innerText");
  b.wait_for("document.querySelector('li[data-stage=\"enrich.review_gate\"] .eta').textContent.startsWith('50%')", 10s,
             "the held stage's 50% after reload");
  BOOST_TEST(b.run("return document.querySelector('#session-badge').textContent").get<std::string>() == "processing");
  save(b, "dashboard-jobs.png");

  // Release the stage: the panel reaches 100% and "ready" over the stream.
  {
    int fd = ::open(gate.c_str(), O_WRONLY);
    BOOST_REQUIRE(fd >= 0);
    BOOST_REQUIRE(::write(fd, "go\n", 3) == 3);
    ::close(fd);
  }
  b.wait_for(row(id) + ".querySelector('.badge').textContent === 'ready'", 60s, "the job's ready badge");
  BOOST_TEST(b.run("return " + row(id) + ".querySelector('progress').value").get<double>() == 1.0);
  BOOST_TEST(b.run("return " + row(id) + ".querySelector('.eta').textContent").get<std::string>() == "100%");
  BOOST_TEST(b.run("return document.querySelector('#session-badge').textContent").get<std::string>() == "ready");

  // Chapters from enrichment: a click seeks there and plays.
  auto chapters = b.wait_for("document.querySelectorAll('#chapters li').length >= 3 && "
                             "[...document.querySelectorAll('#chapters li')].map(li => +li.dataset.start)",
                             30s, "the chapter list");
  BOOST_TEST_MESSAGE("chapters at " << chapters.dump());
  auto third = chapters[2].get<double>() / 1000.0;
  BOOST_TEST(third > 5.0);
  b.wait_for("document.querySelector('#player').readyState >= 1", 30s, "the video's metadata");
  b.click("#chapters li:nth-child(3)");
  b.wait_for("!document.querySelector('#player').paused && document.querySelector('#player').currentTime > " +
                 std::to_string(third + 0.3),
             20s, "playback after the chapter click", "document.querySelector('#player').currentTime");
  auto t = b.run("return document.querySelector('#player').currentTime").get<double>();
  BOOST_TEST(t >= third);
  BOOST_TEST(t < third + 5.0);
  // The transcript follows playback: a line is current while its words play.
  b.wait_for("document.querySelector('#transcript li.current')", 20s, "the current transcript line",
             "document.querySelector('#player').currentTime");
  BOOST_TEST(b.run("return document.querySelector('#canvas').naturalWidth").get<int>() > 0);
  BOOST_TEST(b.run("return document.querySelectorAll('#chapter-markers span').length").get<std::size_t>() == chapters.size());
  save(b, "dashboard-player.png");

  // Keyboard: Enter on the second chapter seeks there.
  auto second = chapters[1].get<double>() / 1000.0;
  b.type("#chapters li:nth-child(2)", "\xee\x80\x87");  // U+E007, WebDriver's Enter
  b.wait_for("Math.abs(document.querySelector('#player').currentTime - " + std::to_string(second) + ") < 2", 10s,
             "the seek by keyboard", "document.querySelector('#player').currentTime");

  // A narrow window stacks the panels and never scrolls sideways.
  b.resize(480, 900);
  b.wait_for("window.innerWidth <= 480", 10s, "the narrow window");
  BOOST_TEST(b.run("return document.documentElement.scrollWidth <= window.innerWidth && "
                   "[...document.querySelectorAll('section')].every(s => s.scrollWidth <= s.clientWidth)")
                 .get<bool>(),
             "page is " << b.run("return document.documentElement.scrollWidth").dump() << " px wide");
  save(b, "dashboard-narrow.png");
  b.resize(1280, 900);

  // A job that fails: the badge, the reason naming the file, Retry.
  auto bad = f.t / "sessions" / "broken";
  fs::create_directories(bad / "video");
  fs::copy(demo / "session.json", bad / "session.json");
  fs::copy(demo / "audio", bad / "audio");
  fs::copy(demo / "shots", bad / "shots");
  write_file(bad / "video" / "screen.mp4", std::string(50000, 'x'));
  b.run("document.querySelector('#session-path').value = ''");
  b.type("#session-path", bad.string());
  b.click("#submit-form button[type=submit]");
  b.wait_for("document.querySelector('#session-badge').textContent === 'failed'", 60s, "the failed badge");
  auto reason = b.run("return document.querySelector('#session-error').textContent").get<std::string>();
  BOOST_TEST(reason.find("broken/video/screen.mp4") != std::string::npos, reason);
  BOOST_TEST(!b.run("return document.querySelector('#session-retry').hidden").get<bool>());
  BOOST_TEST(b.run("return document.querySelector('#player-area').dataset.mode").get<std::string>() == "original");
  BOOST_TEST(b.run("return document.documentElement.scrollWidth <= window.innerWidth && "
                   "[...document.querySelectorAll('section')].every(s => s.scrollWidth <= s.clientWidth)")
                 .get<bool>(),
             "a panel scrolls sideways with a long error");
  save(b, "dashboard-failed.png");
}

BOOST_AUTO_TEST_CASE(a_session_not_merged_yet_plays_its_video_with_the_segments_scheduled_by_web_audio) {
  // A node that runs no media stages: the job waits, saying why, and the
  // recording plays as it is.
  node_fixture f{web_dir_line() + "[media]\nworkers = 0\n"};
  auto demo = f.t / "sessions" / "demo";
  make_demo_session(demo, 20);
  auto c = f.client();
  auto created = c.Post("/api/jobs", json{{"session", demo.string()}}.dump(), "application/json");
  BOOST_REQUIRE(created && created->status == 201);
  auto id = json::parse(created->body)["id"].get<std::string>();

  browser b;
  b.go(f.url("/#job=" + id));
  b.wait_for("document.querySelector('#player-area').dataset.mode === 'original' && "
             "document.querySelector('#player').readyState >= 1",
             30s, "the original video");
  BOOST_TEST(b.run("return document.querySelector('#session-badge').textContent").get<std::string>() == "waiting");
  BOOST_TEST(b.run("return document.querySelector('#session-error').textContent").get<std::string>().find("media worker") !=
             std::string::npos);
  BOOST_TEST(b.run("return document.querySelector('#player').src").get<std::string>().find("/files/video/0") !=
             std::string::npos);

  // Play: every segment is decoded (WAV, MP3, Opus) and scheduled.
  b.click("#player");
  b.wait_for("!document.querySelector('#player').paused", 10s, "playback after a click on the video");
  auto segments = json::parse(c.Get(("/api/sessions/" + json::parse(created->body)["sessionId"].get<std::string>()).c_str())->body)
                      ["manifest"]["audio"].size();
  BOOST_REQUIRE(segments >= 3u);
  b.wait_for("document.querySelector('#player-area').dataset.decoded === '" + std::to_string(segments) +
                 "' && document.querySelector('#player-area').dataset.audio === 'running'",
             30s, "every segment decoded and the audio running", "JSON.stringify(document.querySelector('#player-area').dataset)");
  // Scheduled: exactly the segments that end after the playhead.
  const std::string due =
      "player.segments.filter(s => s.offsetMs + s.buffer.duration * 1000 > player.timelineMs()).length";
  b.wait_for("+document.querySelector('#player-area').dataset.scheduled === " + due, 10s, "the schedule");
  BOOST_TEST(b.run("return +document.querySelector('#player-area').dataset.scheduled").get<int>() >= 2);

  // Seek past the first segments: they are not scheduled again, the rest are.
  auto third_offset = b.run("return player.segments[2].offsetMs").get<double>();
  b.run("const v = document.querySelector('#player'); v.currentTime = arguments[0]; v.play();",
        json::array({third_offset / 1000.0 + 0.5}));
  b.wait_for("!document.querySelector('#player').paused && document.querySelector('#player').currentTime > " +
                 std::to_string(third_offset / 1000.0 + 0.5),
             10s, "playback after the seek");
  b.wait_for("+document.querySelector('#player-area').dataset.scheduled === " + due + " && " + due + " < " +
                 std::to_string(segments),
             10s, "the schedule after the seek", "JSON.stringify(document.querySelector('#player-area').dataset)");
  // The segment under the playhead plays from inside: the audio clock runs.
  auto t0 = b.run("return player.ctx.currentTime").get<double>();
  b.wait_for("player.ctx.currentTime > " + std::to_string(t0 + 0.2), 5s, "the audio clock");
  save(b, "dashboard-original.png");
  BOOST_TEST(job_of(f, id)["state"] == "pending");
}

BOOST_AUTO_TEST_CASE(a_live_job_shows_recording_and_what_has_arrived) {
  node_fixture f{web_dir_line(), /*enrich=*/false};
  auto dir = f.t / "sessions" / "rec";
  fs::create_directories(dir / "audio");
  write_file(dir / "session.json", json{{"schema", 1}, {"id", "rec-demo"}, {"name", "Design review"}}.dump());
  auto c = f.client();
  auto opened = c.Post("/api/jobs", json{{"session", dir.string()}, {"live", true}}.dump(), "application/json");
  BOOST_REQUIRE(opened && opened->status == 201);
  auto id = json::parse(opened->body)["id"].get<std::string>();
  browser b;
  b.go(f.url("/"));
  b.wait_for(row(id) + " && " + row(id) + ".querySelector('.badge').textContent === 'recording'", 20s,
             "the recording badge", "document.body.innerText.slice(0, 2000)");
  for (int i = 0; i < 2; ++i) {
    auto name = "audio/" + std::to_string(i) + ".wav";
    sh("sox -n -r 16000 -c 1 -b 16 '" + (dir / name).string() + "' synth 3 sine 440 vol 0.2");
    auto r = c.Post(("/api/jobs/" + id + "/files").c_str(),
                    json{{"kind", "audio"}, {"path", name}, {"offsetMs", 3000 * i}}.dump(), "application/json");
    BOOST_REQUIRE(r && r->status == 200);
  }
  // What the follower says reaches the row over the event stream.
  b.wait_for(row(id) + ".querySelector('.eta').textContent.includes('recording · 2 files')", 20s,
             "the follower's line", row(id) + ".innerText");
  save(b, "dashboard-recording.png");
  BOOST_REQUIRE(c.Post(("/api/jobs/" + id + "/end").c_str(), "{}", "application/json")->status == 200);
  b.wait_for(row(id) + ".querySelector('.badge').textContent === 'ready'", 60s, "ready once it ended",
             row(id) + ".innerText");
}
