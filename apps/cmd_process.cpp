#include <iostream>

#include "apps/commands.hpp"
#include "apps/print.hpp"
#include "session/manifest.hpp"

namespace postroll::cli {

namespace {

// The session's newest job, if it has one.
result<std::optional<job_record>> newest_job_of(runtime& r, const std::string& session_id) {
  list_filter f;
  f.session_id = session_id;
  f.limit = 1;
  auto page = r.list(f);
  if (!page)
    return page.err();
  if (page->jobs.empty())
    return std::optional<job_record>{};
  return std::optional<job_record>{std::move(page->jobs.front())};
}

// The job a run of `process DIR` goes on with instead of submitting: the
// session's unfinished job for this folder, which the runtime resumed when
// it started, or that job already ended by it since `since` (a resumed
// stage can finish before this looks: a submit then would be refused, the
// originals retired by that very job).
result<std::optional<job_record>> job_to_resume(runtime& r, const manifest& m, std::int64_t since) {
  auto newest = newest_job_of(r, m.id);
  if (!newest || !*newest)
    return newest;
  const auto& j = **newest;
  if (j.session_dir == m.dir.string() && (!is_terminal(j.state) || j.updated_at >= since))
    return newest;
  return std::optional<job_record>{};
}

// " at media.merge": where a resumed job goes on.
std::string first_unfinished_stage(const job_record& j) {
  for (const auto& s : j.stages)
    if (s.state != job_state::completed)
      return " at " + s.name;
  return "";
}

// The embedded runtime in the foreground: one session, a progress bar, the
// playable file's path on stdout. `live`: the recording is still being
// made; the job follows its session.json until that carries endedAt.
int run_in_foreground(const args& a, signal_waiter& sig, bool live) {
  if (a.positional.size() != 1) {
    std::cerr << usage;
    return exit_bad_input;
  }
  auto cfg = make_config(a);
  if (!cfg)
    return fail(cfg.err());
  // Validate before starting anything: bad input is one line and exit 2.
  manifest_options mo;
  mo.missing_audio_as_silence = cfg->undecodable_as_silence;
  mo.max_session_ms = std::int64_t(cfg->max_session_hours) * 3600000;
  mo.max_entries = std::size_t(cfg->max_session_files);
  mo.roots = cfg->session_roots;
  mo.recording = live;
  auto m = load_manifest(a.positional[0], mo);
  if (!m)
    return fail(m.err());
  auto so = submit_options_for(a);
  if (!so)
    return fail(so.err());
  auto started = unix_now_ms();
  auto rt = runtime::start(*cfg);
  if (!rt)
    return fail(rt.err());
  job_follower follower{**rt, m->id, true};
  if (auto err = follower.subscribe())
    return fail(*err);
  auto resumed = job_to_resume(**rt, *m, started);
  if (!resumed)
    return fail(resumed.err());
  if (a.resume && !*resumed)
    return fail(nothing_to_resume(*m));
  if (*resumed)
    std::cerr << "postroll: resuming job " << (*resumed)->id << (live ? "" : first_unfinished_stage(**resumed)) << "\n";
  auto job = *resumed ? result<job_record>{**resumed}
             : live   ? (*rt)->open_live(m->dir.string(), *so)
                      : (*rt)->submit(m->dir.string(), *so);
  if (!job)
    return fail(job.err());
  if (live && m->ended_at == 0)
    std::cerr << "postroll: job " << job->id << " follows " << (m->dir / manifest_file_name).string()
              << " until it carries endedAt (Ctrl-C stops following; the job resumes next time)" << std::endl;
  return follow_to_the_end(a, **rt, follower, *job, sig);
}

}  // namespace

error nothing_to_resume(const manifest& m) {
  return error{errc::bad_input,
               (m.dir / manifest_file_name).string() + ": session id \"" + m.id + "\" has no unfinished job to resume"};
}

maybe_error check_resumable(runtime& r, const manifest& m) {
  auto newest = newest_job_of(r, m.id);
  if (!newest)
    return newest.err();
  if (!*newest || is_terminal((*newest)->state))
    return nothing_to_resume(m);
  return std::nullopt;
}

int follow_to_the_end(const args& a, runtime& r, job_follower& follower, const job_record& job, signal_waiter& sig) {
  auto final = follower.wait(job, sig);
  if (!final)
    return fail(final.err());
  if (a.json) {
    print_record(*final, true);
  } else if (final->state == job_state::completed) {
    print_repairs(*final, std::cerr);
    std::cout << final->output << compression_note(*final) << "\n";
  } else {
    std::cerr << "postroll: job " << final->id << " " << to_string(final->state)
              << (final->error.empty() ? "" : ": " + final->error) << "\n";
  }
  return exit_code_for(*final);
}

int cmd_process(const args& a, signal_waiter& sig) { return run_in_foreground(a, sig, false); }

int cmd_watch(const args& a, signal_waiter& sig) { return run_in_foreground(a, sig, true); }

}  // namespace postroll::cli
