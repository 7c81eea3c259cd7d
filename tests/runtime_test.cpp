// The embedded runtime end to end: real actors, a real RocksDB on disk and
// real GStreamer pipelines on real files.
#define BOOST_TEST_MODULE runtime
#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/supervisor.hpp"
#include "postroll/runtime.hpp"
#include "support/event_log.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

// A session whose merge re-encodes noise: about a second of real work.
fs::path slow_session(const fs::path& dir, const std::string& id) {
  fs::create_directories(dir / "video");
  sh("gst-launch-1.0 -q videotestsrc num-buffers=150 pattern=snow ! "
     "video/x-raw,width=640,height=360,framerate=15/1 ! vp8enc deadline=1 ! webmmux ! filesink location='" +
     (dir / "video/screen.webm").string() + "'");
  write_file(dir / "session.json",
             json{{"schema", 1}, {"id", id}, {"video", {{{"path", "video/screen.webm"}, {"offsetMs", 0}}}}}.dump());
  return dir;
}

config test_config(const temp_dir& tmp) {
  config cfg;
  cfg.data_dir = (tmp / "data").string();
  cfg.retry_base_ms = 50;
  cfg.retry_cap_ms = 200;
  cfg.log_level = "warn";
  cfg.enrich = false;  // the media stages are the subject here (enrichment_test has the rest)
  cfg.desktop_notifications = false;
  return cfg;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_session_is_finalized_with_events_in_order) {
  temp_dir tmp;
  make_demo_session(tmp / "demo", 12);
  auto rt = runtime::start(test_config(tmp));
  BOOST_REQUIRE_MESSAGE(rt, (rt ? "" : rt.err().message));
  event_log log;
  auto sub = (*rt)->subscribe(log.sink());
  BOOST_REQUIRE(sub);
  auto job = (*rt)->submit((tmp / "demo").string());
  BOOST_REQUIRE_MESSAGE(job, (job ? "" : job.err().message));
  auto done = (*rt)->wait(job->id, 60s);
  BOOST_REQUIRE_MESSAGE(done, (done ? "" : done.err().message));
  BOOST_TEST(to_string(done->state) == "completed");
  BOOST_TEST(done->output == (fs::canonical(tmp / "demo") / "postroll/session.mp4").string());
  BOOST_TEST(decodes_cleanly(done->output));
  for (auto& s : done->stages) {
    BOOST_TEST(to_string(s.state) == "completed");
    BOOST_TEST(s.attempts == 1);
  }
  BOOST_REQUIRE(log.wait_for(is(job->id, events::job_completed)));
  std::vector<std::string> expected = {"job-created",
                                       "job-started",
                                       "stage-started:media.timeline",
                                       "stage-completed:media.timeline",
                                       "stage-started:media.merge",
                                       "stage-completed:media.merge",
                                       "media-ready:media.merge",
                                       "stage-started:media.compress",
                                       "stage-completed:media.compress",
                                       "job-completed"};
  BOOST_TEST(log.kinds_of(job->id) == expected, boost::test_tools::per_element());
  BOOST_TEST(partial_files(tmp / "demo").empty());
  // Every transition is in the job's history, with the stage named.
  auto history = (*rt)->history(job->id);
  BOOST_REQUIRE(history);
  std::vector<std::string> reasons;
  for (auto& e : *history)
    reasons.push_back(e.from + ">" + e.to + ": " + e.reason);
  std::vector<std::string> expected_history = {
    ">pending: submitted", "pending>processing: media.timeline started (attempt 1)",
    "processing>processing: media.timeline completed", "processing>processing: media.merge started (attempt 1)",
    "processing>processing: media.merge completed", "processing>processing: media.compress started (attempt 1)",
    "processing>completed: media.compress completed"};
  BOOST_TEST(reasons == expected_history, boost::test_tools::per_element());
  auto counts = (*rt)->counts();
  BOOST_REQUIRE(counts);
  BOOST_TEST((*counts)[job_state::completed] == 1u);
  BOOST_TEST((*counts)[job_state::processing] == 0u);
  // The record is also listed, and a finished session can run again.
  auto jobs = (*rt)->list(10);
  BOOST_REQUIRE(jobs);
  BOOST_TEST(jobs->size() == 1u);
  auto again = (*rt)->submit((tmp / "demo").string());
  BOOST_REQUIRE(again);
  BOOST_TEST(again->id != job->id);
  // A live job cannot be deleted; a finished one goes with its history, and
  // the session's files stay.
  auto refused = (*rt)->remove(again->id);
  if (!refused)  // (unless it already finished)
    BOOST_TEST(refused.err().message.find("cancel it before deleting it") != std::string::npos);
  BOOST_REQUIRE((*rt)->wait(again->id, 60s));
  auto deleted = (*rt)->remove(job->id);
  BOOST_REQUIRE_MESSAGE(deleted, (deleted ? "" : deleted.err().message));
  auto gone = (*rt)->status(job->id);
  BOOST_REQUIRE(!gone);
  BOOST_TEST(int(gone.err().code) == int(errc::not_found));
  BOOST_TEST(!(*rt)->history(job->id));
  BOOST_TEST((*(*rt)->counts())[job_state::completed] == 1u);
  BOOST_TEST(fs::exists(done->output));
  // Asked to, delete takes postroll's outputs too, and only those.
  auto with_outputs = (*rt)->remove(again->id, true);
  BOOST_REQUIRE_MESSAGE(with_outputs, (with_outputs ? "" : with_outputs.err().message));
  BOOST_REQUIRE((*rt)->list(10));  // answers once the delete is durable, the folder gone with it
  BOOST_TEST(!fs::exists(tmp / "demo/postroll"));
  BOOST_TEST(fs::exists(tmp / "demo/session.json"));
  BOOST_TEST(fs::exists(tmp / "demo/audio"));
}

