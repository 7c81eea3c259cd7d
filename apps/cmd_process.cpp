#include <iostream>

#include "apps/commands.hpp"
#include "apps/print.hpp"
#include "session/manifest.hpp"

namespace postroll::cli {

namespace {

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
  auto rt = runtime::start(*cfg);
  if (!rt)
    return fail(rt.err());
  job_follower follower{**rt, m->id, true};
  if (auto err = follower.subscribe())
    return fail(*err);
  if (live && m->ended_at == 0)
    std::cerr << "postroll: following " << (m->dir / manifest_file_name).string()
              << " until it carries endedAt (Ctrl-C stops following; the job resumes next time)\n";
  auto job = live ? (*rt)->open_live(m->dir.string(), *so) : (*rt)->submit(m->dir.string(), *so);
  if (!job)
    return fail(job.err());
  auto final = follower.wait(*job, sig);
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

}  // namespace

int cmd_process(const args& a, signal_waiter& sig) { return run_in_foreground(a, sig, false); }

int cmd_watch(const args& a, signal_waiter& sig) { return run_in_foreground(a, sig, true); }

}  // namespace postroll::cli
