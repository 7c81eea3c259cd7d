// The janitor: file-system work the queue must not wait for, on a thread
// of its own. Reading and checking a submitted folder (a manifest of 20,000
// files, damaged-file headers), deleting a job's files and sweeping the
// trash all take as long as the disk does; the queue asks and hears back by
// reply, and keeps answering everyone else meanwhile.
#pragma once

#include "postroll/config.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/stage_plan.hpp"
#include "storage/job_store.hpp"

namespace postroll {

struct janitor_config {
  // How a submitted folder is read (docs/configuration.md).
  bool missing_audio_as_silence = false;  ///< accept manifests naming absent audio files
  /// Every submitted session folder must be inside one of these ("" = any);
  /// checked on the folder as opened (no symlink race).
  std::vector<std::string> session_roots;
  std::int64_t max_session_ms = 24LL * 3600 * 1000;  ///< the longest session taken
  std::size_t max_session_files = 20000;             ///< files a manifest may list
  // What a job runs unless its submit says otherwise.
  bool compress = true;  ///< media.compress
  /// media.playable: "compressed" merges straight at the compression preset
  /// (no media.compress stage), "fast" remuxes first.
  std::string playable = "fast";
  /// The enrich.* stages. Off here (a queue alone has no enrichment
  /// workers); the runtime sets it from the config, where it is on.
  bool enrich = false;
  std::vector<extra_stage> extra_stages;  ///< external enrichers from the config
  /// enrich.audio_review waits for enrich.chapters (the screen's words bias
  /// the recogniser: enrich.screen_vocabulary > 0).
  bool transcript_after_chapters = false;
  /// What happens to a completed job's originals: "keep", "trash" or
  /// "delete" (docs/storage.md).
  std::string retention = "keep";
  std::string output_dir = default_output_dir;  ///< outputs, relative to the session folder (removal deletes it)

  /// Why this config cannot be used, or nullopt.
  maybe_error validate() const;
};

/// Spawns the janitor on a thread of its own. `store` is read by the trash
/// sweep (completed jobs' records say where their trash is); `stop` set
/// ends a sweep early (the queue stops).
result<janitor_actor> spawn_janitor(caf::actor_system& sys, janitor_config cfg, std::shared_ptr<job_store> store,
                                    std::shared_ptr<const std::atomic<bool>> stop);

}  // namespace postroll