BOOST_AUTO_TEST_CASE(bad_input_is_rejected_and_the_runtime_keeps_serving) {
  temp_dir tmp;
  auto rt = runtime::start(test_config(tmp));
  BOOST_REQUIRE(rt);
  auto bad = (*rt)->submit((tmp / "nowhere").string());
  BOOST_REQUIRE(!bad);
  BOOST_TEST(int(bad.err().code) == int(errc::bad_input));
  BOOST_TEST(bad.err().message.find("nowhere") != std::string::npos);

  // A file that passes validation but cannot be decoded fails its job at
  // once (no retries: bad input stays bad), naming the file.
  auto broken = tmp / "broken";
  write_file(broken / "audio/a.mp3", std::string(5000, 'z'));
  write_file(broken / "session.json", R"({"schema":1,"id":"broken","audio":[{"path":"audio/a.mp3"}]})");
  auto job = (*rt)->submit(broken.string());
  BOOST_REQUIRE(job);
  auto done = (*rt)->wait(job->id, 30s);
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->state) == "failed");
  BOOST_TEST(int(done->error_code) == int(errc::bad_input));
  BOOST_TEST(done->error.find("audio/a.mp3") != std::string::npos, done->error);
  BOOST_TEST(done->stages[0].attempts == 1);

  auto good = (*rt)->submit(tone_session(tmp / "good", "good").string());
  BOOST_REQUIRE(good);
  auto ok = (*rt)->wait(good->id, 30s);
  BOOST_REQUIRE(ok);
  BOOST_TEST(to_string(ok->state) == "completed");

  // Retry after the input was fixed: runs from the failed stage and completes.
  fs::copy_file(tmp / "good/audio/a.wav", broken / "audio/a.mp3", fs::copy_options::overwrite_existing);
  auto retried = (*rt)->retry(job->id);
  BOOST_REQUIRE_MESSAGE(retried, (retried ? "" : retried.err().message));
  auto after = (*rt)->wait(job->id, 30s);
  BOOST_REQUIRE(after);
  BOOST_TEST(to_string(after->state) == "completed");
}

BOOST_AUTO_TEST_CASE(a_transient_failure_is_retried_with_backoff) {
  temp_dir tmp;
  auto dir = tone_session(tmp / "t", "transient");
  write_file(dir / "postroll", "a file where the output folder should be");
  auto rt = runtime::start(test_config(tmp));
  BOOST_REQUIRE(rt);
  event_log log;
  auto sub = (*rt)->subscribe(log.sink());
  auto job = (*rt)->submit(dir.string());
  BOOST_REQUIRE(job);
  BOOST_REQUIRE(log.wait_for(is(job->id, events::stage_failed)));
  fs::remove(dir / "postroll");  // the cause goes away before the retry
  auto done = (*rt)->wait(job->id, 30s);
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->state) == "completed");
  BOOST_TEST(done->stages[0].attempts >= 2);
}

