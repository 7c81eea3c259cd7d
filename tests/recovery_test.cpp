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
  std::vector<std::string> argv = {postroll_binary().string(), "process", dir.string(), "--data-dir",
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
  write_file(tmp / "node.toml", "[node]\nport = 0\ndata_dir = \"" + (tmp / "data").string() +
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
