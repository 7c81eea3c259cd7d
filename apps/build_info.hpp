// What this postroll binary is: its version and commit, the libraries it
// runs with, and the encoders this machine offers it.
#pragma once

#include <string>
#include <vector>

namespace postroll::cli {

struct build_info {
  std::string version;  ///< "0.1.0"
  std::string commit;   ///< "3ae7b49c1f2e", "+changes" when built from an edited tree, "unknown" outside git
  /// "CAF 0.17.6", "GStreamer 1.22.0", ...: name and version, in that order.
  std::vector<std::pair<std::string, std::string>> libraries;
};

build_info this_build();

/// The H.264 encoders of the ranking (`ranked`, empty: the default one) that
/// exist on this machine, and the one media.compress would use ("" = none).
struct encoders_found {
  std::vector<std::string> h264;
  std::string chosen;
  std::vector<std::string> aac;  ///< AAC encoders present (voaacenc is the one used)
};
encoders_found find_encoders(const std::vector<std::string>& ranked = {});

}  // namespace postroll::cli
