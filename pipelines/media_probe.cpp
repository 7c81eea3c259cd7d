#include "pipelines/media_probe.hpp"

#include <gst/pbutils/pbutils.h>

#include "pipelines/gst_support.hpp"

namespace postroll {

namespace {
std::string caps_name(GstCaps* caps) {
  if (!caps || gst_caps_is_empty(caps))
    return {};
  return gst_structure_get_name(gst_caps_get_structure(caps, 0));
}
}  // namespace

result<media_info> probe_media(const std::filesystem::path& file) {
  gst::ensure_init();
  GError* err = nullptr;
  gst::ptr<GstDiscoverer> disc{gst_discoverer_new(20 * GST_SECOND, &err)};
  if (!disc) {
    std::string msg = err ? err->message : "cannot create discoverer";
    g_clear_error(&err);
    return error{errc::media, msg};
  }
  gchar* uri = gst_filename_to_uri(file.c_str(), nullptr);
  GstDiscovererInfo* info = gst_discoverer_discover_uri(disc.get(), uri, &err);
  g_free(uri);
  gst::ptr<GstDiscovererInfo> info_owner{info};
  auto res = info ? gst_discoverer_info_get_result(info) : GST_DISCOVERER_ERROR;
  if (res != GST_DISCOVERER_OK) {
    std::string why = err ? err->message : "unreadable media";
    if (res == GST_DISCOVERER_MISSING_PLUGINS)
      why = "no GStreamer decoder for this format";
    else if (res == GST_DISCOVERER_TIMEOUT)
      why = "probing timed out";
    g_clear_error(&err);
    return error{errc::bad_input, file.string() + ": cannot be read as media (" + why + ")"};
  }
  g_clear_error(&err);
  media_info out;
  out.duration_ms = std::int64_t(gst_discoverer_info_get_duration(info) / GST_MSECOND);
  if (GstDiscovererStreamInfo* top = gst_discoverer_info_get_stream_info(info)) {
    if (GST_IS_DISCOVERER_CONTAINER_INFO(top)) {
      gst::caps_ptr caps{gst_discoverer_stream_info_get_caps(top)};
      out.container = caps_name(caps.get());
    }
    gst_discoverer_stream_info_unref(top);
  }
  GList* videos = gst_discoverer_info_get_video_streams(info);
  if (videos) {
    auto* v = GST_DISCOVERER_VIDEO_INFO(videos->data);
    out.has_video = true;
    out.width = int(gst_discoverer_video_info_get_width(v));
    out.height = int(gst_discoverer_video_info_get_height(v));
    auto num = gst_discoverer_video_info_get_framerate_num(v);
    auto den = gst_discoverer_video_info_get_framerate_denom(v);
    out.frame_rate = den > 0 ? double(num) / den : 0;
    gst::caps_ptr caps{gst_discoverer_stream_info_get_caps(GST_DISCOVERER_STREAM_INFO(v))};
    out.video_codec = caps_name(caps.get());
    if (caps && !gst_caps_is_empty(caps.get())) {
      auto* st = gst_caps_get_structure(caps.get(), 0);
      if (const char* profile = gst_structure_get_string(st, "profile"))
        out.video_profile = profile;
      // The signature: the caps without what may differ between two files
      // that still join (rates, levels).
      GstStructure* sig = gst_structure_copy(st);
      for (const char* field : {"framerate", "level", "tier", "pixel-aspect-ratio", "interlace-mode", "chroma-site",
                                "colorimetry", "multiview-mode", "multiview-flags"})
        gst_structure_remove_field(sig, field);
      gchar* text = gst_structure_to_string(sig);
      out.video_signature = text;
      g_free(text);
      gst_structure_free(sig);
    }
  }
  gst_discoverer_stream_info_list_free(videos);
  GList* audios = gst_discoverer_info_get_audio_streams(info);
  if (audios) {
    out.has_audio = true;
    out.sample_rate = int(gst_discoverer_audio_info_get_sample_rate(GST_DISCOVERER_AUDIO_INFO(audios->data)));
    out.channels = int(gst_discoverer_audio_info_get_channels(GST_DISCOVERER_AUDIO_INFO(audios->data)));
    gst::caps_ptr caps{gst_discoverer_stream_info_get_caps(GST_DISCOVERER_STREAM_INFO(audios->data))};
    out.audio_codec = caps_name(caps.get());
  }
  gst_discoverer_stream_info_list_free(audios);
  if (const GstTagList* tags = gst_discoverer_info_get_tags(info)) {
    // Every value: a stream's own encoder tag may come first.
    for (guint i = 0; i < gst_tag_list_get_tag_size(tags, GST_TAG_ENCODER); ++i) {
      const gchar* encoder = nullptr;
      if (gst_tag_list_peek_string_index(tags, GST_TAG_ENCODER, i, &encoder) && encoder)
        out.tags.push_back(std::string{"encoder="} + encoder);
    }
  }
  return out;
}

}  // namespace postroll
