// The queue's parts as plain C++: the job table, the commit tracker and the
// scheduler, with no actor, no store, no thread and no sleep. Time is a
// number the test chooses.
#define BOOST_TEST_MODULE scheduler
#include <boost/test/unit_test.hpp>

#include "actors/queue/commit_tracker.hpp"
#include "actors/queue/job_table.hpp"
#include "actors/queue/scheduler.hpp"
#include "postroll/stages.hpp"

using namespace postroll;
using namespace postroll::queue;

namespace {

constexpr std::int64_t minute = 60'000;

stage_record stage(const std::string& name, std::vector<std::string> needs = {}) {
  stage_record s;
  s.name = name;
  s.needs = std::move(needs);
  return s;
}

// A job as plan_stages makes one for an audio+video session with enrichment.
job_record job(const std::string& id, priority p, std::int64_t created) {
  job_record j;
  j.id = id;
  j.session_id = "s-" + id;
  j.session_dir = "/sessions/" + id;
  j.prio = p;
  j.created_at = created;
  j.media_bytes = 1000;
  j.stages = {stage(stage_timeline), stage(stage_merge, {stage_timeline}), stage(stage_compress, {stage_merge}),
              stage(stage_audio_review, {stage_compress}), stage(stage_chapters, {stage_compress}),
              stage(stage_summary, {stage_audio_review, stage_chapters})};
  return j;
}

slot idle(const std::string& pool, const std::string& node = "local", bool remote = false) {
  slot s;
  s.pool = pool;
  s.node = node;
  s.remote = remote;
  s.kind = pool + "|" + node;
  return s;
}

// A table, slots and nodes, and one round of the scheduler over them.
struct world {
  job_table jobs;
  std::vector<slot> slots;
  std::map<std::string, node_caps> nodes{{"local", node_caps{true, false, {}}}};
  schedule_limits limits;
  std::function<bool(job_record&)> disk_ok;
  std::map<std::string, std::int64_t> preempted_at;

  void add(const job_record& j) { jobs.record(j, nullptr); }

  // Marks `job`'s stages up to and including `upto` completed.
  void complete_through(const std::string& id, const std::string& upto) {
    auto j = *jobs.find(id);
    auto before = j;
    for (auto& s : j.stages) {
      s.state = job_state::completed;
      if (s.name == upto)
        break;
    }
    jobs.record(j, &before);
  }

  // Puts `stage` of `job` on slot `index` as running (as dispatch would).
  void run(std::size_t index, const std::string& id, const std::string& stage_name, std::int64_t started = 0) {
    auto j = *jobs.find(id);
    auto before = j;
    auto* s = find_stage(j, stage_name);
    s->state = job_state::processing;
    s->attempts += 1;
    s->started_at = started;
    j.state = job_state::processing;
    jobs.record(j, &before);
    slots[index].job = id;
    slots[index].stage = stage_name;
    slots[index].attempt = s->attempts;
  }

