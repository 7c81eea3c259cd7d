// Pulling decoded buffers out of a pipeline into C++: the loop every
// "decode and look at the data" pipeline shares (enrichment reads audio
// samples and video frames this way).
#pragma once

#include <functional>
#include <string>

#include <gst/app/gstappsink.h>

#include "pipelines/gst_support.hpp"

namespace postroll::gst {

/// Plays `pipeline` and hands every sample of its appsink named "sink" to
/// `on_sample` until EOS, `on_sample` returns false (stop early, not an
/// error), an error, or cancellation (checked at least every 100 ms).
/// Leaves the pipeline in NULL state.
/// @returns `errc::media` naming `what` on a pipeline error, `errc::cancelled`.
maybe_error pull_samples(GstElement* pipeline, const cancel_token& cancel,
                         const std::function<bool(GstSample*)>& on_sample, const std::string& what);

}  // namespace postroll::gst
