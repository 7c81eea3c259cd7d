// The embedding API as a host sees it: the installed package (headers,
// shared library, CMake and pkg-config files) used from outside the source
// tree, the public headers' include list, the exported symbols, and the C++
// API from many threads at once (the `tsan` preset runs this under
// ThreadSanitizer: docs/testing.md).
#define BOOST_TEST_MODULE api
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "postroll/postroll.hpp"
#include "support/event_log.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

fs::path build_dir() { return fs::path{POSTROLL_BINARY}.parent_path(); }

// One install per test run: `cmake --install` into a temporary prefix.
const fs::path& installed_prefix() {
  static temp_dir prefix;
  static bool done = false;
  if (!done) {
    auto r = run({"cmake", "--install", build_dir().string(), "--prefix", prefix.path().string()});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out + r.err);
    done = true;
  }
  return prefix.path();
}

// An embedded runtime's config for these tests: media stages only, quiet.
config media_only(const fs::path& data) {
  config cfg;
  cfg.data_dir = data.string();
  cfg.enrich = false;
  cfg.desktop_notifications = false;
  cfg.log_level = "warn";
  return cfg;
}

}  // namespace

BOOST_AUTO_TEST_CASE(public_headers_reach_no_caf_gstreamer_or_rocksdb_header) {
  const auto& prefix = installed_prefix();
  temp_dir t;
  write_file(t / "host.cpp", "#include <postroll/postroll.hpp>\n#include <postroll/postroll.h>\nint main() {}\n");
  // -M lists every header the program reaches, from the installed copies only.
  auto r = run({"c++", "-std=c++17", "-M", "-I", (prefix / "include").string(), (t / "host.cpp").string()});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  for (const char* banned : {"/caf/", "/gst/", "gstreamer", "/rocksdb/", "glib", "spdlog", "nlohmann", "toml++"})
    BOOST_TEST(r.out.find(banned) == std::string::npos, "public headers reach " << banned << ":\n" << r.out);
  BOOST_TEST(r.out.find("postroll/runtime.hpp") != std::string::npos);
  // The C header compiles as C.
  write_file(t / "host.c", "#include <postroll/postroll.h>\nint main(void) { return postroll_version()[0] == 0; }\n");
  auto c = run({"cc", "-std=c99", "-Wall", "-Werror", "-fsyntax-only", "-I", (prefix / "include").string(),
                (t / "host.c").string()});
  BOOST_TEST(c.exit_code == 0, c.err);
}

BOOST_AUTO_TEST_CASE(the_shared_library_exports_only_the_public_api) {
  auto lib = build_dir() / "libpostroll.so";
  auto soname = run({"sh", "-c", "objdump -p '" + lib.string() + "' | grep SONAME"});
  BOOST_TEST(soname.out.find("libpostroll.so.5") != std::string::npos, soname.out);
  auto syms = run({"nm", "-D", "--defined-only", lib.string()});
  BOOST_REQUIRE(syms.exit_code == 0);
  std::istringstream lines(syms.out);
  int exported = 0;
  for (std::string line; std::getline(lines, line);) {
    auto name = line.substr(line.rfind(' ') + 1);
    if (name.rfind("postroll_", 0) == 0 || name.find("8postroll") != std::string::npos) {
      ++exported;
      continue;
    }
    // Anything else must be the C++ runtime's or the linker's, never an
    // internal dependency's.
    for (const char* banned : {"3caf", "7rocksdb", "gst_", "6spdlog", "8nlohmann", "4toml"})
      BOOST_TEST(name.find(banned) == std::string::npos, "exported: " << name);
  }
  BOOST_TEST(exported > 10);
}

