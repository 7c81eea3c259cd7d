// The RocksDB job store and the config file parser.
#define BOOST_TEST_MODULE store_and_config
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <map>
#include <set>

#include "actors/backoff.hpp"
#include "config/path_map.hpp"
#include "postroll/config.hpp"
#include "storage/job_store.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace postroll;
using namespace postroll::test;

namespace {
job_record make_job(const std::string& id, priority p, std::int64_t created) {
  job_record j;
  j.id = id;
  j.session_id = "s-" + id;
  j.session_dir = "/sessions/" + id;
  j.prio = p;
  j.created_at = created;
  j.updated_at = created;
  stage_record s;
  s.name = "media.merge";
  j.stages.push_back(s);
  return j;
}
}  // namespace

BOOST_AUTO_TEST_CASE(saved_jobs_survive_reopen_in_dispatch_order) {
  temp_dir tmp;
  {
    auto store = job_store::open(tmp / "db");
    BOOST_REQUIRE(store);
    auto& s = **store;
    BOOST_REQUIRE(!s.save(make_job("a", priority::low, 100), nullptr, "submitted"));
    BOOST_REQUIRE(!s.save(make_job("b", priority::high, 300), nullptr, "submitted"));
    BOOST_REQUIRE(!s.save(make_job("c", priority::normal, 200), nullptr, "submitted"));
    BOOST_REQUIRE(!s.save(make_job("d", priority::high, 100), nullptr, "submitted"));
    // a moves to processing: it leaves the pending index.
    auto before = make_job("a", priority::low, 100);
    auto after = before;
    after.state = job_state::processing;
    after.stages[0].state = job_state::processing;
    after.stages[0].attempts = 1;
    BOOST_REQUIRE(!s.save(after, &before, "stage started"));
    BOOST_TEST(s.next_journal_seq() == 6u);
  }
  auto store = job_store::open(tmp / "db");
  BOOST_REQUIRE(store);
  auto& s = **store;
  auto pending = s.in_state(job_state::pending);
  BOOST_REQUIRE(pending);
  std::vector<std::string> order;
  for (auto& j : *pending)
    order.push_back(j.id);
  BOOST_TEST(order == (std::vector<std::string>{"d", "b", "c"}), boost::test_tools::per_element());
  auto processing = s.in_state(job_state::processing);
  BOOST_REQUIRE(processing);
  BOOST_REQUIRE_EQUAL(processing->size(), 1u);
  BOOST_TEST((*processing)[0].stages[0].attempts == 1);
  BOOST_TEST(s.job_for_session("s-a").value_or("") == "a");
  BOOST_TEST(s.next_journal_seq() == 6u);  // the journal sequence continues
  auto history = s.history("a");
  BOOST_REQUIRE(history);
  BOOST_REQUIRE_EQUAL(history->size(), 2u);
  BOOST_TEST((*history)[0].to == "pending");
  BOOST_TEST((*history)[1].from == "pending");
  BOOST_TEST((*history)[1].to == "processing");
  BOOST_TEST((*history)[1].reason == "stage started");
  BOOST_TEST((*history)[1].seq == 5u);
  // Counts come back from the meta key written with every batch.
  auto counts = s.count_by_state();
  BOOST_TEST(counts[job_state::pending] == 3u);
  BOOST_TEST(counts[job_state::processing] == 1u);
  // Removing a job removes its record, index entries and history.
  auto a_now = s.get("a");
  BOOST_REQUIRE(a_now && *a_now);
  BOOST_REQUIRE(!s.remove(**a_now));
  BOOST_TEST(!s.get("a")->has_value());
  BOOST_TEST(s.history("a")->empty());
  BOOST_TEST(!s.job_for_session("s-a").has_value());
  BOOST_TEST(s.count_by_state()[job_state::processing] == 0u);
  BOOST_TEST(s.history("b")->size() == 1u);  // others keep theirs
  auto missing = s.get("zzz");
  BOOST_REQUIRE(missing);
  BOOST_TEST(!missing->has_value());
}

BOOST_AUTO_TEST_CASE(a_corrupt_database_is_moved_aside_and_replaced) {
  temp_dir tmp;
  {
    auto store = job_store::open(tmp / "db");
    BOOST_REQUIRE(store);
    BOOST_REQUIRE(!(*store)->save(make_job("a", priority::normal, 1), nullptr, "submitted"));
  }
  // Overwrite every table file and the manifest with garbage.
  for (auto& e : fs::directory_iterator(tmp / "db")) {
    auto name = e.path().filename().string();
    if (name.rfind("MANIFEST", 0) == 0 || e.path().extension() == ".sst" || e.path().extension() == ".log")
      write_file(e.path(), std::string(4096, '\x5a'));
  }
  std::string moved;
  auto store = job_store::open(tmp / "db", &moved);
  BOOST_REQUIRE_MESSAGE(store, (store ? "" : store.err().message));
  BOOST_TEST(!moved.empty());
  BOOST_TEST(moved.find(".corrupt-") != std::string::npos);
  auto pending = (*store)->in_state(job_state::pending);
  BOOST_REQUIRE(pending);
  BOOST_TEST(pending->empty());
}

