// The session's storage lifecycle: retention (keep, trash, delete) runs
// only after everything completed and the output is validated, rewrites
// session.json so the session still opens, and finishes after a SIGKILL at
// any step of its journal (real processes, killed by a failpoint).
#define BOOST_TEST_MODULE storage
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "postroll/runtime.hpp"
#include "session/manifest.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;

namespace {

// An audio session of three tone segments and a file of the user's that
// is not part of the recording.
fs::path three_segment_session(const fs::path& dir, const std::string& id) {
  fs::create_directories(dir / "audio");
  for (int i = 0; i < 3; ++i)
    sh("sox -n -r 16000 -c 1 -b 16 '" + (dir / "audio" / ("s" + std::to_string(i) + ".wav")).string() +
       "' synth 1.5 sine " + std::to_string(300 + 100 * i));
  write_file(dir / "session.json",
             json{{"schema", 1},
                  {"id", id},
                  {"audio", {{{"path", "audio/s0.wav"}, {"offsetMs", 0}},
                             {{"path", "audio/s1.wav"}, {"offsetMs", 2000}},
                             {{"path", "audio/s2.wav"}, {"offsetMs", 4000}}}}}
                 .dump());
  write_file(dir / "notes.txt", "the user's own file");
  return dir;
}

command_result process(const fs::path& dir, const fs::path& db, const std::string& retention,
                       const std::string& failpoint = "") {
  std::vector<std::string> argv = {"env", "POSTROLL_FAILPOINT=" + failpoint, postroll_binary().string(), "process",
                                   dir.string(), "--data-dir", db.string(), "--no-enrich", "--json"};
  if (!retention.empty())
    argv.insert(argv.end(), {"--retention", retention});
  return run(argv);
}

// What stays for good: the output, a session.json that opens and points
// at it, and the user's own file.
void check_output_and_manifest(const fs::path& dir, const std::string& policy) {
  auto m = load_manifest(dir);
  BOOST_REQUIRE_MESSAGE(m, (m ? "" : m.err().message));
  BOOST_TEST(m->originals_retired == policy);
  BOOST_REQUIRE_EQUAL(m->audio.size(), 1u);
  BOOST_TEST(m->audio[0].path == "postroll/session.m4a");
  BOOST_TEST(std::abs(probe_duration(dir / "postroll" / "session.m4a") - 5.5) < 0.1);
  BOOST_TEST(fs::exists(dir / "notes.txt"));
}

// What every finished retention leaves: the above, and the originals where
// the policy puts them.
void check_retired(const fs::path& dir, const std::string& policy) {
  check_output_and_manifest(dir, policy);
  for (int i = 0; i < 3; ++i) {
    auto rel = "audio/s" + std::to_string(i) + ".wav";
    BOOST_TEST(!fs::exists(dir / rel), rel);
    BOOST_TEST(fs::exists(dir / "postroll" / "trash" / rel) == (policy == "trash"), rel);
  }
  auto journal = json::parse(read_file(dir / "postroll" / "retention.json"));
  BOOST_TEST(journal["state"] == "done");
  BOOST_TEST(journal["done"].size() == 3u);
}

}  // namespace

BOOST_AUTO_TEST_CASE(keep_is_the_default_and_trash_moves_the_originals_after_the_job) {
  temp_dir t;
  auto kept = three_segment_session(t / "kept", "st-kept");
  auto r = process(kept, t / "db", "");
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(fs::exists(kept / "audio" / "s0.wav"));
  BOOST_TEST(!fs::exists(kept / "postroll" / "retention.json"));

  auto dir = three_segment_session(t / "trashed", "st-trash");
  r = process(dir, t / "db", "trash");
  BOOST_TEST(r.exit_code == 0, r.err);
  auto job = json::parse(r.out);
  BOOST_TEST(job["stages"].back()["name"] == "media.trash_originals");
  BOOST_TEST(job["stages"].back()["result"]["bytes"].get<std::int64_t>() == job["mediaBytes"].get<std::int64_t>());
  // Disk accounting in the record: the outputs (the trash is inside them)
  // and nothing reclaimed yet by a trash.
  BOOST_TEST(job["bytesWritten"].get<std::int64_t>() > job["mediaBytes"].get<std::int64_t>());
  BOOST_TEST(job["bytesReclaimed"] == 0);
  check_retired(dir, "trash");
  // The session cannot be processed again from its own output.
  auto again = process(dir, t / "db", "");
  BOOST_TEST(again.exit_code == 2);
  BOOST_TEST(again.err.find("originals were retired (trash)") != std::string::npos, again.err);

  // A node whose trash keeps nothing for long purges it on its next sweep.
  write_file(t / "node.toml", "[node]\nport = 0\ndata_dir = \"" + (t / "db").string() +
                                  "\"\n[http]\nenabled = false\n[notify]\ndesktop = false\n[storage]\ntrash_days = 0\n"
                                  "purge_interval_ms = 1000\n");
  child_process node{{postroll_binary().string(), "node", "--config", (t / "node.toml").string()}};
  auto purged = node.wait_for_line([](const std::string& l) { return l.find("purged") != std::string::npos; },
                                   std::chrono::seconds(30));
  BOOST_TEST(!purged.empty(), node.transcript());
  BOOST_TEST(!fs::exists(dir / "postroll" / "trash"));
  check_output_and_manifest(dir, "trash");
}