  schedule_plan plan(std::int64_t now) {
    schedule_input in;
    in.jobs = &jobs;
    for (const auto& s : slots)
      in.slots.push_back(&s);
    in.nodes = &nodes;
    in.limits = &limits;
    in.disk_ok = disk_ok;
    in.preempted_at = &preempted_at;
    return plan_round(in, now);
  }
};

std::vector<std::string> started_jobs(const schedule_plan& p) {
  std::vector<std::string> out;
  for (const auto& s : p.starts)
    out.push_back(s.job);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_table_keeps_ready_sets_counts_and_sessions_in_step) {
  job_table t;
  auto a = job("a", priority::normal, 1);
  t.record(a, nullptr);
  BOOST_TEST(t.counts[job_state::pending] == 1u);
  BOOST_TEST(t.ready["media"].size() == 1u);  // its timeline can start
  BOOST_TEST(t.ready["enrich"].empty());      // nothing of enrich before compress
  BOOST_TEST(t.of_session("s-a") != nullptr);
  auto before = a;
  for (int i = 0; i < 3; ++i)
    a.stages[i].state = job_state::completed;
  a.state = job_state::processing;
  t.record(a, &before);
  BOOST_TEST(t.counts[job_state::pending] == 0u);
  BOOST_TEST(t.counts[job_state::processing] == 1u);
  BOOST_TEST(t.ready["media"].empty());
  BOOST_TEST(t.ready["enrich"].size() == 1u);
  before = a;
  a.state = job_state::cancelled;
  t.record(a, &before);
  BOOST_TEST(t.live.empty());
  BOOST_TEST(t.ready["enrich"].empty());
  BOOST_TEST(t.of_session("s-a") == nullptr);
  BOOST_TEST(t.counts[job_state::cancelled] == 1u);
  BOOST_TEST(t.counts[job_state::processing] == 0u);
}

BOOST_AUTO_TEST_CASE(a_job_being_cancelled_is_ready_nowhere) {
  job_table t;
  auto a = job("a", priority::normal, 1);
  a.cancel_requested = true;
  t.record(a, nullptr);
  BOOST_TEST(t.ready["media"].empty());
}

BOOST_AUTO_TEST_CASE(commits_run_their_callbacks_in_order_once_durable) {
  commit_tracker c;
  std::vector<int> ran;
  c.after_commit([&](const maybe_error&) { ran.push_back(0); });  // nothing pending: at once
  BOOST_TEST(ran.size() == 1u);
  c.enqueued(1);
  c.after_commit([&](const maybe_error&) { ran.push_back(1); });
  c.enqueued(2);
  c.after_commit([&](const maybe_error&) { ran.push_back(2); });
  BOOST_TEST(!c.idle());
  c.committed(1, std::nullopt);
  BOOST_TEST(ran == (std::vector<int>{0, 1}), boost::test_tools::per_element());
  maybe_error seen;
  c.after_commit([&](const maybe_error& e) { seen = e; });
  c.committed(2, error{errc::io, "disk full"});
  BOOST_TEST(ran == (std::vector<int>{0, 1, 2}), boost::test_tools::per_element());
  BOOST_REQUIRE(seen);  // a failed write reaches what waited for it
  BOOST_TEST(seen->message == "disk full");
  BOOST_TEST(c.idle());
}

BOOST_AUTO_TEST_CASE(high_goes_first_and_a_low_job_that_waited_past_aging_counts_as_normal) {
  world w;
  w.slots = {idle("media")};
  auto t0 = 100 * minute;
  w.add(job("old-low", priority::low, t0));
  w.add(job("normal", priority::normal, t0 + 1 * minute));
  w.add(job("young-low", priority::low, t0 + 10 * minute));
  BOOST_TEST(started_jobs(w.plan(t0 + 2 * minute)) == (std::vector<std::string>{"normal"}),
             boost::test_tools::per_element());
  // 11 minutes in, the old low job has waited past the 10-minute aging and
  // is older than the normal one: it goes first; the young low does not.
  BOOST_TEST(started_jobs(w.plan(t0 + 11 * minute)) == (std::vector<std::string>{"old-low"}),
             boost::test_tools::per_element());
  w.add(job("high", priority::high, t0 + 11 * minute));
  BOOST_TEST(started_jobs(w.plan(t0 + 11 * minute)) == (std::vector<std::string>{"high"}),
             boost::test_tools::per_element());
  w.limits.aging_ms = -1;  // never: low waits for every normal job
  w.jobs.live.erase("high");
  w.jobs.ready["media"].clear();
  for (auto& [id, j] : w.jobs.live)
    w.jobs.refresh_ready(j);
  BOOST_TEST(started_jobs(w.plan(t0 + 60 * minute)) == (std::vector<std::string>{"normal"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(each_idle_slot_gets_one_stage_and_no_stage_starts_twice) {
  world w;
  w.slots = {idle("media"), idle("media"), idle("media")};
  w.add(job("a", priority::normal, 1));
  w.add(job("b", priority::normal, 2));
  auto p = w.plan(10);
  // Two jobs, each with one startable media stage: two starts, one slot idle.
  BOOST_TEST(started_jobs(p) == (std::vector<std::string>{"a", "b"}), boost::test_tools::per_element());
  BOOST_TEST(p.starts[0].stage == stage_timeline);
  BOOST_TEST(p.starts[0].attempt == 1);
  BOOST_TEST(p.starts[0].first_start);
}

BOOST_AUTO_TEST_CASE(enrichment_is_limited_per_job_but_a_job_in_it_adds_its_parallel_stage) {
  world w;
  w.slots = {idle("enrich"), idle("enrich"), idle("enrich")};
  w.limits.max_enrich_jobs = 1;
  w.add(job("a", priority::normal, 1));
  w.add(job("b", priority::normal, 2));
  w.complete_through("a", stage_compress);
  w.complete_through("b", stage_compress);
  auto p = w.plan(10);
  // a's two parallel stages start; b waits for a place in enrichment.
  BOOST_REQUIRE_EQUAL(p.starts.size(), 2u);
  BOOST_TEST(p.starts[0].job == "a");
  BOOST_TEST(p.starts[1].job == "a");
  BOOST_TEST(p.starts[0].stage != p.starts[1].stage);
}

BOOST_AUTO_TEST_CASE(placement_prefers_the_least_loaded_node_and_what_a_node_can_run) {
  world w;
  w.nodes["busy"] = node_caps{false, false, {"media.*", "enrich.*"}};
  w.nodes["free"] = node_caps{false, false, {"media.*", "enrich.*"}};
  w.nodes["media-only"] = node_caps{false, false, {"media.*"}};
  w.slots = {idle("media", "busy", true), idle("media", "busy", true), idle("media", "free", true),
             idle("enrich", "media-only", true)};
  w.add(job("running", priority::normal, 1));
  w.add(job("next", priority::normal, 2));
  w.run(0, "running", stage_timeline);
  auto p = w.plan(10);
  BOOST_REQUIRE_EQUAL(p.starts.size(), 1u);
  BOOST_TEST(p.starts[0].slot == 2u);  // "free" runs 0 of 1, "busy" 1 of 2
  // An external enricher runs only where a node names it.
  w.limits.extra_stages = {"enrich.custom"};
  slot s = idle("enrich", "media-only", true);
  BOOST_TEST(!can_run(s, "enrich.custom", w.nodes, w.limits.extra_stages));
  BOOST_TEST(!can_run(s, stage_summary, w.nodes, w.limits.extra_stages));  // no enrich.* there
  w.nodes["ext"] = node_caps{false, false, {"enrich.*", "enrich.custom"}};
  s.node = "ext";
  BOOST_TEST(can_run(s, "enrich.custom", w.nodes, w.limits.extra_stages));
  BOOST_TEST(can_run(idle("enrich"), "enrich.custom", w.nodes, w.limits.extra_stages));  // the coordinator's own
}

BOOST_AUTO_TEST_CASE(compress_waits_for_an_idle_hardware_node) {
  world w;
  w.nodes["sw"] = node_caps{false, false, {"media.*"}};
  w.nodes["hw"] = node_caps{false, true, {"media.*"}};
  w.slots = {idle("media", "sw", true), idle("media", "hw", true)};
  w.slots[0].kind = slot_kind(w.slots[0], w.nodes);
  w.slots[1].kind = slot_kind(w.slots[1], w.nodes);
  w.add(job("a", priority::normal, 1));
  w.complete_through("a", stage_merge);
  auto p = w.plan(10);
  BOOST_REQUIRE_EQUAL(p.starts.size(), 1u);
  BOOST_TEST(p.starts[0].slot == 1u);
  BOOST_TEST(p.starts[0].stage == stage_compress);
}

BOOST_AUTO_TEST_CASE(the_disk_guard_holds_media_stages_only) {
  world w;
  w.slots = {idle("media"), idle("enrich")};
  int asked = 0;
  w.disk_ok = [&](job_record& j) {
    ++asked;
    j.waiting = "waiting for disk space";
    return false;
  };
  w.add(job("a", priority::normal, 1));
  w.add(job("b", priority::normal, 2));
  w.complete_through("b", stage_compress);  // b only has enrichment left
  auto p = w.plan(10);
  BOOST_TEST(started_jobs(p) == (std::vector<std::string>{"b"}), boost::test_tools::per_element());
  BOOST_TEST(asked > 0);
  BOOST_TEST(w.jobs.find("a")->waiting == "waiting for disk space");
}

BOOST_AUTO_TEST_CASE(a_stage_in_backoff_waits_for_its_time) {
  world w;
  w.slots = {idle("media")};
  auto j = job("a", priority::normal, 1);
  j.stages[0].not_before = 5000;
  w.add(j);
  BOOST_TEST(w.plan(4999).starts.empty());
  BOOST_TEST(w.plan(5000).starts.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_high_job_preempts_a_lower_jobs_compress_not_its_merge) {
  world w;
  w.slots = {idle("media")};
  w.add(job("low", priority::normal, 1));
  w.complete_through("low", stage_merge);
  w.run(0, "low", stage_compress, 100);
  w.add(job("high", priority::high, 2));
  auto p = w.plan(1000);
  BOOST_TEST(p.starts.empty());
  BOOST_REQUIRE_EQUAL(p.preemptions.size(), 1u);
  BOOST_TEST(p.preemptions[0].job == "low");
  BOOST_TEST(p.preemptions[0].stage == stage_compress);
  BOOST_TEST(p.preemptions[0].for_job == "high");
  // Once the slot is stopping, the waiting job is promised it: no second stop.
  w.slots[0].preempting = true;
  BOOST_TEST(w.plan(1000).preemptions.empty());
  w.slots[0].preempting = false;
  // Preempted within the window: it runs on.
  w.preempted_at[run_key("low", stage_compress)] = 900;
  BOOST_TEST(w.plan(1000).preemptions.empty());
  BOOST_TEST(w.plan(900 + w.limits.preempt_window_ms).preemptions.size() == 1u);
  w.preempted_at.clear();
  // Switched off: nothing is stopped.
  w.limits.preempt = false;
  BOOST_TEST(w.plan(1000).preemptions.empty());
}

BOOST_AUTO_TEST_CASE(no_preemption_of_a_merge_nor_for_an_equal_priority) {
  world w;
  w.slots = {idle("media")};
  w.add(job("low", priority::low, 1));
  w.run(0, "low", stage_timeline);
  w.add(job("high", priority::high, 2));
  BOOST_TEST(w.plan(1000).preemptions.empty());  // media.timeline ends in seconds
  world same;
  same.slots = {idle("media")};
  same.add(job("a", priority::normal, 1));
  same.complete_through("a", stage_merge);
  same.run(0, "a", stage_compress);
  same.add(job("b", priority::normal, 2));
  BOOST_TEST(same.plan(1000).preemptions.empty());
}

BOOST_AUTO_TEST_CASE(the_youngest_run_of_the_lowest_priority_is_stopped) {
  world w;
  w.slots = {idle("enrich"), idle("enrich"), idle("enrich")};
  w.limits.max_enrich_jobs = 0;
  for (auto [id, p] : {std::pair{"n", priority::normal}, std::pair{"l1", priority::low}, std::pair{"l2", priority::low}}) {
    w.add(job(id, p, 1));
    w.complete_through(id, stage_compress);
  }
  w.run(0, "n", stage_chapters, 10);
  w.run(1, "l1", stage_chapters, 20);
  w.run(2, "l2", stage_chapters, 30);
  w.add(job("high", priority::high, 5));
  w.complete_through("high", stage_compress);
  auto p = w.plan(1000);
  BOOST_TEST(p.starts.empty());
  // One stop per waiting job and round, highest priority first: for the
  // high job the youngest run of the lowest priority (the least work lost),
  // then for the normal job's own parallel stage the other low run. The
  // normal job's running stage is never touched.
  BOOST_REQUIRE_EQUAL(p.preemptions.size(), 2u);
  BOOST_TEST(p.preemptions[0].job == "l2");
  BOOST_TEST(p.preemptions[0].for_job == "high");
  BOOST_TEST(p.preemptions[1].job == "l1");
  BOOST_TEST(p.preemptions[1].for_job == "n");
}

BOOST_AUTO_TEST_CASE(a_lease_lapses_only_on_a_remote_running_slot_past_its_time) {
  slot local = idle("media");
  local.job = "a";
  local.lease_until = 0;
  slot remote = idle("media", "w1", true);
  remote.job = "b";
  remote.lease_until = 1000;
  slot idle_remote = idle("media", "w1", true);
  slot already = remote;
  already.lapsed = true;
  std::vector<const slot*> all{&local, &remote, &idle_remote, &already};
  BOOST_TEST(lapsed_leases(all, 1000).empty());
  BOOST_TEST(lapsed_leases(all, 1001) == (std::vector<std::size_t>{1}), boost::test_tools::per_element());
}