BOOST_AUTO_TEST_CASE(listings_page_newest_first_through_the_creation_index) {
  temp_dir tmp;
  auto store = job_store::open(tmp / "db");
  BOOST_REQUIRE(store);
  auto& s = **store;
  std::vector<store_op> ops;
  for (int i = 0; i < 25; ++i) {
    store_op op;
    op.job = make_job("j" + std::to_string(100 + i), priority::normal, 1000 + i);
    op.reason = "submitted";
    ops.push_back(op);
  }
  BOOST_REQUIRE(!s.apply(ops));  // one group-committed batch
  BOOST_TEST(s.next_journal_seq() == 26u);
  BOOST_TEST(s.count_by_state()[job_state::pending] == 25u);
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    std::string next;
    auto jobs = s.recent(10, cursor, &next);
    BOOST_REQUIRE(jobs);
    for (auto& j : *jobs)
      seen.push_back(j.id);
    if (next.empty())
      break;
    cursor = next;
  }
  BOOST_REQUIRE_EQUAL(seen.size(), 25u);
  BOOST_TEST(seen.front() == "j124");  // newest first
  BOOST_TEST(seen.back() == "j100");
  BOOST_TEST(std::set<std::string>(seen.begin(), seen.end()).size() == 25u);  // no page repeats one
}

BOOST_AUTO_TEST_CASE(jobs_are_salvaged_from_a_database_whose_manifest_is_corrupt) {
  temp_dir tmp;
  {
    auto store = job_store::open(tmp / "db");
    BOOST_REQUIRE(store);
    auto done = make_job("done", priority::normal, 1);
    done.state = job_state::completed;
    BOOST_REQUIRE(!(*store)->save(done, nullptr, "imported"));
    BOOST_REQUIRE(!(*store)->save(make_job("waiting", priority::high, 2), nullptr, "submitted"));
  }
  for (auto& e : fs::directory_iterator(tmp / "db"))
    if (e.path().filename().string().rfind("MANIFEST", 0) == 0)
      write_file(e.path(), std::string(4096, '\x5a'));
  std::string moved;
  auto store = job_store::open(tmp / "db", &moved);
  BOOST_REQUIRE(store);
  BOOST_REQUIRE(!moved.empty());
  auto salvaged = job_store::salvage(moved);
  std::map<std::string, job_state> got;
  for (auto& j : salvaged)
    got[j.id] = j.state;
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  BOOST_TEST(to_string(got["done"]) == "completed");
  BOOST_TEST(to_string(got["waiting"]) == "pending");
  BOOST_TEST(fs::exists(moved));  // the original stays for forensics
  BOOST_TEST(!fs::exists(moved + ".salvage"));
}

BOOST_AUTO_TEST_CASE(job_records_round_trip_through_json) {
  auto j = make_job("x", priority::high, 42);
  j.state = job_state::failed;
  j.error = "media.merge: broken";
  j.error_code = errc::bad_input;
  j.stages[0].result = R"({"file":"/a.mp4"})";
  auto back = job_from_json(to_json(j));
  BOOST_REQUIRE(back);
  BOOST_TEST(back->id == "x");
  BOOST_TEST(int(back->prio) == int(priority::high));
  BOOST_TEST(int(back->state) == int(job_state::failed));
  BOOST_TEST(int(back->error_code) == int(errc::bad_input));
  BOOST_TEST(back->stages[0].result == R"({"file":"/a.mp4"})");
}

