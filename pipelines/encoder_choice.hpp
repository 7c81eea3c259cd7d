// Picking the H.264 encoder for the compression stage: the first name of a
// ranked list whose element exists and reaches READY (hardware encoders
// often exist as plugins but fail there: no device, no driver).
#pragma once

#include <string>
#include <vector>

namespace postroll {

/// The default ranking: hardware first (macOS, NVIDIA, VA, old VA-API, Intel
/// QSV, V4L2 SoCs), then software.
const std::vector<std::string>& default_encoder_ranking();

/// Encoders that run on the CPU, so always work if they exist.
bool is_software_encoder(const std::string& name);

struct encoder_choice {
  std::string name;  ///< empty if none is usable
  /// Every name tried before `name`, with why it was skipped.
  std::vector<std::pair<std::string, std::string>> skipped;
};

/// Tries `ranked` in order. Elements are created by factory name (so rank
/// NONE elements such as vah264enc count); autoplugging is never used.
encoder_choice choose_encoder(const std::vector<std::string>& ranked);

/// The encoder to retry with when `failed` broke during a job: the next
/// software encoder after it in `ranked` that is usable (empty if none).
std::string fallback_encoder(const std::vector<std::string>& ranked, const std::string& failed);

/// Whether `name` can be created and brought to READY; `why` says why not.
bool encoder_usable(const std::string& name, std::string* why = nullptr);

}  // namespace postroll
