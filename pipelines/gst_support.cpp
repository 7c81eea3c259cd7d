#include "pipelines/gst_support.hpp"

#include <mutex>

namespace postroll::gst {

void ensure_init() {
  static std::once_flag once;
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

result<element_ptr> parse(const std::string& description, const std::string& what,
                          const std::vector<property>& properties) {
  ensure_init();
  GError* err = nullptr;
  element_ptr p{gst_parse_launch(description.c_str(), &err)};
  if (err) {
    std::string msg = what + ": cannot build pipeline: " + err->message;
    g_error_free(err);
    return error{errc::media, msg};
  }
  for (const auto& prop : properties) {
    auto e = by_name(p.get(), prop.element.c_str());
    if (!e)
      return error{errc::internal, what + ": the pipeline has no element " + prop.element};
    g_object_set(e.get(), prop.name.c_str(), prop.value.c_str(), nullptr);
  }
  return p;
}

element_ptr by_name(GstElement* bin, const char* name) {
  return element_ptr{gst_bin_get_by_name(GST_BIN(bin), name)};
}

std::string describe(GstMessage* msg) {
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(msg, &err, &debug);
  std::string out = GST_OBJECT_NAME(GST_MESSAGE_SRC(msg));
  out += ": ";
  out += err ? err->message : "unknown error";
  if (err)
    g_error_free(err);
  g_free(debug);
  return out;
}

maybe_error pending_error(GstElement* pipeline, GstClockTime wait) {
  ptr<GstBus> bus{gst_element_get_bus(pipeline)};
  if (GstMessage* m = gst_bus_timed_pop_filtered(bus.get(), wait, GST_MESSAGE_ERROR)) {
    auto text = describe(m);
    gst_message_unref(m);
    return error{errc::media, text};
  }
  return std::nullopt;
}

maybe_error run(GstElement* pipeline, const cancel_token& cancel,
                const std::function<void()>& tick) {
  ptr<GstBus> bus{gst_element_get_bus(pipeline)};
  maybe_error outcome;
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    outcome = pending_error(pipeline);
    if (!outcome)
      outcome = error{errc::media, "pipeline refused to start"};
  }
  while (!outcome) {
    if (cancel.is_cancelled()) {
      outcome = error{errc::cancelled, "cancelled"};
      break;
    }
    GstMessage* msg = gst_bus_timed_pop_filtered(
      bus.get(), 100 * GST_MSECOND,
      static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
    if (msg) {
      if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR)
        outcome = error{errc::media, describe(msg)};
      gst_message_unref(msg);
      if (!outcome)
        break;  // EOS
    }
    if (tick)
      tick();
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return outcome;
}

}  // namespace postroll::gst
