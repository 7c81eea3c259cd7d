#include "pipelines/media_requirements.hpp"

#include "pipelines/gst_support.hpp"

namespace postroll {

const std::vector<element_need>& needed_elements() {
  static const char* const core = "libgstreamer1.0-0";
  static const char* const base = "gstreamer1.0-plugins-base";
  static const char* const good = "gstreamer1.0-plugins-good";
  static const char* const bad = "gstreamer1.0-plugins-bad";
  static const char* const ugly = "gstreamer1.0-plugins-ugly";
  static const char* const libav = "gstreamer1.0-libav";
  static const char* const x = "gstreamer1.0-x";
  static const std::vector<element_need> all = {
    {"filesrc", "reading files", core},
    {"filesink", "writing files", core},
    {"queue", "pipelines", core},
    {"capsfilter", "pipelines", core},
    {"fakesink", "probing files", core},
    {"typefind", "telling formats apart", core},
    {"appsrc", "feeding pipelines", base},
    {"appsink", "reading decoded media", base},
    {"decodebin", "decoding any input", base},
    {"parsebin", "probing inputs", base},
    {"audioconvert", "audio timeline", base},
    {"audioresample", "audio timeline", base},
    {"videoconvert", "video and pictures", base},
    {"videoscale", "video and pictures", base},
    {"videotestsrc", "storyboard background", base},
    {"compositor", "storyboard", base},
    {"oggdemux", "Ogg audio segments", base},
    {"opusdec", "Opus audio segments", base},
    {"vorbisdec", "Vorbis audio segments", base},
    {"qtdemux", "MP4/MOV input", good},
    {"matroskademux", "WebM/MKV input", good},
    {"mp4mux", "the playable MP4", good},
    {"aacparse", "AAC timeline", good},
    {"wavparse", "WAV audio segments", good},
    {"flacparse", "FLAC audio segments", good},
    {"flacdec", "FLAC audio segments", good},
    {"mpegaudioparse", "MP3 audio segments", good},
    {"mpg123audiodec", "MP3 audio segments", good},
    {"vp8dec", "VP8 (browser) video", good},
    {"vp9dec", "VP9 (browser) video", good},
    {"pngdec", "PNG screenshots", good},
    {"pngenc", "chapter thumbnails", good},
    {"jpegenc", "storyboard picture", good},
    {"imagefreeze", "storyboard", good},
    {"h264parse", "H.264 video", bad},
    {"h265parse", "HEVC video", bad},
    {"voaacenc", "encoding the audio timeline (AAC)", bad},
    {"x264enc", "compressing video (media.compress)", ugly},
    {"avdec_h264", "decoding H.264 video", libav},
    {"avdec_h265", "decoding HEVC video", libav},
    {"avdec_aac", "decoding AAC audio", libav},
    {"textoverlay", "storyboard captions", x},
  };
  return all;
}

bool element_present(const std::string& name) {
  gst::ensure_init();
  gst::ptr<GstElementFactory> factory{gst_element_factory_find(name.c_str())};
  return bool(factory);
}

std::string gstreamer_version() {
  gst::ensure_init();
  guint major = 0, minor = 0, micro = 0, nano = 0;
  gst_version(&major, &minor, &micro, &nano);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro);
}

}  // namespace postroll
