// Crash recovery with real processes: a node killed with SIGKILL in the
// middle of the merge resumes the job when it starts again.
#define BOOST_TEST_MODULE recovery
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>

#include "postroll/runtime.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

// Compression is off here: these tests are about the media stages being
// interrupted (compress_test and kill_torture_test cover media.compress),
// and re-encoding 10 s of 720p noise pushed this test past CI's timeout.
namespace {


// A session whose merge re-encodes 10 s of 720p noise: seconds of work.
fs::path slow_merge_session(const fs::path& dir, const std::string& id) {
  fs::create_directories(dir / "video");
  sh("gst-launch-1.0 -q videotestsrc num-buffers=150 pattern=snow ! "
     "video/x-raw,width=1280,height=720,framerate=15/1 ! vp8enc deadline=1 ! webmmux ! filesink location='" +
     (dir / "video/screen.webm").string() + "'");
  fs::create_directories(dir / "audio");
  sh("sox -n -r 16000 -c 1 -b 16 '" + (dir / "audio/a.wav").string() + "' synth 4 sine 440 vol 0.3");
  write_file(dir / "session.json",
             json{{"schema", 1},
                  {"id", id},
                  {"video", {{{"path", "video/screen.webm"}, {"offsetMs", 0}}}},
                  {"audio", {{{"path", "audio/a.wav"}, {"offsetMs", 3000}}}}}
               .dump());
  return dir;
}

// "progress 2/2 media.merge 40%" past `pct` percent.
bool merge_past(const std::string& line, int pct) {
  std::smatch m;
  return std::regex_search(line, m, std::regex{"progress 2/2 media\\.merge (\\d+)%"}) && std::stoi(m[1].str()) >= pct;
}

void check_output(const fs::path& dir) {
  BOOST_TEST(partial_files(dir).empty());
  auto out = dir / "postroll/session.mp4";
  BOOST_TEST(decodes_cleanly(out));
  BOOST_TEST(std::abs(probe_duration(out, "v:0") - 10.0) < 0.1);
  BOOST_TEST(probe_codecs(out) == (std::vector<std::string>{"h264", "aac"}), boost::test_tools::per_element());
}

}  // namespace

BOOST_AUTO_TEST_CASE(process_killed_during_the_merge_resumes_when_run_again) {
  temp_dir tmp;
  auto dir = slow_merge_session(tmp / "session", "process-kill");
  std::vector<std::string> argv = {postroll_binary().string(), "process", dir.string(), "--no-compress", "--no-enrich", "--data-dir",
                                   (tmp / "data").string()};
  {
    child_process first{argv};
    auto line = first.wait_for_line([](const std::string& l) { return merge_past(l, 20); }, 120s);
    BOOST_REQUIRE_MESSAGE(!line.empty(), first.transcript());
    first.signal(SIGKILL);
    BOOST_TEST(first.wait() == 128 + SIGKILL);
  }
  BOOST_TEST(!fs::exists(dir / "postroll/session.mp4"));
  argv.push_back("--json");
  auto again = run(argv);
  BOOST_REQUIRE_MESSAGE(again.exit_code == 0, again.err);
  auto rec = json::parse(again.out);
  BOOST_TEST(rec["state"] == "completed");
  BOOST_TEST(rec["stages"][0]["attempts"] == 1);  // the timeline was not redone
  BOOST_TEST(rec["stages"][1]["attempts"] == 2);  // the merge ran again
  check_output(dir);
}