BOOST_AUTO_TEST_CASE(config_files_are_validated_with_file_line_and_key) {
  temp_dir tmp;
  struct bad {
    std::string text;
    std::string expected;
  };
  const std::vector<bad> cases = {
    {"[node]\nport = \"x\"\n", ":2: key 'node.port': expected an integer"},
    {"[node]\nprot = 5\n", ":2: key 'node.prot': unknown key"},
    {"[nodes]\nport = 5\n", ":1: key 'nodes': unknown section"},
    {"[media]\nworkers = 65\n", ":2: key 'media.workers': must be between 0 and 64 (got 65)"},
    {"[log]\nlevel = \"loud\"\n", "key 'log.level': \"loud\" is not one of"},
    {"[media]\nundecodable_segments = true\n", "key 'media.undecodable_segments': expected a string"},
    {"[node\n", ":1:"},
    {"[queue]\nretry_base_ms = 10\nretry_cap_ms = 5\n", "queue.retry_cap_ms must be >= queue.retry_base_ms"},
    {"[media]\noutput_dir = \"../x\"\n", "media.output_dir must be a relative folder"},
    {"[queue]\nmin_free_factor = \"lots\"\n", "key 'queue.min_free_factor': expected a number"},
    {"[node]\nrole = \"boss\"\n", "key 'node.role': \"boss\" is not one of: coordinator, standalone, worker"},
    {"[node]\nrole = \"worker\"\n", "cluster.coordinator must name the coordinator"},
    {"[node]\nhost = \"0.0.0.0\"\n", "node.host 0.0.0.0 is off loopback: set [tls]"},
    {"[node]\nrole = \"worker\"\n[cluster]\ncoordinator = \"10.0.0.10:7411\"\n", "is off loopback: set [tls]"},
    {"[tls]\ncertificate = \"/a.crt\"\n", "tls: certificate, key and ca go together"},
    {"[cluster]\npath_map = [\"srv=/mnt\"]\n", "must be COORDINATOR_PREFIX=LOCAL_PREFIX, both absolute"},
    {"[cluster]\nlease_ms = 10\n", "key 'cluster.lease_ms': must be between 500"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("config: " << c.text) {
      auto path = tmp / "c.toml";
      write_file(path, c.text);
      auto cfg = load_config(path.string());
      BOOST_REQUIRE(!cfg);
      BOOST_TEST(cfg.err().message.rfind(path.string(), 0) == 0, cfg.err().message);
      BOOST_TEST(cfg.err().message.find(c.expected) != std::string::npos, cfg.err().message);
    }
  }
  write_file(tmp / "ok.toml",
             "[node]\ndata_dir = \"/var/lib/postroll\"\nport = 0\n[media]\nworkers = 2\n"
             "undecodable_segments = \"silence\"\n[queue]\nmax_attempts = 5\n");
  auto cfg = load_config((tmp / "ok.toml").string());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.err().message));
  BOOST_TEST(cfg->data_dir == "/var/lib/postroll");
  BOOST_TEST(cfg->port == 0);
  BOOST_TEST(cfg->media_workers == 2);
  BOOST_TEST(cfg->undecodable_as_silence);
  BOOST_TEST(cfg->max_attempts == 5);
  BOOST_TEST(cfg->retry_base_ms == 2000);  // untouched keys keep defaults
}

BOOST_AUTO_TEST_CASE(path_maps_translate_whole_components_both_ways) {
  path_map m{{{"/srv/sessions", "/mnt/share/sessions/"}, {"/data", "/d"}}};
  BOOST_TEST(m.to_local("/srv/sessions/s-1") == "/mnt/share/sessions/s-1");
  BOOST_TEST(m.to_local("/srv/sessions") == "/mnt/share/sessions");
  BOOST_TEST(m.to_local("/srv/sessionsX/s-1") == "/srv/sessionsX/s-1");  // not a prefix component
  BOOST_TEST(m.to_local("/elsewhere/s") == "/elsewhere/s");
  BOOST_TEST(m.to_remote("/mnt/share/sessions/s-1/postroll/session.mp4") == "/srv/sessions/s-1/postroll/session.mp4");
  BOOST_TEST(m.to_remote("/d/x") == "/data/x");
  auto json = m.to_remote_json(R"({"file":"/mnt/share/sessions/s/postroll/a.mp4","n":3,"list":["/d/1","rel"]})");
  BOOST_TEST(json == R"({"file":"/srv/sessions/s/postroll/a.mp4","list":["/data/1","rel"],"n":3})");
  BOOST_TEST(path_map{}.to_remote_json("not json") == "not json");
  std::pair<std::string, std::string> pair;
  BOOST_TEST(path_map::parse_pair("/a=/b", pair));
  BOOST_TEST(pair.first == "/a");
  BOOST_TEST(!path_map::parse_pair("/a", pair));
  BOOST_TEST(!path_map::parse_pair("a=/b", pair));
}

BOOST_AUTO_TEST_CASE(a_database_in_use_is_refused_with_a_clear_reason) {
  temp_dir tmp;
  auto first = job_store::open(tmp / "db");
  BOOST_REQUIRE(first);
  auto second = job_store::open(tmp / "db");
  BOOST_REQUIRE(!second);
  BOOST_TEST(int(second.err().code) == int(errc::unavailable));
  BOOST_TEST(second.err().message.find("in use by another postroll process") != std::string::npos,
             second.err().message);
}

BOOST_AUTO_TEST_CASE(retry_delays_grow_exponentially_with_bounded_jitter_and_a_cap) {
  backoff_policy p;  // 2 s base, factor 2, 5 min cap, 20 % jitter
  BOOST_TEST(backoff_delay(p, 1, 0.0) == 2000);
  BOOST_TEST(backoff_delay(p, 2, 0.0) == 4000);
  BOOST_TEST(backoff_delay(p, 3, 0.0) == 8000);
  BOOST_TEST(backoff_delay(p, 3, 0.999) >= 6400);  // at most 20 % earlier
  BOOST_TEST(backoff_delay(p, 3, 0.5) == 7200);
  BOOST_TEST(backoff_delay(p, 20, 0.0) == 300000);  // capped
  BOOST_TEST(backoff_delay(p, 20, 0.999) >= 240000);
}
