// Live jobs: appends and the end go to the janitor (it rewrites the
// session's manifest durably); when live.record completes, the rest of the
// job is planned from what the recording turned out to hold.
#include "actors/queue/queue_logic.hpp"

#include "actors/caf_errors.hpp"

#include <nlohmann/json.hpp>
#include "postroll/stages.hpp"
#include <spdlog/spdlog.h>

namespace postroll::queue {

namespace {

// The submit choices a live job's plan is made with at its end, kept in the
// live stage's record until then (persisted with the job).
std::string choices_of(const submit_request& req) {
  return nlohmann::json{{"compress", req.compress}, {"enrich", req.enrich}, {"retention", req.retention},
                        {"priority", req.priority}}
    .dump();
}

submit_request request_from(const job_record& j, const std::string& choices) {
  submit_request req;
  req.session_dir = j.session_dir;
  auto c = nlohmann::json::parse(choices, nullptr, false);
  if (c.is_object()) {
    req.compress = std::int8_t(c.value("compress", -1));
    req.enrich = std::int8_t(c.value("enrich", -1));
    req.retention = c.value("retention", "");
    req.priority = c.value("priority", "");
  }
  return req;
}

}  // namespace

void queue_logic::remember_choices(job_record& j, const submit_request& req) {
  if (auto* s = find_stage(j, stage_live))
    s->result = choices_of(req);
}

// Forwards one change of a live job's manifest to the janitor; the answer
// comes when session.json on disk holds it.
template <class... Ts>
caf::result<job_reply> queue_logic::live_change(const std::string& id, const char* what, Ts... xs) {
  if (auto no = refuse_if_broken())
    return *no;
  auto it = st_.jobs.live.find(id);
  if (it == st_.jobs.live.end()) {
    auto r = status(id);
    if (r.failure)
      return r;
    return reply_error(errc::bad_input, "job " + id + " is " + to_string(r.job.state) + ": it takes no " + what);
  }
  if (!it->second.live)
    return reply_error(errc::bad_input, "job " + id + " is not recording (its recording ended): it takes no " + what);
  auto rp = self_->make_response_promise<job_reply>();
  self_->request(st_.janitor, caf::infinite, xs...)
    .then(
      [self = self_, rp, id](const fault& f) mutable {
        if (f) {
          rp.deliver(job_reply{f, {}});
          return;
        }
        queue_logic q{self};
        auto r = q.status(id);
        rp.deliver(r);
      },
      [rp](caf::error& e) mutable {
        rp.deliver(reply_error(errc::internal, "the session's manifest was not changed: " + plain_words(e)));
      });
  return rp;
}

caf::result<job_reply> queue_logic::append(const std::string& id, const std::string& kind, const std::string& path,
                                           std::int64_t offset_ms) {
  auto it = st_.jobs.live.find(id);
  auto dir = it == st_.jobs.live.end() ? std::string{} : it->second.session_dir;
  return live_change(id, "appended files", append_atom::value, dir, kind, path, offset_ms);
}

caf::result<job_reply> queue_logic::end_recording(const std::string& id) {
  auto it = st_.jobs.live.find(id);
  auto dir = it == st_.jobs.live.end() ? std::string{} : it->second.session_dir;
  return live_change(id, "end", end_atom::value, dir, std::int64_t(unix_now_ms()));
}

// live.record completed: the recording is over. The janitor reads the
// folder as for a submit and plans the rest; then the stage completes and
// the job goes on (until then nothing of it can start: nothing else is planned).
void queue_logic::live_ended(const stage_result& r) {
  auto* j = st_.jobs.find(r.job_id);
  auto* s = j ? find_stage(*j, stage_live) : nullptr;
  if (!s)
    return;
  auto req = request_from(*j, s->result);
  self_->request(st_.janitor, caf::infinite, submit_atom::value, req)
    .then(
      [self = self_, r](const session_check& c) {
        queue_logic{self}.plan_after_recording(r, c);
      },
      [self = self_, r](caf::error& e) {
        auto failed = r;
        failed.failure = fault::of(errc::internal, "the recording was not read: " + plain_words(e));
        queue_logic{self}.stage_failed(failed, errc::internal);
        queue_logic{self}.dispatch();
      });
}

void queue_logic::plan_after_recording(const stage_result& r, const session_check& c) {
  auto* j = st_.jobs.find(r.job_id);
  auto* s = j ? find_stage(*j, stage_live) : nullptr;
  // Cancelled (or finished otherwise) while the folder was read.
  if (!s || s->state != job_state::processing || s->attempts != r.attempt || j->cancel_requested)
    return;
  if (c.failure) {
    auto failed = r;
    failed.failure = c.failure;
    stage_failed(failed, c.failure.code);
    dispatch();
    return;
  }
  job_record rec;
  auto err = transition(r.job_id, "recording ended", [&](job_record& job) {
    job.live = false;
    job.media_bytes = c.media_bytes;
    for (auto st : c.stages) {
      if (find_stage(job, st.name))
        continue;  // (a live.record in the plan: never, recording has ended)
      if (st.needs.empty())
        st.needs.push_back(stage_live);
      job.stages.push_back(std::move(st));
    }
  }, &rec);
  if (err)
    return;
  spdlog::info("queue: job {}: the recording ended; {} stages follow", r.job_id, c.stages.size());
  stage_completed(r);
  dispatch();
}

}  // namespace postroll::queue