BOOST_AUTO_TEST_CASE(a_node_killed_during_the_merge_resumes_the_job_after_restart) {
  temp_dir tmp;
  auto dir = slow_merge_session(tmp / "session", "kill-me");
  write_file(tmp / "node.toml", "[media]\ncompress = false\n[enrich]\nenabled = false\n[node]\nport = 0\ndata_dir = \"" + (tmp / "data").string() +
                                  "\"\n[log]\nlevel = \"debug\"\n");
  std::vector<std::string> node_argv = {postroll_binary().string(), "node", "--config",
                                        (tmp / "node.toml").string()};

  std::string job_id;
  {
    child_process node{node_argv};
    auto [host, port] = wait_for_node(node);
    auto client = runtime::connect(host, port);
    BOOST_REQUIRE_MESSAGE(client, (client ? "" : client.err().message));
    auto job = (*client)->submit(dir.string());
    BOOST_REQUIRE_MESSAGE(job, (job ? "" : job.err().message));
    job_id = job->id;
    // Kill once the merge is well under way (its partial file exists).
    auto line = node.wait_for_line([](const std::string& l) {
      std::smatch m;
      return l.find("stage-progress") != std::string::npos && l.find("stage=media.merge") != std::string::npos &&
             std::regex_search(l, m, std::regex{"progress=([0-9.]+)"}) && std::stod(m[1].str()) > 0.2;
    }, 120s);
    BOOST_REQUIRE_MESSAGE(!line.empty(), node.transcript());
    node.signal(SIGKILL);
    BOOST_TEST(node.wait() == 128 + SIGKILL);
    (*client)->stop();
  }
  BOOST_TEST(!partial_files(dir).empty());  // the kill left the merge half done
  BOOST_TEST(!fs::exists(dir / "postroll/session.mp4"));

  child_process node{node_argv};
  auto [host, port] = wait_for_node(node);
  auto client = runtime::connect(host, port);
  BOOST_REQUIRE(client);
  auto done = (*client)->wait(job_id, 120s);
  BOOST_REQUIRE_MESSAGE(done, (done ? "" : done.err().message));
  BOOST_TEST(to_string(done->state) == "completed", done->error);
  BOOST_REQUIRE_EQUAL(done->stages.size(), 2u);
  BOOST_TEST(done->stages[0].attempts == 1);  // the timeline had completed: not redone
  BOOST_TEST(done->stages[1].attempts == 2);  // the merge ran again
  check_output(dir);
  (*client)->stop();
  node.signal(SIGTERM);
  BOOST_TEST(node.wait() == 0);
}

BOOST_AUTO_TEST_CASE(a_job_that_keeps_crashing_the_node_ends_failed_instead_of_looping) {
  temp_dir tmp;
  auto dir = slow_merge_session(tmp / "session", "poison");
  write_file(tmp / "node.toml", "[media]\ncompress = false\n[enrich]\nenabled = false\n[node]\nport = 0\ndata_dir = \"" + (tmp / "data").string() +
                                  "\"\n[queue]\nmax_attempts = 2\nretry_base_ms = 50\n[log]\nlevel = \"debug\"\n");
  std::vector<std::string> node_argv = {postroll_binary().string(), "node", "--config",
                                        (tmp / "node.toml").string()};
  std::string job_id;
  // Each start, the node dies (SIGKILL) as soon as the merge starts: the
  // merge "crashes the worker".
  for (int start = 0; start < 2; ++start) {
    child_process node{node_argv};
    if (start == 0) {
      // Later starts resume the merge at once, often before the node prints
      // that it listens: waiting for that line would read past the event.
      auto [host, port] = wait_for_node(node);
      auto client = runtime::connect(host, port);
      BOOST_REQUIRE(client);
      auto job = (*client)->submit(dir.string());
      BOOST_REQUIRE(job);
      job_id = job->id;
      (*client)->stop();
    }
    auto line = node.wait_for_line([](const std::string& l) {
      return l.find("event stage-started") != std::string::npos && l.find("stage=media.merge") != std::string::npos;
    }, 60s);
    BOOST_REQUIRE_MESSAGE(!line.empty(), node.transcript());
    node.signal(SIGKILL);
    BOOST_REQUIRE_EQUAL(node.wait(), 128 + SIGKILL);
  }
  // The third start finds the merge interrupted twice with max_attempts 2:
  // the job fails with the reason instead of crashing the node again.
  child_process node{node_argv};
  auto [host, port] = wait_for_node(node);
  auto client = runtime::connect(host, port);
  BOOST_REQUIRE(client);
  auto rec = (*client)->wait(job_id, 30s);
  BOOST_REQUIRE(rec);
  BOOST_TEST(to_string(rec->state) == "failed");
  BOOST_TEST(rec->error == "media.merge: crashed the worker 2 times", rec->error);
  BOOST_TEST(rec->stages[0].attempts == 1);  // the timeline completed once
  BOOST_TEST(rec->stages[1].attempts == 2);
  (*client)->stop();
  node.signal(SIGTERM);
  BOOST_TEST(node.wait() == 0);
}

