// Client requests: submit, status, listings and histories, cancel, retry, drain.
#include "actors/queue/queue_logic.hpp"

#include <algorithm>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "actors/caf_errors.hpp"
#include "config/config_checks.hpp"
#include "postroll/stages.hpp"
#include "session/manifest.hpp"

namespace postroll::queue {

namespace {

// A path as a shell takes it back when pasted.
std::string shell_word(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

}  // namespace

// Requests that change state are refused while the database cannot be written.
std::optional<job_reply> queue_logic::refuse_if_broken() const {
  if (st_.store_broken.empty())
    return std::nullopt;
  return reply_error(errc::io, "not accepted: " + st_.store_broken);
}

// The folder is read and checked by the janitor (it may list 20,000 files
// or sit on a slow disk); the queue answers everyone else meanwhile and
// creates the job when the verdict comes back.
caf::result<job_reply> queue_logic::submit(const submit_request& req) {
  if (auto no = refuse_if_broken())
    return *no;
  priority prio = priority::normal;
  if (!req.priority.empty() && !parse(req.priority, prio))
    return reply_error(errc::bad_input, "unknown priority \"" + req.priority + "\" (high, normal, low)");
  if (auto bad = req.retention.empty() ? std::nullopt : check_retention(req.retention))
    return job_reply{fault::of(*bad), {}};
  auto rp = self_->make_response_promise<job_reply>();
  self_->request(st_.janitor, caf::infinite, submit_atom::value, req)
    .then(
      [self = self_, rp, req](const session_check& c) mutable {
        queue_logic q{self};
        auto reply = q.accept(req, c);
        if (reply.failure) {
          rp.deliver(std::move(reply));
          return;
        }
        q.after_commit([rp, reply](const maybe_error& err) mutable {
          rp.deliver(err ? reply_error(err->code, "not saved: " + err->message) : reply);
        });
      },
      [rp](caf::error& e) mutable {
        rp.deliver(reply_error(errc::internal, "the session folder was not checked: " + plain_words(e)));
      });
  return rp;
}

job_reply queue_logic::accept(const submit_request& req, const session_check& c) {
  if (auto no = refuse_if_broken())
    return *no;
  if (c.failure)
    return job_reply{c.failure, {}};
  auto manifest_path = (std::filesystem::path{c.session_dir} / manifest_file_name).string();
  if (auto* live = st_.jobs.of_session(c.session_id)) {
    // One unfinished job per session: the same folder resumes it; a copy
    // of the folder is told which job is in the way and how to clear it.
    if (live->session_dir != c.session_dir)
      return reply_error(errc::bad_input, manifest_path + ": session id \"" + c.session_id +
                                            "\" already has an unfinished job " + live->id + " (" +
                                            to_string(live->state) + ") for " + live->session_dir +
                                            ": `postroll cancel " + live->id + "` clears it, `postroll " +
                                            (live->live ? "watch " : "process ") + shell_word(live->session_dir) +
                                            " --resume` finishes it there");
    return reply_ok(*live);
  }
  // A session whose originals a finished job retired has nothing left
  // to process (a live job still finishing its retention was resumed above).
  if (!c.originals_retired.empty())
    return reply_error(errc::bad_input, manifest_path + ": its originals were retired (" + c.originals_retired +
                                            ") after an earlier job; nothing left to process");
  job_record j;
  j.id = new_id();
  j.session_id = c.session_id;
  j.session_dir = c.session_dir;
  j.session_name = c.session_name;
  parse(req.priority.empty() ? std::string{"normal"} : req.priority, j.prio);
  j.created_at = now();
  j.stages = c.stages;
  j.media_bytes = c.media_bytes;
  j.live = j.stages.size() == 1 && j.stages[0].name == stage_live;
  if (j.live)
    remember_choices(j, req);
  persist(j, nullptr, "submitted");
  emit(j, events::job_created);
  auto reply = reply_ok(*st_.jobs.find(j.id));
  dispatch();
  return reply;
}

job_reply queue_logic::status(const std::string& id) {
  if (auto it = st_.jobs.live.find(id); it != st_.jobs.live.end())
    return reply_ok(it->second);
  if (auto it = st_.unflushed.find(id); it != st_.unflushed.end())
    return it->second.second ? reply_ok(*it->second.second) : reply_error(errc::not_found, "no job with id " + id);
  auto rec = st_.store->get(id);
  if (!rec)
    return reply_error(rec.err().code, rec.err().message);
  if (!*rec)
    return reply_error(errc::not_found, "no job with id " + id);
  return reply_ok(**rec);
}

// Listings and histories read the store, after the writer caught up.
caf::result<job_list> queue_logic::list(std::uint32_t limit) {
  return when_durable<job_list>([self = self_, store = st_.store, limit](const maybe_error&) {
    auto jobs = store->recent(limit);
    if (!jobs)
      return job_list{fault::of(jobs.err()), {}, {}};
    queue_logic{self}.add_live_details(*jobs);
    return job_list{fault{}, std::move(*jobs), {}};
  });
}

caf::result<job_list> queue_logic::list(const list_query& q) {
  return when_durable<job_list>([self = self_, store = st_.store, q](const maybe_error&) {
    std::string next;
    auto keep = [&q](const job_record& j) {
      return (q.state < 0 || int(j.state) == q.state) && (q.session_id.empty() || j.session_id == q.session_id);
    };
    auto jobs = store->recent(std::max<std::uint32_t>(1, q.limit), q.cursor, &next, keep);
    if (!jobs)
      return job_list{fault::of(jobs.err()), {}, {}};
    queue_logic{self}.add_live_details(*jobs);
    return job_list{fault{}, std::move(*jobs), next};
  });
}

// What the store does not keep but a listing should show: why a ready
// job is held back (callbacks of when_durable run on the queue's thread).
void queue_logic::add_live_details(std::vector<job_record>& jobs) {
  for (auto& j : jobs)
    if (auto it = st_.jobs.live.find(j.id); it != st_.jobs.live.end())
      j.waiting = it->second.waiting;
}

// Graceful stop: no new stage starts; the answer comes once none runs.
caf::result<bool> queue_logic::drain() {
  st_.draining = true;
  if (std::all_of(st_.workers.begin(), st_.workers.end(), [](const worker_slot& w) { return w.job.empty(); }))
    return true;
  auto rp = self_->make_response_promise<bool>();
  st_.drained.push_back(rp);
  return rp;
}

caf::result<job_history> queue_logic::journal(std::uint64_t after, std::uint32_t limit) {
  return when_durable<job_history>([store = st_.store, after, limit](const maybe_error&) {
    auto entries = store->journal(after, std::min<std::uint32_t>(limit, 10000));
    if (!entries)
      return job_history{fault::of(entries.err()), {}};
    return job_history{fault{}, std::move(*entries)};
  });
}

caf::result<job_history> queue_logic::history(const std::string& id) {
  auto known = status(id);
  if (known.failure)
    return job_history{known.failure, {}};
  return when_durable<job_history>([store = st_.store, id](const maybe_error&) {
    auto entries = store->history(id);
    if (!entries)
      return job_history{fault::of(entries.err()), {}};
    return job_history{fault{}, std::move(*entries)};
  });
}

std::vector<std::uint64_t> queue_logic::counts() const {
  return {std::begin(st_.jobs.counts.by_state), std::end(st_.jobs.counts.by_state)};
}

caf::result<job_reply> queue_logic::cancel(const std::string& id) {
  if (auto no = refuse_if_broken())
    return *no;
  auto it = st_.jobs.live.find(id);
  if (it == st_.jobs.live.end()) {
    auto r = status(id);
    if (!r.failure)
      return reply_error(errc::bad_input, "job " + id + " is already " + to_string(r.job.state));
    return r;
  }
  if (std::any_of(st_.workers.begin(), st_.workers.end(), [&](const worker_slot& w) { return w.job == id; })) {
    // Running: each worker tears its stage down and answers with a
    // cancelled result; the job ends when the last one has.
    transition(id, "cancel requested", [](job_record& j) { j.cancel_requested = true; });
    for (auto& w : st_.workers)
      if (w.job == id)
        stop_running(w);
    return reply_when_durable(reply_ok(st_.jobs.live[id]));
  }
  return reply_when_durable(reply_ok(finish_cancelled(it->second)));
}

caf::result<job_reply> queue_logic::retry(const std::string& id) {
  if (auto no = refuse_if_broken())
    return *no;
  if (st_.jobs.live.count(id))
    return reply_error(errc::bad_input, "job " + id + " is still " + to_string(st_.jobs.live[id].state));
  auto r = status(id);
  if (r.failure)
    return r;
  job_record before = r.job;
  if (before.state == job_state::completed)
    return reply_error(errc::bad_input, "job " + id + " is completed; submit the session again to re-run it");
  if (auto other = st_.jobs.live_session.find(before.session_id); other != st_.jobs.live_session.end())
    return reply_error(errc::bad_input, "session " + before.session_id + " has a live job " + other->second);
  job_record j = before;
  j.state = job_state::pending;
  j.error.clear();
  j.cancel_requested = false;
  for (auto& s : j.stages)
    if (s.state != job_state::completed) {
      s.state = job_state::pending;
      s.attempts = 0;
      s.not_before = 0;
    }
  persist(j, &before, "retry requested");
  emit(j, events::job_created, {}, "retry");
  dispatch();
  return reply_when_durable(reply_ok(j));
}

}  // namespace postroll::queue
