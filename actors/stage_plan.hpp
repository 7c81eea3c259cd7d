// Which stages a session's job runs, in order.
#pragma once

#include <vector>

#include "postroll/job.hpp"
#include "session/manifest.hpp"

namespace postroll {

/// The stages for a manifest: media.timeline when there is audio, then
/// media.merge. (Compression and enrichment join here in later versions.)
std::vector<stage_record> plan_stages(const manifest& m);

}  // namespace postroll