BOOST_AUTO_TEST_CASE(a_corrupt_database_is_moved_aside_and_its_jobs_come_back) {
  temp_dir tmp;
  auto quick = tmp / "quick";
  fs::create_directories(quick / "audio");
  sh("sox -n -r 16000 -c 1 -b 16 '" + (quick / "audio/a.wav").string() + "' synth 2 sine 440 vol 0.3");
  write_file(quick / "session.json",
             json{{"schema", 1}, {"id", "quick"}, {"audio", {{{"path", "audio/a.wav"}, {"offsetMs", 0}}}}}.dump());
  auto slow = slow_merge_session(tmp / "slow", "slow");
  auto data = tmp / "data";
  write_file(tmp / "node.toml", "[media]\ncompress = false\n[enrich]\nenabled = false\n[node]\nport = 0\ndata_dir = \"" + data.string() +
                                  "\"\n[log]\nlevel = \"debug\"\n");
  std::vector<std::string> node_argv = {postroll_binary().string(), "node", "--config",
                                        (tmp / "node.toml").string()};
  std::string quick_id, slow_id;
  {
    child_process node{node_argv};
    auto [host, port] = wait_for_node(node);
    auto client = runtime::connect(host, port);
    BOOST_REQUIRE(client);
    auto q = (*client)->submit(quick.string());
    BOOST_REQUIRE(q);
    quick_id = q->id;
    BOOST_REQUIRE((*client)->wait(quick_id, 60s));
    auto s = (*client)->submit(slow.string());
    BOOST_REQUIRE(s);
    slow_id = s->id;
    auto line = node.wait_for_line([](const std::string& l) {
      return l.find("event stage-progress") != std::string::npos && l.find("stage=media.merge") != std::string::npos;
    }, 60s);
    BOOST_REQUIRE_MESSAGE(!line.empty(), node.transcript());
    node.signal(SIGKILL);
    node.wait();
    (*client)->stop();
  }
  // The MANIFEST (the database's table of contents) is destroyed.
  for (auto& e : fs::directory_iterator(data))
    if (e.path().filename().string().rfind("MANIFEST", 0) == 0)
      write_file(e.path(), std::string(4096, '\x5a'));

  child_process node{node_argv};
  auto [host, port] = wait_for_node(node);
  auto client = runtime::connect(host, port);
  BOOST_REQUIRE(client);
  auto done = (*client)->wait(slow_id, 120s);
  BOOST_REQUIRE_MESSAGE(done, (done ? "" : done.err().message));
  BOOST_TEST(to_string(done->state) == "completed", done->error);
  check_output(slow);
  auto q = (*client)->status(quick_id);
  BOOST_REQUIRE_MESSAGE(q, (q ? "" : q.err().message));
  BOOST_TEST(to_string(q->state) == "completed");
  BOOST_TEST(node.transcript().find("moved aside to") != std::string::npos);
  BOOST_TEST(node.transcript().find("2 job(s) recovered from it") != std::string::npos);
  (*client)->stop();
  node.signal(SIGTERM);
  BOOST_TEST(node.wait() == 0);
}