BOOST_AUTO_TEST_CASE(the_examples_build_against_the_installed_package_and_run_a_session) {
  const auto& prefix = installed_prefix();
  temp_dir t;
  make_demo_session(t / "demo", 8);
  for (const char* example : {"host_c", "host_cpp"}) {
    auto src = source_dir() / "examples" / example;
    auto bin = t / (std::string{"build-"} + example);
    auto conf = run({"cmake", "-S", src.string(), "-B", bin.string(), "-DCMAKE_PREFIX_PATH=" + prefix.string()});
    BOOST_REQUIRE_MESSAGE(conf.exit_code == 0, conf.out + conf.err);
    auto built = run({"cmake", "--build", bin.string()});
    BOOST_REQUIRE_MESSAGE(built.exit_code == 0, built.out + built.err);
    auto ran = run({"env", "LD_LIBRARY_PATH=" + (prefix / "lib").string(), (bin / example).string(),
                    (t / "demo").string(), (t / (std::string{"db-"} + example)).string()});
    BOOST_TEST(ran.exit_code == 0, example << ": " << ran.err);
    BOOST_TEST(ran.out.find("progress ") != std::string::npos, ran.out);
    BOOST_TEST(ran.out.find("eta ") != std::string::npos, ran.out);
    auto final_at = ran.out.rfind("final ") + 6;
    auto final_line = ran.out.substr(final_at, ran.out.find('\n', final_at) - final_at);
    BOOST_TEST(json::parse(final_line)["state"] == "completed");
  }
  // Bad input: exit 2 and a message naming the file.
  auto bad = run({"env", "LD_LIBRARY_PATH=" + (prefix / "lib").string(), (t / "build-host_c/host_c").string(),
                  (t / "nowhere").string(), (t / "db-bad").string()});
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(bad.err.find("nowhere") != std::string::npos, bad.err);
  // pkg-config works too.
  write_file(t / "pc.c", "#include <postroll/postroll.h>\n#include <stdio.h>\nint main(void) { puts(postroll_version()); return 0; }\n");
  auto pc = run({"sh", "-c", "PKG_CONFIG_PATH='" + (prefix / "lib/pkgconfig").string() + "' cc '" + (t / "pc.c").string() +
                               "' -o '" + (t / "pc").string() + "' $(PKG_CONFIG_PATH='" + (prefix / "lib/pkgconfig").string() +
                               "' pkg-config --cflags --libs postroll) && LD_LIBRARY_PATH='" + (prefix / "lib").string() +
                               "' '" + (t / "pc").string() + "'"});
  BOOST_TEST(pc.exit_code == 0, pc.err);
  BOOST_TEST(pc.out == "0.1.0\n");
}

BOOST_AUTO_TEST_CASE(eight_threads_call_the_api_at_once_while_events_flow_and_callbacks_call_back) {
  temp_dir t;
  auto cfg = media_only(t / "db");
  cfg.media_workers = 2;
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  constexpr int threads = 8, per_thread = 3;
  std::vector<fs::path> sessions;
  for (int i = 0; i < threads * per_thread + 1; ++i)
    sessions.push_back(tone_session(t / ("s" + std::to_string(i)), "s" + std::to_string(i)));
  // A callback that calls back into the runtime: when the first job
  // completes, it submits the extra session (no deadlock allowed).
  event_log log;
  std::atomic<bool> chained{false};
  std::string chained_id;
  std::mutex chained_mtx;
  auto sub = (*rt)->subscribe([&](const event& e) {
    log.sink()(e);
    if (e.kind == events::job_completed && !chained.exchange(true)) {
      auto j = (*rt)->submit(sessions.back().string());
      std::lock_guard<std::mutex> g{chained_mtx};
      chained_id = j ? j->id : "";
    }
  });
  BOOST_REQUIRE(sub);
  std::vector<std::thread> pool;
  std::atomic<int> failures{0};
  std::mutex ids_mtx;
  std::vector<std::string> ids;
  for (int k = 0; k < threads; ++k)
    pool.emplace_back([&, k] {
      for (int i = 0; i < per_thread; ++i) {
        auto j = (*rt)->submit(sessions[std::size_t(k * per_thread + i)].string());
        if (!j) {
          ++failures;
          continue;
        }
        if (!(*rt)->status(j->id))
          ++failures;
        if (i == 1 && !(*rt)->cancel(j->id))  // cancel one per thread (it may have finished: still an answer)
          if (!(*rt)->status(j->id))
            ++failures;
        (*rt)->list(list_filter{std::nullopt, {}, 5, {}});
        std::lock_guard<std::mutex> g{ids_mtx};
        ids.push_back(j->id);
      }
    });
  for (auto& th : pool)
    th.join();
  BOOST_TEST(failures.load() == 0);
  BOOST_REQUIRE_EQUAL(ids.size(), std::size_t(threads * per_thread));
  for (const auto& id : ids) {
    auto done = (*rt)->wait(id, 120s);
    BOOST_REQUIRE(done);
    BOOST_TEST((done->state == job_state::completed || done->state == job_state::cancelled));
  }
  BOOST_REQUIRE(log.wait_for([&](const event&) {
    std::lock_guard<std::mutex> g{chained_mtx};
    return !chained_id.empty();
  }));
  std::string extra;
  {
    std::lock_guard<std::mutex> g{chained_mtx};
    extra = chained_id;
  }
  auto extra_done = (*rt)->wait(extra, 60s);
  BOOST_REQUIRE(extra_done);
  BOOST_TEST((extra_done->state == job_state::completed));
  // Events of one job arrive in order: created first, its end last.
  for (const auto& id : ids) {
    auto kinds = log.kinds_of(id);
    BOOST_REQUIRE(!kinds.empty());
    BOOST_TEST(kinds.front() == "job-created");
    BOOST_TEST((kinds.back() == "job-completed" || kinds.back() == "job-cancelled"), kinds.back());
  }
}

