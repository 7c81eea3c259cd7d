// What postroll's pipelines need from GStreamer on this machine: every
// element they create by name, and the decoders decodebin must find for the
// formats recorders write, each with the Debian package that ships it. The
// one list `postroll doctor` checks and the .deb's Depends are made from
// (docs/packaging.md); a pipeline that starts using a new element adds it here.
#pragma once

#include <string>
#include <vector>

namespace postroll {

struct element_need {
  const char* element;  ///< factory name, e.g. "x264enc"
  const char* purpose;  ///< what postroll uses it for, in a user's words
  const char* package;  ///< the Debian 12 package that ships it
};

/// Every element postroll needs (software only: hardware encoders are
/// optional, see encoder_choice.hpp).
const std::vector<element_need>& needed_elements();

/// Whether GStreamer has an element of that name (initialises GStreamer).
bool element_present(const std::string& name);

/// "1.22.0": the GStreamer library this process runs with.
std::string gstreamer_version();

}  // namespace postroll
