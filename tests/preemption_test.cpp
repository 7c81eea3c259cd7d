// High priority preempts, on a real node process with one media worker: a
// high-priority session submitted while a normal session's compress runs
// starts within seconds, the compress is stopped (its partial gone) and runs
// again afterwards without using up an attempt, and both jobs complete.
#define BOOST_TEST_MODULE preemption
#include <boost/test/unit_test.hpp>

#include <chrono>

#include <nlohmann/json.hpp>

#include "postroll/runtime.hpp"
#include "support/event_log.hpp"
#include "support/node_fixture.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

// A screen recording whose compress takes many seconds: 1080p of a moving
// pattern written at a near-lossless quantizer (big, so it compresses well
// and is never stopped early as "not smaller").
fs::path long_compress_session(const fs::path& dir, const std::string& id) {
  fs::create_directories(dir / "video");
  sh("gst-launch-1.0 -q videotestsrc num-buffers=450 pattern=ball ! "
     "video/x-raw,format=I420,width=1920,height=1080,framerate=15/1 ! "
     "x264enc speed-preset=ultrafast quantizer=8 pass=qual ! mp4mux ! filesink location='" +
     (dir / "video/screen.mp4").string() + "'");
  write_file(dir / "session.json",
             json{{"schema", 1}, {"id", id}, {"video", {{{"path", "video/screen.mp4"}, {"offsetMs", 0}}}}}.dump());
  return dir;
}

const stage_record& stage_of(const job_record& j, const std::string& name) {
  for (const auto& s : j.stages)
    if (s.name == name)
      return s;
  BOOST_FAIL("no stage " + name);
  return j.stages.front();
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_high_priority_job_stops_a_running_compress_and_both_complete) {
  node_fixture f{"[media]\nworkers = 1\n"};
  auto low = long_compress_session(f.t / "sessions/normal", "normal-compress");
  auto high = tone_session(f.t / "sessions/urgent", "urgent", 3);
  auto client = runtime::connect(f.caf_host, f.caf_port);
  BOOST_REQUIRE(client);
  event_log log;
  auto sub = (*client)->subscribe(log.sink());
  BOOST_REQUIRE(sub);

  auto a = (*client)->submit(low.string());
  BOOST_REQUIRE_MESSAGE(a, (a ? "" : a.err().message));
  BOOST_REQUIRE(log.wait_for([&](const event& e) {
    return e.job_id == a->id && e.kind == events::stage_progress && e.stage == "media.compress" && e.progress > 0.05;
  }, 120s));
  submit_options urgent;
  urgent.prio = priority::high;
  auto submitted = std::chrono::steady_clock::now();
  auto b = (*client)->submit(high.string(), urgent);
  BOOST_REQUIRE_MESSAGE(b, (b ? "" : b.err().message));
  BOOST_REQUIRE(log.wait_for(is(b->id, events::stage_started), 60s));
  auto start_latency = std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted).count();
  BOOST_TEST_MESSAGE("high-priority start latency under a full node: " << start_latency << " s");
  BOOST_TEST(log.count(a->id, events::stage_preempted) == 1);

  auto b_done = (*client)->wait(b->id, 120s);
  BOOST_REQUIRE(b_done);
  BOOST_TEST(to_string(b_done->state) == "completed");
  auto a_done = (*client)->wait(a->id, 300s);
  BOOST_REQUIRE(a_done);
  BOOST_REQUIRE_EQUAL(to_string(a_done->state), "completed");
  const auto& compress = stage_of(*a_done, "media.compress");
  BOOST_TEST(compress.attempts == 2);     // the stopped run and the full one
  BOOST_TEST(compress.preemptions == 1);  // ...of which one did not count
  BOOST_TEST(json::parse(compress.result).value("replaced", false), compress.result);
  // B finished before A: it did not wait for A's compress.
  {
    std::lock_guard<std::mutex> g{log.mtx};
    auto at = [&](const std::string& job) {
      return std::find_if(log.all.begin(), log.all.end(), [&](const event& e) {
               return e.job_id == job && e.kind == events::job_completed;
             }) - log.all.begin();
    };
    BOOST_TEST(at(b->id) < at(a->id));
  }
  BOOST_TEST(partial_files(low / "postroll").empty());
  BOOST_TEST(decodes_cleanly(low / "postroll/session.mp4"));
}
