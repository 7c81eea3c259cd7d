// Which stages a session's job runs, and what each waits for.
#pragma once

#include <string>
#include <vector>

#include "postroll/job.hpp"
#include "session/manifest.hpp"

namespace postroll {

/// An extra enrichment stage from the config (an external command).
struct extra_stage {
  std::string name;                ///< "enrich.<name>"
  std::vector<std::string> after;  ///< stages it needs besides the media stages
};

struct plan_options {
  bool compress = true;  ///< media.compress when there is video
  bool enrich = true;    ///< the enrich.* stages
  std::vector<extra_stage> extra;  ///< external enrichers (only with `enrich`)
  /// enrich.audio_review after enrich.chapters, when the session has
  /// pictures: the screen's words bias the recogniser.
  bool transcript_after_chapters = false;
  bool repair = false;   ///< media.repair first: validation found damaged files
  /// The originals' fate once every other stage completed: "keep" (no
  /// stage), "trash" or "delete" (a last stage that needs all others).
  std::string retention = "keep";
};

/// The stages for a manifest: media.repair when files are damaged, then
/// media.timeline when there is audio, then
/// media.merge, then media.compress — one after another. Then, with
/// enrichment, enrich.chapters once the playable file exists (beside
/// media.compress: the timestamps do not change), enrich.audio_review after
/// it (or, without screen words to wait for, once the timeline exists,
/// beside the merge), enrich.summary after
/// both, enrich.canvas after the summary, and the extra stages after the
/// media stages and what they name.
std::vector<stage_record> plan_stages(const manifest& m, const plan_options& options);

/// The worker pool a stage runs in: the part of its name before the dot
/// ("media", "enrich").
std::string pool_of(const std::string& stage);

}  // namespace postroll
