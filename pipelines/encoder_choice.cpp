#include "pipelines/encoder_choice.hpp"

#include <algorithm>

#include "pipelines/gst_support.hpp"

namespace postroll {

const std::vector<std::string>& default_encoder_ranking() {
  static const std::vector<std::string> ranking = {"vtenc_h264_hw", "nvh264enc",  "vah264enc",
                                                   "vaapih264enc",  "qsvh264enc", "v4l2h264enc",
                                                   "x264enc",       "openh264enc"};
  return ranking;
}

bool is_software_encoder(const std::string& name) { return name == "x264enc" || name == "openh264enc"; }

bool encoder_usable(const std::string& name, std::string* why) {
  gst::ensure_init();
  auto say = [&](std::string reason) {
    if (why)
      *why = std::move(reason);
    return false;
  };
  gst::ptr<GstElementFactory> factory{gst_element_factory_find(name.c_str())};
  if (!factory)
    return say("no such element (plugin not installed)");
  if (!gst_element_factory_list_is_type(factory.get(), GST_ELEMENT_FACTORY_TYPE_ENCODER | GST_ELEMENT_FACTORY_TYPE_MEDIA_VIDEO))
    return say("not a video encoder");
  GstElement* raw = gst_element_factory_create(factory.get(), nullptr);
  if (!raw)
    return say("the element could not be created");
  gst::element_ptr element{GST_ELEMENT(gst_object_ref_sink(raw))};
  // READY is where hardware encoders open their device.
  auto ret = gst_element_set_state(element.get(), GST_STATE_READY);
  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = gst_element_get_state(element.get(), nullptr, nullptr, 5 * GST_SECOND);
  gst_element_set_state(element.get(), GST_STATE_NULL);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return say("cannot reach READY (no device or driver?)");
  return true;
}

encoder_choice choose_encoder(const std::vector<std::string>& ranked) {
  encoder_choice out;
  for (const auto& name : ranked) {
    std::string why;
    if (encoder_usable(name, &why)) {
      out.name = name;
      return out;
    }
    out.skipped.emplace_back(name, why);
  }
  return out;
}

std::string fallback_encoder(const std::vector<std::string>& ranked, const std::string& failed) {
  auto it = std::find(ranked.begin(), ranked.end(), failed);
  it = it == ranked.end() ? ranked.begin() : std::next(it);
  for (; it != ranked.end(); ++it)
    if (is_software_encoder(*it) && encoder_usable(*it))
      return *it;
  return {};
}

}  // namespace postroll
