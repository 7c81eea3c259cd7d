// The postroll command on one machine without a node, as a user meets it:
// where the job database lives (XDG), the user's config, an older version's
// ./.postroll, client commands on the local database (read-only while
// another postroll holds it), and messages that say what to do.
#define BOOST_TEST_MODULE cli_local
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <regex>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/loopback.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

// A user of this machine: a home of their own, no XDG variables set (the
// defaults apply) unless a test sets them, and a config that points client
// commands at a port where no node answers.
struct user {
  temp_dir t;
  fs::path home = t / "home";
  fs::path cwd = t / "work";
  std::vector<std::string> env;  // extra NAME=VALUE
  bound_port no_node;  // a port where no node answers

  user() {
    fs::create_directories(home);
    fs::create_directories(cwd);
    write_file(home / ".config/postroll/config.toml",
               "[node]\nport = " + std::to_string(no_node.port) + "\n[notify]\ndesktop = false\n");
  }
  fs::path state() const { return home / ".local/state/postroll"; }
  std::string address() const { return "127.0.0.1:" + std::to_string(no_node.port); }

  std::vector<std::string> argv(const std::vector<std::string>& args) const {
    std::vector<std::string> v = {"env", "-C", cwd.string(), "-u", "XDG_STATE_HOME", "-u", "XDG_CONFIG_HOME",
                                  "HOME=" + home.string()};
    v.insert(v.end(), env.begin(), env.end());
    v.push_back(postroll_binary().string());
    v.insert(v.end(), args.begin(), args.end());
    return v;
  }
  command_result postroll(const std::vector<std::string>& args) const { return run(argv(args)); }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The library's own words never reach a person.
void no_library_text(const command_result& r) {
  for (const auto* word : {"system_error", "caf::", "sec::", "IO error", "rocksdb"})
    BOOST_TEST(!contains(r.err, word), "library text \"" << word << "\" in: " << r.err);
}

std::string job_id_of(const command_result& r) { return json::parse(r.out)["id"].get<std::string>(); }

// A session whose recording goes on: session.json without endedAt.
fs::path recording_session(const fs::path& dir, const std::string& id) {
  fs::create_directories(dir / "audio");
  sh("sox -n -r 16000 -c 1 -b 16 '" + (dir / "audio/a.wav").string() + "' synth 2 sine 440 vol 0.3");
  write_file(dir / "session.json", json{{"schema", 1}, {"id", id}, {"audio", json::array()}}.dump());
  return dir;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_job_database_lives_in_the_users_state_folder_whatever_folder_they_stand_in) {
  user u;
  auto a = tone_session(u.t / "a", "session-a");
  auto r = u.postroll({"process", a.string(), "--no-enrich", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(fs::exists(u.state() / "CURRENT"), "no database in " << u.state());
  BOOST_TEST(!fs::exists(u.cwd / ".postroll"));
  // Only its user may read it: it holds the node's seal secret.
  struct stat st {};
  ::stat(u.state().c_str(), &st);
  BOOST_TEST((st.st_mode & 0777) == 0700u);

  // Another folder, another session: the same queue.
  u.cwd = u.t / "elsewhere";
  fs::create_directories(u.cwd);
  auto b = tone_session(u.t / "b", "session-b");
  BOOST_TEST(u.postroll({"process", b.string(), "--no-enrich"}).exit_code == 0);
  auto list = u.postroll({"status", "--json"});
  BOOST_TEST(list.exit_code == 0, list.err);
  BOOST_TEST(json::parse(list.out).size() == 2u, list.out);

  // $XDG_STATE_HOME moves it.
  u.env = {"XDG_STATE_HOME=" + (u.t / "state").string()};
  BOOST_TEST(u.postroll({"process", a.string(), "--no-enrich"}).exit_code == 0);
  BOOST_TEST(fs::exists(u.t / "state/postroll/CURRENT"));
  // --data-dir wins over everything.
  BOOST_TEST(u.postroll({"process", a.string(), "--no-enrich", "--data-dir", (u.t / "mine").string()}).exit_code == 0);
  BOOST_TEST(fs::exists(u.t / "mine/CURRENT"));
}

BOOST_AUTO_TEST_CASE(the_users_config_file_is_read_and_an_explicit_one_replaces_it) {
  user u;
  write_file(u.home / ".config/postroll/config.toml",
             "[node]\nport = " + std::to_string(u.no_node.port) + "\n[media]\ncompress = false\n[enrich]\nenabled = false\n");
  auto s = tone_session(u.t / "s", "configured");
  auto r = u.postroll({"process", s.string(), "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(json::parse(r.out)["stages"].size() == 2u, r.out);  // timeline and merge only

  // Its data_dir is used.
  write_file(u.home / ".config/postroll/config.toml", "[node]\ndata_dir = \"" + (u.t / "from-config").string() + "\"\n");
  BOOST_TEST(u.postroll({"process", s.string(), "--no-enrich"}).exit_code == 0);
  BOOST_TEST(fs::exists(u.t / "from-config/CURRENT"));

  // A bad key is named with the file and the line.
  auto file = u.home / ".config/postroll/config.toml";
  write_file(file, "[media]\ncompres = false\n");
  auto bad = u.postroll({"process", s.string()});
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(bad.err == "postroll: " + file.string() + ":2: key 'media.compres': unknown key\n", bad.err);
  // --config replaces it: the broken user file is not read.
  write_file(u.t / "other.toml", "[enrich]\nenabled = false\n");
  auto other = u.postroll({"process", s.string(), "--config", (u.t / "other.toml").string(), "--json"});
  BOOST_TEST(other.exit_code == 0, other.err);
}

BOOST_AUTO_TEST_CASE(an_older_versions_dot_postroll_is_used_with_a_notice_so_no_job_is_lost) {
  user u;
  auto s = tone_session(u.t / "s", "old-db");
  // An older postroll kept its database in ./.postroll.
  auto old = u.postroll({"process", s.string(), "--no-enrich", "--json", "--data-dir", (u.cwd / ".postroll").string()});
  BOOST_TEST(old.exit_code == 0, old.err);
  auto old_id = job_id_of(old);

  auto r = u.postroll({"status", old_id});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, old_id));
  auto notice = "postroll: using the job database in " + (u.cwd / ".postroll").string() +
                " (an older postroll's place); move it to $XDG_STATE_HOME/postroll (~/.local/state/postroll) to use "
                "it from every folder\n";
  BOOST_TEST(r.err.rfind(notice, 0) == 0u, r.err);
  BOOST_TEST(r.err.find(notice, 1) == std::string::npos, "said more than once: " << r.err);
  BOOST_TEST(u.postroll({"process", s.string(), "--no-enrich"}).exit_code == 0);
  BOOST_TEST(!fs::exists(u.state() / "CURRENT"), "a second database was made");
  // Elsewhere the XDG place is used, without a notice.
  u.cwd = u.t / "elsewhere";
  fs::create_directories(u.cwd);
  auto fresh = u.postroll({"process", s.string(), "--no-enrich"});
  BOOST_TEST(fresh.exit_code == 0);
  BOOST_TEST(!contains(fresh.err, "older postroll"), fresh.err);
  BOOST_TEST(fs::exists(u.state() / "CURRENT"));
}

BOOST_AUTO_TEST_CASE(client_commands_use_the_local_database_when_no_node_answers_and_say_so) {
  user u;
  auto s = tone_session(u.t / "s", "local-client");
  auto done = u.postroll({"process", s.string(), "--no-enrich", "--json"});
  BOOST_TEST(done.exit_code == 0, done.err);
  auto id = job_id_of(done);

  auto list = u.postroll({"status"});
  BOOST_TEST(list.exit_code == 0, list.err);
  BOOST_TEST(contains(list.out, id + "  completed  local-client"), list.out);
  BOOST_TEST(list.err == "postroll: no postroll node at " + u.address() +
                           " (nothing answers there); reading the job database in " + u.state().string() + "\n",
             list.err);
  auto history = u.postroll({"status", id, "--history"});
  BOOST_TEST(history.exit_code == 0, history.err);
  BOOST_TEST(contains(history.out, "processing -> completed"), history.out);
  auto unknown = u.postroll({"status", "j000000000000"});
  BOOST_TEST(unknown.exit_code == 1);
  BOOST_TEST(contains(unknown.err, "no job with id j000000000000"), unknown.err);

  // Changing commands take the database for a moment.
  auto cancel = u.postroll({"cancel", id});
  BOOST_TEST(cancel.exit_code == 2);
  BOOST_TEST(contains(cancel.err, "using the job database in " + u.state().string()), cancel.err);
  BOOST_TEST(contains(cancel.err, "already completed"), cancel.err);
  auto del = u.postroll({"delete", id, "--outputs", "--json"});
  BOOST_TEST(del.exit_code == 0, del.err);
  BOOST_TEST(!fs::exists(s / "postroll"));
  BOOST_TEST(u.postroll({"status", id}).exit_code == 1);
  no_library_text(list);
  no_library_text(cancel);

  // A node named by the user is not replaced by the database.
  auto named = u.postroll({"status", "--node", u.address()});
  BOOST_TEST(named.exit_code == 1);
  BOOST_TEST(contains(named.err, "start one with `postroll node`"), named.err);
  // submit needs a node.
  auto submit = u.postroll({"submit", s.string()});
  BOOST_TEST(submit.exit_code == 1);
  BOOST_TEST(submit.err == "postroll: no postroll node at " + u.address() +
                             " (nothing answers there) — start one with `postroll node`, or run a session here with "
                             "`postroll process DIR`\n",
             submit.err);
  no_library_text(submit);
}

BOOST_AUTO_TEST_CASE(without_node_or_database_the_message_says_how_to_start) {
  user u;
  auto r = u.postroll({"status"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err == "postroll: no postroll node at " + u.address() + " (nothing answers there), and no job database in " +
                        u.state().string() +
                        " yet: run a session with `postroll process DIR`, or start a node with `postroll node`\n",
             r.err);
  BOOST_TEST(!fs::exists(u.state()), "status made a database");
}

BOOST_AUTO_TEST_CASE(a_failed_job_is_retried_here_in_the_foreground_when_no_node_runs) {
  user u;
  write_file(u.t / "bad/audio/a.wav", std::string(3000, 'q'));
  write_file(u.t / "bad/session.json", R"({"schema":1,"id":"retry-me","audio":[{"path":"audio/a.wav"}]})");
  auto failed = u.postroll({"process", (u.t / "bad").string(), "--no-enrich", "--json"});
  BOOST_TEST(failed.exit_code == 2, failed.err);
  auto id = job_id_of(failed);
  sh("sox -n -r 16000 -c 1 -b 16 '" + (u.t / "bad/audio/a.wav").string() + "' synth 1 sine 300");
  auto retried = u.postroll({"retry", id});
  BOOST_TEST(retried.exit_code == 0, retried.err);
  BOOST_TEST(retried.out == (fs::canonical(u.t / "bad") / "postroll/session.m4a").string() + "\n", retried.out);
  BOOST_TEST(contains(retried.err, "progress"), retried.err);  // it ran here, with progress
  auto st = u.postroll({"status", id, "--json"});
  BOOST_TEST(json::parse(st.out)["state"] == "completed", st.out);
}

BOOST_AUTO_TEST_CASE(a_database_held_by_another_postroll_is_read_and_its_holder_named) {
  user u;
  auto dir = recording_session(u.t / "rec", "held");
  // `watch` holds the database while the recording goes on (no endedAt).
  child_process watch{u.argv({"watch", dir.string()})};
  auto line = watch.wait_for_line([](const std::string& l) { return contains(l, "until it carries endedAt"); }, 60s);
  BOOST_REQUIRE_MESSAGE(!line.empty(), watch.transcript());
  auto holder = "in use by pid " + std::to_string(watch.pid()) + " (postroll watch " + dir.string() + ")";

  auto list = u.postroll({"status", "--json"});
  BOOST_TEST(list.exit_code == 0, list.err);
  BOOST_TEST(contains(list.err, "(read-only: " + holder + ")"), list.err);
  auto jobs = json::parse(list.out);
  BOOST_REQUIRE(jobs.size() == 1u);
  auto id = jobs[0]["id"].get<std::string>();
  BOOST_TEST(jobs[0]["live"] == true);

  // Changing it is refused, naming who holds it.
  auto cancel = u.postroll({"cancel", id});
  BOOST_TEST(cancel.exit_code == 1);
  BOOST_TEST(contains(cancel.err, holder + ", which takes no commands"), cancel.err);
  // So is a second runtime on it.
  auto copy = u.t / "copy";
  fs::copy(dir, copy, fs::copy_options::recursive);
  auto busy = u.postroll({"watch", copy.string()});
  BOOST_TEST(busy.exit_code == 1);
  BOOST_TEST(contains(busy.err, u.state().string() + ": the job database is in use by pid " +
                                  std::to_string(watch.pid())),
             busy.err);
  no_library_text(busy);

  // Killed: its job stays unfinished and blocks the copy, which is told how
  // to clear it.
  watch.signal(SIGKILL);
  watch.wait();
  auto blocked = u.postroll({"watch", copy.string()});
  BOOST_TEST(blocked.exit_code == 2);
  BOOST_TEST(contains(blocked.err, "session id \"held\" already has an unfinished job " + id), blocked.err);
  BOOST_TEST(contains(blocked.err, "`postroll cancel " + id + "` clears it"), blocked.err);
  BOOST_TEST(contains(blocked.err, "`postroll watch " + fs::canonical(dir).string() + " --resume` finishes it there"),
             blocked.err);
  // The command it names works.
  auto cleared = u.postroll({"cancel", id, "--json"});
  BOOST_TEST(cleared.exit_code == 0, cleared.err);
  BOOST_TEST(json::parse(cleared.out)["state"] == "cancelled", cleared.out);
  // --resume refuses when nothing is unfinished; without it a new job runs.
  auto nothing = u.postroll({"watch", copy.string(), "--resume"});
  BOOST_TEST(nothing.exit_code == 2);
  BOOST_TEST(contains(nothing.err, "session id \"held\" has no unfinished job to resume"), nothing.err);
}

BOOST_AUTO_TEST_CASE(a_killed_process_is_resumed_by_resume_and_says_where) {
  user u;
  auto dir = recording_session(u.t / "rec", "resumable");
  child_process watch{u.argv({"watch", dir.string()})};
  BOOST_REQUIRE(!watch.wait_for_line([](const std::string& l) { return contains(l, "endedAt"); }, 60s).empty());
  watch.signal(SIGKILL);
  watch.wait();
  // The recording ends while nothing runs; --resume goes on with the job.
  write_file(dir / "session.json",
             json{{"schema", 1}, {"id", "resumable"}, {"endedAt", 1}, {"audio", {{{"path", "audio/a.wav"}, {"offsetMs", 0}}}}}
               .dump());
  auto r = u.postroll({"watch", dir.string(), "--resume", "--no-enrich"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.err, "postroll: resuming job j"), r.err);
  BOOST_TEST(r.out == (fs::canonical(dir) / "postroll/session.m4a").string() + "\n", r.out);
}