BOOST_AUTO_TEST_CASE(list_filters_by_state_and_session_and_pages_with_a_cursor) {
  temp_dir t;
  auto cfg = media_only(t / "db");
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto j = (*rt)->submit(tone_session(t / ("s" + std::to_string(i)), "s" + std::to_string(i)).string());
    BOOST_REQUIRE(j);
    BOOST_REQUIRE((*rt)->wait(j->id, 60s));
    ids.push_back(j->id);
  }
  BOOST_REQUIRE(!(*rt)->submit((t / "missing").string()));
  auto first = (*rt)->list(list_filter{job_state::completed, {}, 2, {}});
  BOOST_REQUIRE(first);
  BOOST_REQUIRE_EQUAL(first->jobs.size(), 2u);
  BOOST_TEST(first->jobs[0].id == ids[4]);  // newest first
  BOOST_TEST(!first->next.empty());
  auto second = (*rt)->list(list_filter{job_state::completed, {}, 2, first->next});
  BOOST_REQUIRE(second);
  BOOST_TEST(second->jobs[0].id == ids[2]);
  auto third = (*rt)->list(list_filter{job_state::completed, {}, 2, second->next});
  BOOST_REQUIRE(third);
  BOOST_TEST(third->jobs.size() == 1u);
  BOOST_TEST(third->next.empty());
  auto one = (*rt)->list(list_filter{std::nullopt, "s3", 10, {}});
  BOOST_REQUIRE(one);
  BOOST_REQUIRE_EQUAL(one->jobs.size(), 1u);
  BOOST_TEST(one->jobs[0].id == ids[3]);
  auto none = (*rt)->list(list_filter{job_state::failed, {}, 10, {}});
  BOOST_REQUIRE(none);
  BOOST_TEST(none->jobs.empty());
}

BOOST_AUTO_TEST_CASE(stop_with_grace_lets_the_running_stage_finish) {
  temp_dir t;
  auto cfg = media_only(t / "db");
  // A 10-minute audio session: its timeline takes a moment.
  auto dir = tone_session(t / "s", "graceful", 600);
  std::string id;
  {
    auto rt = runtime::start(cfg);
    BOOST_REQUIRE(rt);
    event_log log;
    auto sub = (*rt)->subscribe(log.sink());
    auto j = (*rt)->submit(dir.string());
    BOOST_REQUIRE(j);
    id = j->id;
    BOOST_REQUIRE(log.wait_for(is(id, events::stage_started)));
    (*rt)->stop(30s);  // the timeline stage finishes; the merge does not start
  }
  auto rt = runtime::start(cfg);
  BOOST_REQUIRE(rt);
  auto done = (*rt)->wait(id, 60s);
  BOOST_REQUIRE(done);
  BOOST_TEST((done->state == job_state::completed));
  BOOST_TEST(done->stages[0].attempts == 1);  // finished before the stop: not redone
  BOOST_TEST(done->stages[1].attempts == 1);  // never started before the stop (not interrupted)
}
