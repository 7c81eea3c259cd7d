#include "pipelines/audio_samples.hpp"
#include "pipelines/gst_support.hpp"

#include "pipelines/sample_pull.hpp"

namespace postroll {

maybe_error read_audio_samples(const std::filesystem::path& file, std::int64_t duration_ms,
                               const cancel_token& cancel, const progress_fn& progress,
                               const std::function<void(const std::int16_t*, std::size_t, std::int64_t)>& on_chunk) {
  gst::ensure_init();
  auto pipeline = gst::parse("filesrc name=src"
                               " ! decodebin ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,channels=1,rate=" +
                               std::to_string(analysis_rate) + " ! appsink name=sink sync=false max-buffers=8",
                             file.string() + " (audio)", {{"src", "location", file.string()}});
  if (!pipeline)
    return pipeline.err();
  std::int64_t next_index = 0;
  auto err = gst::pull_samples(
    pipeline->get(), cancel,
    [&](GstSample* sample) {
      auto* buffer = gst_sample_get_buffer(sample);
      GstMapInfo map;
      if (!buffer || !gst_buffer_map(buffer, &map, GST_MAP_READ))
        return true;
      // Samples are placed by timestamp, so a decoder gap does not shift
      // everything after it.
      std::int64_t first = next_index;
      if (GST_BUFFER_PTS_IS_VALID(buffer))
        first = std::int64_t(gst_util_uint64_scale(GST_BUFFER_PTS(buffer), analysis_rate, GST_SECOND));
      auto count = map.size / sizeof(std::int16_t);
      on_chunk(reinterpret_cast<const std::int16_t*>(map.data), count, first);
      next_index = first + std::int64_t(count);
      gst_buffer_unmap(buffer, &map);
      if (progress && duration_ms > 0)
        progress(std::min(1.0, double(next_index) * 1000.0 / analysis_rate / double(duration_ms)));
      return true;
    },
    file.string() + ": cannot decode audio");
  return err;
}

}  // namespace postroll
