// Quality presets (low / medium / high) mapped to each encoder's own
// properties. The table is docs/compression.md; hardware rows are applied
// by property name and skipped with a log line where a driver's element
// lacks one, since they cannot be run on the machines we test on.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <gst/gst.h>

namespace postroll {

enum class quality_preset { low, medium, high };

/// "low", "medium", "high" -> preset. @returns false if unknown.
bool parse(const std::string& text, quality_preset& out);
const char* to_string(quality_preset p);

/// The property settings for `encoder` at `preset`, as (name, value text).
/// `keyframe_frames` is the keyframe interval in frames.
std::vector<std::pair<std::string, std::string>> encoder_settings(const std::string& encoder,
                                                                  quality_preset preset, int keyframe_frames);

/// Applies encoder_settings() to an encoder element. Properties the element
/// does not have are skipped (logged), never an error.
void apply_encoder_settings(GstElement* encoder, const std::string& name, quality_preset preset,
                            int keyframe_frames);

}  // namespace postroll