BOOST_AUTO_TEST_CASE(resubmitting_a_live_session_returns_its_job_and_cancel_works_pending_and_running) {
  temp_dir tmp;
  auto rt = runtime::start(test_config(tmp));  // one media worker
  BOOST_REQUIRE(rt);
  event_log log;
  auto sub = (*rt)->subscribe(log.sink());
  auto a = slow_session(tmp / "a", "slow-a");
  auto b = slow_session(tmp / "b", "slow-b");
  auto running = (*rt)->submit(a.string());
  auto waiting = (*rt)->submit(b.string());
  BOOST_REQUIRE(running);
  BOOST_REQUIRE(waiting);
  auto same = (*rt)->submit((tmp / "b").string());
  BOOST_REQUIRE(same);
  BOOST_TEST(same->id == waiting->id);

  BOOST_REQUIRE(log.wait_for([&](const event& e) {
    return e.job_id == running->id && e.kind == events::stage_progress && e.progress > 0.05;
  }));
  auto c1 = (*rt)->cancel(waiting->id);
  BOOST_REQUIRE(c1);
  BOOST_TEST(to_string(c1->state) == "cancelled");

  auto c2 = (*rt)->cancel(running->id);
  BOOST_REQUIRE(c2);
  BOOST_REQUIRE(log.wait_for(is(running->id, events::job_cancelled), 5s));
  auto rec = (*rt)->status(running->id);
  BOOST_REQUIRE(rec);
  BOOST_TEST(to_string(rec->state) == "cancelled");
  BOOST_TEST(partial_files(tmp / "a").empty());
  BOOST_TEST(!fs::exists(tmp / "a/postroll/session.mp4"));

  // A cancelled job can be retried and then completes.
  BOOST_REQUIRE((*rt)->retry(running->id));
  auto done = (*rt)->wait(running->id, 60s);
  BOOST_REQUIRE(done);
  BOOST_TEST(to_string(done->state) == "completed");
}

BOOST_AUTO_TEST_CASE(the_supervisor_restarts_a_crashed_media_processor_and_the_stage_is_retried) {
  temp_dir tmp;
  caf::actor_system_config cfg;
  add_message_types(cfg);
  caf::actor_system sys{cfg};
  supervisor_config sc;
  sc.queue.data_dir = (tmp / "data").string();
  sc.queue.retry_base_ms = 50;
  sc.queue.retry_cap_ms = 100;
  auto sup = start_supervisor(sys, sc);
  BOOST_REQUIRE(sup);
  caf::scoped_actor self{sys};
  queue_actor queue;
  notifier_actor notifier;
  self->request(*sup, 5s, get_atom::value).receive(
    [&](queue_actor& q, notifier_actor& n) { queue = q; notifier = n; }, [](caf::error&) {});
  BOOST_REQUIRE(queue);
  std::vector<media_processor_actor> workers;
  self->request(*sup, 5s, list_atom::value).receive(
    [&](std::vector<media_processor_actor>& w, std::int32_t) { workers = w; }, [](caf::error&) {});
  BOOST_REQUIRE_EQUAL(workers.size(), 1u);
  event_log log;
  auto sink = sys.spawn([&log](event_sink_actor::pointer) -> event_sink_actor::behavior_type {
    return {[&log](const event& e) { log.sink()(e); }};
  });
  self->request(notifier, 5s, subscribe_atom::value, sink).receive([](bool) {}, [](caf::error&) {});

  auto dir = slow_session(tmp / "s", "crash");
  std::string job_id;
  self->request(queue, 5s, submit_atom::value, dir.string(), std::string{"normal"})
    .receive([&](job_reply& r) { job_id = r.job.id; }, [](caf::error&) {});
  BOOST_REQUIRE(!job_id.empty());
  auto status = [&] {
    job_record rec;
    self->request(queue, 5s, status_atom::value, job_id)
      .receive([&](job_reply& r) { rec = r.job; }, [](caf::error&) {});
    return rec;
  };
  // Kill the processor while it runs the stage.
  BOOST_REQUIRE(log.wait_for([&](const event& e) {
    return e.job_id == job_id && e.kind == events::stage_progress && e.progress > 0.05;
  }));
  self->monitor(workers[0]);
  caf::anon_send_exit(workers[0], caf::exit_reason::kill);
  self->receive([](const caf::down_msg&) {});
  // The queue sees the crash, retries on the restarted processor, completes.
  BOOST_REQUIRE(log.wait_for(is(job_id, events::job_completed)));
  BOOST_TEST(to_string(status().state) == "completed");
  BOOST_TEST(log.count(job_id, events::stage_failed) == 1);
  int restarts = 0;
  self->request(*sup, 5s, list_atom::value).receive(
    [&](std::vector<media_processor_actor>& w, std::int32_t r) { restarts = r; workers = w; },
    [](caf::error&) {});
  BOOST_TEST(restarts == 1);
  BOOST_TEST(workers.size() == 1u);
  BOOST_TEST(status().stages[0].attempts == 2);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(*sup, caf::exit_reason::user_shutdown);
}
