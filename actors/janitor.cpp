#include "actors/janitor.hpp"

#include <atomic>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "config/config_checks.hpp"
#include "pipelines/repair.hpp"
#include "postroll/stage_results.hpp"
#include "session/session_removal.hpp"
#include "session/live_manifest.hpp"
#include "session/manifest.hpp"
#include "session/session_folder.hpp"

namespace postroll {

maybe_error janitor_config::validate() const {
  if (auto err = check_retention(retention))
    return err;
  if (auto err = check_output_dir(output_dir))
    return err;
  if (max_session_ms <= 0 || max_session_files == 0)
    return error{errc::bad_input, "the session limits must be positive"};
  return std::nullopt;
}

namespace {

struct janitor_state {
  static inline const char* name = "postroll.janitor";
  janitor_config cfg;
  std::shared_ptr<job_store> store;
  std::shared_ptr<const std::atomic<bool>> stop;  ///< set when the queue stops: a sweep ends early
};

using janitor_ptr = janitor_actor::stateful_pointer<janitor_state>;

manifest_options manifest_options_of(const janitor_config& cfg) {
  manifest_options mo;
  mo.missing_audio_as_silence = cfg.missing_audio_as_silence;
  mo.roots = cfg.session_roots;
  mo.max_session_ms = cfg.max_session_ms;
  mo.max_entries = cfg.max_session_files;
  return mo;
}

session_check check_session(const janitor_config& cfg, const submit_request& req) {
  session_check c;
  auto mo = manifest_options_of(cfg);
  // A recording still being made (a live job) may list nothing yet, and
  // its screen video may still be empty.
  mo.recording = req.live;
  auto m = load_manifest(req.session_dir, mo);
  if (!m) {
    c.failure = fault::of(m.err());
    return c;
  }
  c.session_id = m->id;
  c.session_dir = m->dir.string();
  c.session_name = m->name;
  c.originals_retired = m->originals_retired;
  c.media_bytes = m->media_bytes();  // each file once, however often it is listed
  if (req.live && m->ended_at == 0) {
    // Only the follower until the recording ends; the rest is planned then
    // (the queue asks again with live = false), from what it turned out to hold.
    stage_record s;
    s.name = stage_live;
    c.stages.push_back(std::move(s));
    return c;
  }
  plan_options plan;
  plan.compress = (req.compress < 0 ? cfg.compress : req.compress > 0) && cfg.playable != "compressed";
  plan.enrich = req.enrich < 0 ? cfg.enrich : req.enrich > 0;
  plan.extra = cfg.extra_stages;
  plan.transcript_after_chapters = cfg.transcript_after_chapters;
  plan.retention = req.retention.empty() ? cfg.retention : req.retention;
  // Damaged but repairable files (a killed recorder): a repair stage
  // first. Headers only; the stage does the real work.
  auto damaged = find_damage(*m);
  plan.repair = !damaged.empty();
  for (const auto& d : damaged)
    spdlog::warn("queue: {} is damaged ({}): media.repair will recover it", (m->dir / d.path).string(), d.reason);
  c.stages = plan_stages(*m, plan);
  return c;
}

std::string remove_files(const janitor_config& cfg, const job_record& job) {
  auto err = remove_session_files(job.session_dir, cfg.output_dir, job.removing == 2);
  if (!err)
    spdlog::info("queue: deleted the {} of job {} in {}", job.removing == 2 ? "outputs and recording" : "outputs",
                 job.id, job.session_dir);
  return err ? err->message : std::string{};
}

// Trashed originals older than `cutoff` go for good. The completed jobs'
// records say where and when (the trash stage's result).
std::uint32_t purge(const job_store& store, std::int64_t cutoff, const std::atomic<bool>& stop) {
  std::uint32_t purged = 0;
  std::string cursor;
  auto trashed = [](const job_record& j) {
    return j.state == job_state::completed && !j.stages.empty() && j.stages.back().name == stage_trash_originals;
  };
  do {
    std::string next;
    auto page = store.recent(200, cursor, &next, trashed);
    if (!page)
      return purged;
    for (const auto& j : *page) {
      if (stop.load())
        return purged;
      auto r = retention_result_of(j.stages.back().result);
      if (r.at > cutoff || r.trash.empty())
        continue;
      std::error_code ec;
      const auto& rel = r.trash;
      auto dir = std::filesystem::path{j.session_dir} / rel;
      auto folder = session_folder::open(j.session_dir);
      if (rel.empty() || !folder || !std::filesystem::exists(dir, ec))
        continue;
      // Confined to the session folder: a symlink swapped in for the
      // output folder never makes the sweep delete elsewhere.
      if (auto err = (*folder)->remove_tree(rel)) {
        spdlog::warn("queue: cannot purge {}: {}", dir.string(), err->message);
      } else {
        spdlog::info("queue: purged the trashed files of job {} ({})", j.id, dir.string());
        ++purged;
      }
    }
    cursor = next;
  } while (!cursor.empty() && !stop.load());
  return purged;
}

janitor_actor::behavior_type janitor(janitor_ptr self, janitor_config cfg, std::shared_ptr<job_store> store,
                                     std::shared_ptr<const std::atomic<bool>> stop) {
  self->state.cfg = std::move(cfg);
  self->state.store = std::move(store);
  self->state.stop = std::move(stop);
  return {
    [self](submit_atom, const submit_request& req) { return check_session(self->state.cfg, req); },
    [self](delete_atom, const job_record& job) { return remove_files(self->state.cfg, job); },
    [self](purge_atom, std::int64_t cutoff) { return purge(*self->state.store, cutoff, *self->state.stop); },
    [self](append_atom, const std::string& dir, const std::string& kind, const std::string& path, std::int64_t offset) {
      auto err = append_to_manifest(dir, live_file{kind, path, offset}, manifest_options_of(self->state.cfg));
      return err ? fault::of(*err) : fault{};
    },
    [self](end_atom, const std::string& dir, std::int64_t at) {
      auto err = end_manifest(dir, at);
      return err ? fault::of(*err) : fault{};
    },
  };
}

}  // namespace

result<janitor_actor> spawn_janitor(caf::actor_system& sys, janitor_config cfg, std::shared_ptr<job_store> store,
                                    std::shared_ptr<const std::atomic<bool>> stop) {
  if (auto err = cfg.validate())
    return *err;
  return sys.spawn<caf::detached>(janitor, std::move(cfg), std::move(store), std::move(stop));
}

}  // namespace postroll