BOOST_AUTO_TEST_CASE(a_failed_stage_keeps_the_originals_and_the_manifest) {
  temp_dir t;
  auto dir = three_segment_session(t / "s", "st-fail");
  write_file(dir / "audio" / "s1.wav", std::string(5000, 'x'));  // undecodable: the timeline fails
  auto manifest_before = read_file(dir / "session.json");
  auto r = process(dir, t / "db", "delete");
  BOOST_TEST(r.exit_code == 2, r.err);
  BOOST_TEST(read_file(dir / "session.json") == manifest_before);
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(fs::exists(dir / "audio" / ("s" + std::to_string(i) + ".wav")));
  BOOST_TEST(!fs::exists(dir / "postroll" / "retention.json"));
}

BOOST_AUTO_TEST_CASE(a_sigkill_at_every_step_of_the_deletion_is_finished_by_a_restart) {
  for (const char* point : {"retention.intent", "retention.manifest", "retention.file:1", "retention.file:2",
                            "retention.file:3", "retention.done"}) {
    BOOST_TEST_CONTEXT(point) {
      temp_dir t;
      auto dir = three_segment_session(t / "s", "st-kill");
      for (const char* policy : {"delete", "trash"}) {
        BOOST_TEST_CONTEXT(policy) {
          auto d = t / policy;
          fs::copy(dir, d, fs::copy_options::recursive);
          auto db = t / (std::string{"db-"} + policy);
          auto killed = process(d, db, policy, point);
          BOOST_TEST(killed.exit_code == 128 + 9, "exit " << killed.exit_code << ": " << killed.err);
          // The restart resumes the live job; its retention stage continues
          // from the journal.
          auto r = process(d, db, policy);
          BOOST_TEST(r.exit_code == 0, r.err);
          check_retired(d, policy);
          auto job = json::parse(r.out);
          BOOST_TEST(job["state"] == "completed");
          BOOST_TEST(job["stages"].back()["attempts"] == 2);
          BOOST_TEST(job["bytesReclaimed"].get<std::int64_t>() ==
                     (std::string{policy} == "delete" ? job["mediaBytes"].get<std::int64_t>() : 0));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(removing_a_session_with_its_files_survives_a_sigkill_and_keeps_what_is_not_its_own) {
  using namespace std::chrono_literals;
  temp_dir t;
  auto dir = three_segment_session(t / "s", "st-remove");
  auto config = t / "node.toml";
  write_file(config, "[node]\nport = 0\ndata_dir = \"" + (t / "db").string() +
                         "\"\n[http]\nenabled = false\n[notify]\ndesktop = false\n[enrich]\nenabled = false\n");
  std::string id;
  {
    // A node that dies after the second file of the recording is deleted.
    child_process node{{"env", "POSTROLL_FAILPOINT=remove.file:2", postroll_binary().string(), "node", "--config",
                        config.string()}};
    auto [host, port] = wait_for_node(node);
    auto rt = runtime::connect(host, port);
    BOOST_REQUIRE(rt);
    auto job = (*rt)->submit(dir.string(), {});
    BOOST_REQUIRE(job);
    id = job->id;
    auto done = (*rt)->wait(id, 60s);
    BOOST_REQUIRE(done && done->state == job_state::completed);
    // The answer would come once everything is gone: the node dies first.
    auto removing = (*rt)->remove(id, removal::everything);
    BOOST_TEST(!removing);
    BOOST_TEST(node.wait() == 128 + 9, node.transcript());
  }
  BOOST_TEST(!fs::exists(dir / "audio" / "s0.wav"));
  BOOST_TEST(fs::exists(dir / "session.json"));  // the crash came in the middle
  // The restart finishes it: the recording, the outputs and session.json
  // go, then the record; the user's own file stays, and so its folder.
  child_process node{{postroll_binary().string(), "node", "--config", config.string()}};
  auto [host, port] = wait_for_node(node);
  // Recovery starts it before the node listens; it may end either side.
  if (node.transcript().find("job " + id + " deleted") == std::string::npos) {
    auto line = node.wait_for_line(
        [&](const std::string& l) { return l.find("job " + id + " deleted") != std::string::npos; }, 30s);
    BOOST_TEST(!line.empty(), node.transcript());
  }
  auto rt = runtime::connect(host, port);
  BOOST_REQUIRE(rt);
  auto gone = (*rt)->status(id);
  BOOST_TEST((!gone && gone.err().code == errc::not_found));
  for (const char* f : {"audio/s0.wav", "audio/s1.wav", "audio/s2.wav", "audio", "postroll", "session.json"})
    BOOST_TEST(!fs::exists(dir / f), f);
  BOOST_TEST(read_file(dir / "notes.txt") == "the user's own file");

  // A live job is cancelled first, then removed the same way.
  auto other = three_segment_session(t / "live", "st-remove-live");
  auto live = (*rt)->submit(other.string(), {});
  BOOST_REQUIRE(live);
  auto removed = (*rt)->remove(live->id, removal::everything);
  BOOST_REQUIRE_MESSAGE(removed, (removed ? "" : removed.err().message));
  auto deleted = node.wait_for_line(
      [&](const std::string& l) { return l.find("job " + live->id + " deleted") != std::string::npos; }, 30s);
  BOOST_TEST(!deleted.empty());
  BOOST_TEST(!fs::exists(other / "session.json"));
  BOOST_TEST(fs::exists(other / "notes.txt"));
}
