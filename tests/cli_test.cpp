// The postroll command as a user runs it: exit codes, output, progress, and
// a node driven by submit/status/cancel/retry over real loopback sockets.
#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

command_result run_postroll(std::vector<std::string> args) {
  args.insert(args.begin(), postroll_binary().string());
  return run(args);
}

size_t count_lines(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

BOOST_AUTO_TEST_CASE(process_finalizes_a_session_and_prints_where_the_file_is) {
  temp_dir tmp;
  make_demo_session(tmp / "demo", 10);
  auto r = run_postroll({"process", (tmp / "demo").string(), "--data-dir", (tmp / "data").string()});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto expected = (fs::canonical(tmp / "demo") / "postroll/session.mp4").string();
  BOOST_TEST(r.out == expected + "\n");
  // Not a terminal: plain progress lines, one per stage and 10 %.
  BOOST_TEST(r.err.find("progress 1/7 media.timeline") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("progress 2/7 media.merge 100%") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("progress 3/7 media.compress 100%") != std::string::npos, r.err);
  // Enrichment runs by default: transcript and chapters, then summary, canvas.
  BOOST_TEST(r.err.find("progress 7/7 enrich.canvas 100%") != std::string::npos, r.err);
  BOOST_TEST(fs::exists(fs::canonical(tmp / "demo") / "postroll/enrichment/canvas.json"));
  BOOST_TEST(decodes_cleanly(expected));

  auto j = run_postroll({"process", (tmp / "demo").string(), "--data-dir", (tmp / "data").string(), "--json",
                         "--no-enrich"});
  BOOST_TEST(j.exit_code == 0, j.err);
  auto rec = json::parse(j.out);
  BOOST_TEST(rec["state"] == "completed");
  BOOST_TEST(rec["output"] == expected);
  BOOST_TEST(rec["stages"].size() == 3u);
  // --no-compress keeps the playable file as merged.
  auto n = run_postroll({"process", (tmp / "demo").string(), "--data-dir", (tmp / "data").string(), "--json",
                         "--no-compress", "--no-enrich"});
  BOOST_TEST(n.exit_code == 0, n.err);
  auto plain = json::parse(n.out);
  BOOST_TEST(plain["stages"].size() == 2u);
  BOOST_TEST(plain["stages"].back()["name"] == "media.merge");
}

BOOST_AUTO_TEST_CASE(bad_input_exits_2_with_one_line_naming_the_file) {
  temp_dir tmp;
  write_file(tmp / "s/session.json", R"({"schema":1,"id":"s","audio":[{"path":"audio/gone.wav","offsetMs":0}]})");
  auto r = run_postroll({"process", (tmp / "s").string(), "--data-dir", (tmp / "data").string()});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(count_lines(r.err) == 1u, r.err);
  BOOST_TEST(r.err == "postroll: " + (fs::canonical(tmp / "s") / "audio/gone.wav").string() +
                        ": file does not exist (audio[0])\n");
  BOOST_TEST(r.out.empty());

  // Undecodable content is found while processing: still exit 2, file named.
  write_file(tmp / "u/audio/a.wav", std::string(3000, 'q'));
  write_file(tmp / "u/session.json", R"({"schema":1,"id":"u","audio":[{"path":"audio/a.wav"}]})");
  auto u = run_postroll({"process", (tmp / "u").string(), "--data-dir", (tmp / "data").string()});
  BOOST_TEST(u.exit_code == 2);
  BOOST_TEST(u.err.find("audio/a.wav") != std::string::npos, u.err);
}

BOOST_AUTO_TEST_CASE(other_failures_exit_1) {
  temp_dir tmp;
  make_demo_session(tmp / "demo", 3);
  write_file(tmp / "not-a-dir", "x");
  auto r = run_postroll({"process", (tmp / "demo").string(), "--data-dir", (tmp / "not-a-dir/db").string()});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err.find("not-a-dir") != std::string::npos, r.err);
  auto usage = run_postroll({"frobnicate"});
  BOOST_TEST(usage.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(a_node_serves_submit_status_cancel_and_retry) {
  temp_dir tmp;
  write_file(tmp / "node.toml", "[node]\nport = 0\ndata_dir = \"" + (tmp / "data").string() +
                                  "\"\n[enrich]\nenabled = false\n[queue]\nretry_base_ms = 100\n");
  child_process node{{postroll_binary().string(), "node", "--config", (tmp / "node.toml").string()}};
  auto line = node.wait_for_line([](const std::string& l) { return l.find("listening on") != std::string::npos; }, 30s);
  BOOST_REQUIRE_MESSAGE(!line.empty(), node.transcript());
  std::smatch m;
  BOOST_REQUIRE(std::regex_search(line, m, std::regex{"listening on (\\S+)"}));
  auto address = m[1].str();
  BOOST_TEST(read_file(tmp / "data/node.endpoint") == address + "\n");

  make_demo_session(tmp / "demo", 6);
  auto sub = run_postroll({"submit", (tmp / "demo").string(), "--node", address, "--wait", "--json"});
  BOOST_TEST(sub.exit_code == 0, sub.err);
  auto rec = json::parse(sub.out);
  BOOST_TEST(rec["state"] == "completed");
  auto id = rec["id"].get<std::string>();

  // --config finds the node through the endpoint file when port = 0.
  auto st = run_postroll({"status", id, "--config", (tmp / "node.toml").string(), "--json"});
  BOOST_TEST(st.exit_code == 0, st.err);
  BOOST_TEST(json::parse(st.out)["id"] == id);
  auto list = run_postroll({"status", "--node", address});
  BOOST_TEST(list.out.find(id) != std::string::npos);

  auto unknown = run_postroll({"status", "j000000000000", "--node", address});
  BOOST_TEST(unknown.exit_code == 1);
  BOOST_TEST(unknown.err.find("no job with id j000000000000") != std::string::npos, unknown.err);
  auto cancel_done = run_postroll({"cancel", id, "--node", address});
  BOOST_TEST(cancel_done.exit_code == 2);
  BOOST_TEST(cancel_done.err.find("already completed") != std::string::npos, cancel_done.err);

  // A failed job, fixed and retried through the node.
  write_file(tmp / "bad/audio/a.wav", std::string(3000, 'q'));
  write_file(tmp / "bad/session.json", R"({"schema":1,"id":"bad","audio":[{"path":"audio/a.wav"}]})");
  auto failed = run_postroll({"submit", (tmp / "bad").string(), "--node", address, "--wait", "--json"});
  BOOST_TEST(failed.exit_code == 2);
  auto bad_id = json::parse(failed.out)["id"].get<std::string>();
  sh("sox -n -r 16000 -c 1 -b 16 '" + (tmp / "bad/audio/a.wav").string() + "' synth 1 sine 300");
  auto retry = run_postroll({"retry", bad_id, "--node", address, "--json"});
  BOOST_TEST(retry.exit_code == 0, retry.err);

  node.signal(SIGTERM);
  BOOST_TEST(node.wait() == 0);
  // A node asked for by name is not replaced by a database: the message
  // says what to do, in the product's words, not CAF's.
  auto nobody = run_postroll({"status", "--node", address});
  BOOST_TEST(nobody.exit_code == 1);
  BOOST_TEST(nobody.err == "postroll: no postroll node at " + address +
                             " (nothing answers there) — start one with `postroll node`, or run a session here with "
                             "`postroll process DIR`\n",
             nobody.err);
}

BOOST_AUTO_TEST_CASE(watch_follows_a_recorder_and_finishes_when_it_ends_with_default_settings) {
  temp_dir tmp;
  auto dir = tmp / "rec";
  auto ready = tmp / "ready";
  // A minute of recording at 10x: speech segments and a fragmented MP4
  // screen video that grows while it is written, as OBS-style recorders do.
  child_process recorder{{"python3", (source_dir() / "tests/media/live-recorder.py").string(), dir.string(), "60",
                          "10", "--video", "--ready", ready.string()}};
  for (int i = 0; i < 600 && !fs::exists(dir / "session.json"); ++i)
    recorder.wait_for_line([](const std::string&) { return false; }, 50ms);
  BOOST_REQUIRE(fs::exists(dir / "session.json"));
  child_process watch{{postroll_binary().string(), "watch", dir.string(), "--data-dir", (tmp / "data").string()}};
  BOOST_REQUIRE(!watch.wait_for_line([](const std::string& l) { return l.find("following") != std::string::npos; }, 30s).empty());
  write_file(ready, "go");
  BOOST_REQUIRE(!watch.wait_for_line([](const std::string& l) { return l.rfind("live recording", 0) == 0; }, 30s).empty());
  BOOST_TEST(recorder.wait() == 0);
  int code = watch.wait();
  watch.drain();
  BOOST_TEST(code == 0, code << ": " << watch.transcript());
  auto out = fs::canonical(dir) / "postroll/session.mp4";
  BOOST_TEST(watch.transcript().find(out.string()) != std::string::npos, watch.transcript());
  BOOST_TEST(decodes_cleanly(out));
  BOOST_TEST(probe_duration(out) == 60.0, boost::test_tools::tolerance(0.02));
  BOOST_TEST(probe_codecs(out) == (std::vector<std::string>{"h264", "aac"}), boost::test_tools::per_element());
  BOOST_TEST(fs::exists(dir / "postroll/enrichment/transcript.json"));
  BOOST_TEST(fs::exists(dir / "postroll/enrichment/canvas.json"));
}
