// Live work that is finished with but slow to tear down (the transcript's
// decoders free their models in a few hundred ms): it is torn down on a
// thread of its own so the stage reports at once and the merge starts, and
// the runtime joins those threads when it stops, so none outlives it.
#pragma once

#include <functional>

namespace postroll {

/// Runs `teardown` on a thread of its own.
void retire(std::function<void()> teardown);
/// Waits for every teardown retired so far.
void join_retired();

}  // namespace postroll
