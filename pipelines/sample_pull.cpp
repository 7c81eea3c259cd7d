#include "pipelines/sample_pull.hpp"
#include "pipelines/gst_support.hpp"

namespace postroll::gst {

maybe_error pull_samples(GstElement* pipeline, const cancel_token& cancel,
                         const std::function<bool(GstSample*)>& on_sample, const std::string& what) {
  auto sink_element = by_name(pipeline, "sink");
  if (!sink_element)
    return error{errc::internal, what + ": pipeline has no appsink named \"sink\""};
  auto* sink = GST_APP_SINK(sink_element.get());
  auto stop = [&](maybe_error out) {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    return out;
  };
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    auto err = pending_error(pipeline);
    return stop(error{errc::media, what + ": " + (err ? err->message : "refused to start")});
  }
  for (;;) {
    if (cancel.is_cancelled())
      return stop(error{errc::cancelled, "cancelled"});
    if (auto err = pending_error(pipeline))
      return stop(error{errc::media, what + ": " + err->message});
    sample_ptr sample{gst_app_sink_try_pull_sample(sink, 100 * GST_MSECOND)};
    if (!sample) {
      if (gst_app_sink_is_eos(sink))
        return stop(std::nullopt);
      continue;
    }
    if (!on_sample(sample.get()))
      return stop(std::nullopt);
  }
}

}  // namespace postroll::gst
