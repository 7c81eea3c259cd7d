// Which stages a session's job runs, in order.
#pragma once

#include <vector>

#include "postroll/job.hpp"
#include "session/manifest.hpp"

namespace postroll {

/// The stages for a manifest: media.timeline when there is audio, then
/// media.merge, then media.compress when asked and there is video.
/// (Enrichment joins here in a later version.)
std::vector<stage_record> plan_stages(const manifest& m, bool compress = true);

}  // namespace postroll
