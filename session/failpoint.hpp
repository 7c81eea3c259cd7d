// A test hook for crash-safety tests: POSTROLL_FAILPOINT=<point>[:<n>]
// makes the process SIGKILL itself the n-th time (1 if left out) it passes
// <point>, so a test can kill a real process between any two steps of a
// journaled operation. Costs one string compare when unset.
#pragma once

namespace postroll {

void failpoint(const char* point);

}  // namespace postroll
