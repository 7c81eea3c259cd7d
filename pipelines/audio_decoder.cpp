#include "pipelines/audio_decoder.hpp"
#include "pipelines/gst_support.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>

#include <gst/app/gstappsink.h>

#include "pipelines/mp3_delay.hpp"

namespace postroll {

namespace {

// The decoder chain for a file, from its first bytes. A fixed chain for the
// formats recorders write skips decodebin's type finding and autoplugging,
// which cost more than decoding a 10 s segment (1.8 s vs 1.1 s for 180
// MP3 segments). Anything else goes through decodebin.
std::string decoder_chain(const std::filesystem::path& file) {
  char head[64] = {};
  std::ifstream in{file, std::ios::binary};
  in.read(head, sizeof head);
  auto n = size_t(in.gcount());
  std::string h(head, n);
  if (n >= 12 && h.compare(0, 4, "RIFF") == 0 && h.compare(8, 4, "WAVE") == 0)
    return "wavparse";
  if (n >= 4 && h.compare(0, 4, "fLaC") == 0)
    return "flacparse ! flacdec";
  if (n >= 36 && h.compare(0, 4, "OggS") == 0 && h.find("OpusHead") != std::string::npos)
    return "oggdemux ! opusdec";
  if (n >= 36 && h.compare(0, 4, "OggS") == 0 && h.find("vorbis") != std::string::npos)
    return "oggdemux ! vorbisdec";
  if (mp3_untrimmed_delay(file).rate > 0 || (n >= 3 && h.compare(0, 3, "ID3") == 0))
    return "mpegaudioparse ! mpg123audiodec";
  return "decodebin";
}

}  // namespace

result<pcm_audio> decode_audio(const std::filesystem::path& file, int rate, int channels,
                               const cancel_token& cancel, std::int64_t max_ms) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec))
    return error{errc::bad_input, file.string() + ": file does not exist"};
  auto pipeline = gst::parse(
    "filesrc name=src ! " + decoder_chain(file) +
      " ! audioconvert ! audioresample ! capsfilter name=caps ! appsink name=sink sync=false max-buffers=64",
    file.string());
  if (!pipeline)
    return pipeline.err();
  GstElement* p = pipeline->get();
  g_object_set(gst::by_name(p, "src").get(), "location", file.c_str(), nullptr);
  std::string caps = "audio/x-raw,format=S16LE,layout=interleaved";
  if (rate > 0)
    caps += ",rate=" + std::to_string(rate);
  if (channels > 0)
    caps += ",channels=" + std::to_string(channels);
  gst::caps_ptr c{gst_caps_from_string(caps.c_str())};
  g_object_set(gst::by_name(p, "caps").get(), "caps", c.get(), nullptr);
  auto sink = gst::by_name(p, "sink");
  auto* appsink = GST_APP_SINK(sink.get());

  pcm_audio out;
  maybe_error failure;
  if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    failure = gst::pending_error(p);
  while (!failure) {
    if (cancel.is_cancelled()) {
      failure = error{errc::cancelled, "cancelled"};
      break;
    }
    GstSample* sample = gst_app_sink_try_pull_sample(appsink, 100 * GST_MSECOND);
    if (!sample) {
      if (gst_app_sink_is_eos(appsink))
        break;
      failure = gst::pending_error(p);
      continue;
    }
    if (out.rate == 0) {
      GstStructure* s = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
      gst_structure_get_int(s, "rate", &out.rate);
      gst_structure_get_int(s, "channels", &out.channels);
    }
    if (max_ms > 0 && out.rate > 0 && out.channels > 0 &&
        std::int64_t(out.samples.size() / std::size_t(out.channels)) > max_ms * out.rate / 1000) {
      gst_sample_unref(sample);
      gst_element_set_state(p, GST_STATE_NULL);
      return error{errc::bad_input, file.string() + ": lasts longer than the longest session postroll takes (" +
                                      std::to_string(max_ms / 3600000.0).substr(0, 4) + " h from its offset)"};
    }
    GstBuffer* buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
      auto n = map.size / sizeof(std::int16_t);
      auto old = out.samples.size();
      out.samples.resize(old + n);
      std::memcpy(out.samples.data() + old, map.data, n * sizeof(std::int16_t));
      gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(sample);
  }
  gst_element_set_state(p, GST_STATE_NULL);
  if (failure) {
    if (failure->code == errc::cancelled)
      return *failure;
    return error{errc::bad_input, file.string() + ": cannot be decoded as audio (" +
                                    failure->message + ")"};
  }
  if (out.rate == 0 || out.samples.empty())
    return error{errc::bad_input, file.string() + ": contains no audio"};

  // Remove the MP3 start delay, converted from the file's rate to ours.
  if (auto delay = mp3_untrimmed_delay(file); delay.samples > 0) {
    auto drop = std::min<std::int64_t>(delay.at_rate(out.rate), out.frames());
    out.samples.erase(out.samples.begin(), out.samples.begin() + drop * out.channels);
  }
  return out;
}

}  // namespace postroll
