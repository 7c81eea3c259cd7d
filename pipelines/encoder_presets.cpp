#include "pipelines/encoder_presets.hpp"
#include "pipelines/gst_support.hpp"

#include <spdlog/spdlog.h>

namespace postroll {

bool parse(const std::string& text, quality_preset& out) {
  if (text == "low")
    out = quality_preset::low;
  else if (text == "medium")
    out = quality_preset::medium;
  else if (text == "high")
    out = quality_preset::high;
  else
    return false;
  return true;
}

const char* to_string(quality_preset p) {
  switch (p) {
    case quality_preset::low: return "low";
    case quality_preset::medium: return "medium";
    case quality_preset::high: return "high";
  }
  return "medium";
}

std::vector<std::pair<std::string, std::string>> encoder_settings(const std::string& encoder, quality_preset preset,
                                                                  int keyframe_frames) {
  auto pick = [&](const char* low, const char* medium, const char* high) -> std::string {
    return preset == quality_preset::low ? low : preset == quality_preset::high ? high : medium;
  };
  auto gop = std::to_string(keyframe_frames);
  if (encoder == "x264enc")
    // Constant quality (CRF); screen text wants no psychovisual blur. The
    // speed presets stay fast: with duplicate frames dropped, the encoder
    // sees a fraction of the frames and quality per bit matters more.
    // tune=stillimage (stronger adaptive quantisation, lighter deblocking)
    // took medium from 0.412 to 0.392 of the source at higher SSIM on the
    // 5-minute bench video; a shorter lookahead than the speed preset's
    // cut peak memory by ~50 MB (each lookahead frame is a 1080p picture
    // plus its half-pel planes) and, on screen content, size too. No
    // B-frames, for any encoder: with variable frame rate their reordering
    // made mp4mux end the track at the last decode time (a 60 s file came
    // out 50.7 s long); without them decode time = presentation time.
    return {{"pass", "qual"},
            {"quantizer", pick("26", "21", "18")},
            {"speed-preset", pick("veryfast", "faster", "fast")},
            {"psy-tune", "none"},
            {"tune", "stillimage"},
            {"rc-lookahead", pick("10", "15", "20")},
            {"bframes", "0"},
            {"key-int-max", gop}};
  if (encoder == "openh264enc")
    return {{"usage-type", "screen"},
            {"rate-control", "quality"},
            {"qp-max", pick("36", "30", "26")},
            {"complexity", pick("low", "medium", "high")},
            {"gop-size", gop}};
  if (encoder == "vtenc_h264_hw")
    return {{"quality", pick("0.4", "0.6", "0.8")}, {"max-keyframe-interval", gop}};
  if (encoder == "nvh264enc")
    return {{"rc-mode", "constqp"}, {"qp-const", pick("30", "25", "21")}, {"bframes", "0"}, {"gop-size", gop}};
  if (encoder == "vah264enc")
    return {{"rate-control", "cqp"}, {"qpi", pick("30", "25", "21")}, {"qpp", pick("32", "27", "23")},
            {"b-frames", "0"}, {"key-int-max", gop}};
  if (encoder == "vaapih264enc")
    return {{"rate-control", "cqp"}, {"init-qp", pick("30", "25", "21")}, {"max-bframes", "0"},
            {"keyframe-period", gop}};
  if (encoder == "qsvh264enc")
    return {{"rate-control", "cqp"}, {"qp-i", pick("30", "25", "21")}, {"qp-p", pick("32", "27", "23")},
            {"b-frames", "0"}, {"gop-size", gop}};
  if (encoder == "v4l2h264enc")
    // V4L2 encoders take controls, not properties; bitrate for 1080p screens.
    return {{"extra-controls", std::string{"controls,video_bitrate="} + pick("800000", "1500000", "3000000") +
                                 ",h264_i_frame_period=" + gop}};
  return {};
}

void apply_encoder_settings(GstElement* encoder, const std::string& name, quality_preset preset,
                            int keyframe_frames) {
  for (const auto& [key, value] : encoder_settings(name, preset, keyframe_frames)) {
    if (!g_object_class_find_property(G_OBJECT_GET_CLASS(encoder), key.c_str())) {
      spdlog::warn("compress: {} has no property '{}'; left at its default", name, key);
      continue;
    }
    gst_util_set_object_arg(G_OBJECT(encoder), key.c_str(), value.c_str());
  }
}

}  // namespace postroll
