// Starting GStreamer, for code that runs pipelines only through the stage
// functions (the actors): no GStreamer header comes with it.
#pragma once

namespace postroll::gst {

/// Initialises GStreamer once per process (thread-safe).
void ensure_init();

}  // namespace postroll::gst
