#include "pipelines/merge.hpp"
#include "pipelines/gst_support.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "pipelines/media_probe.hpp"

namespace postroll {

namespace {

// H.264/HEVC profiles a browser or player decodes as they are (8-bit
// 4:2:0). x11grab without -pix_fmt writes High 4:4:4 Predictive, which
// Chromium does not play: that is encoded.
bool plays_as_is(const media_info& v) {
  static const char* h264[] = {"constrained-baseline", "baseline", "main", "extended", "high", "progressive-high",
                               "constrained-high", ""};
  static const char* h265[] = {"main", "main-still-picture", ""};
  if (v.video_codec == "video/x-h264")
    return std::find_if(std::begin(h264), std::end(h264), [&](const char* p) { return v.video_profile == p; }) !=
           std::end(h264);
  if (v.video_codec == "video/x-h265")
    return std::find_if(std::begin(h265), std::end(h265), [&](const char* p) { return v.video_profile == p; }) !=
           std::end(h265);
  return false;
}

int even_up(int v) { return v + (v & 1); }

// "video/x-vp9" -> "VP9", for people.
std::string codec_name(const std::string& caps) {
  static const std::pair<const char*, const char*> names[] = {
    {"video/x-h264", "H.264"}, {"video/x-h265", "HEVC"}, {"video/x-vp8", "VP8"}, {"video/x-vp9", "VP9"},
    {"video/x-av1", "AV1"}, {"video/x-theora", "Theora"}, {"image/jpeg", "Motion JPEG"}, {"video/mpeg", "MPEG video"}};
  for (const auto& [k, v] : names)
    if (caps == k)
      return v;
  return caps;
}

}  // namespace

std::string preset_tag(const std::string& encoder, quality_preset preset) {
  return "postroll " + encoder + " " + to_string(preset);
}

result<merge_result> merge_media(const merge_inputs& in, const std::filesystem::path& out_file,
                                 const cancel_token& cancel, const progress_fn& progress) {
  gst::ensure_init();
  merge_result res;
  std::int64_t audio_ms = 0;
  double packets_per_second = 0;
  if (in.audio) {
    auto info = probe_media(*in.audio);
    if (!info)
      return info.err();
    audio_ms = info->duration_ms;
    packets_per_second = info->sample_rate > 0 ? info->sample_rate / 1024.0 : 47.0;
  }
  res.duration_ms = audio_ms;
  if (in.videos.empty()) {
    // Audio only: the timeline into an M4A, as it is.
    if (!in.audio)
      return error{errc::internal, "merge without inputs"};
    auto desc = std::string{"filesrc name=asrc ! aacparse ! mp4mux name=mux faststart=true ! filesink name=sink"};
    auto p = gst::parse(desc, out_file.string(), {{"asrc", "location", in.audio->string()},
                                                  {"sink", "location", out_file.string()},
                                                  {"mux", "faststart-file", out_file.string() + ".faststart"}});
    if (!p)
      return p.err();
    if (auto err = gst::run(p->get(), cancel))
      return *err;
    std::error_code ec;
    std::filesystem::remove(out_file.string() + ".faststart", ec);
    if (progress)
      progress(1.0);
    return res;
  }

  // What each file is, and whether they join as they are.
  std::vector<video_piece> pieces = in.videos;
  std::stable_sort(pieces.begin(), pieces.end(), [](const auto& a, const auto& b) { return a.offset_ms < b.offset_ms; });
  std::vector<media_info> infos;
  std::string reason = in.force_encode ? "media.playable = \"compressed\"" : "";
  int width = 0, height = 0;
  std::int64_t video_end = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    auto info = probe_media(pieces[i].path);
    if (!info)
      return error{info.err().code, pieces[i].name.string() + ": " +
                                        info.err().message.substr(info.err().message.find(": ") + 2)};
    if (!info->has_video)
      return error{errc::bad_input, pieces[i].name.string() + ": has no video stream"};
    pieces[i].container = info->container;
    pieces[i].codec = info->video_codec;
    width = std::max(width, info->width);
    height = std::max(height, info->height);
    packets_per_second = std::max(packets_per_second, info->frame_rate > 0 ? info->frame_rate : 60.0);
    if (reason.empty() && !plays_as_is(*info))
      reason = info->video_codec == "video/x-h264" || info->video_codec == "video/x-h265"
                   ? pieces[i].name.filename().string() + " is " + codec_name(info->video_codec) + " " +
                         info->video_profile + ", which players do not all decode"
                   : pieces[i].name.filename().string() + " is " + codec_name(info->video_codec);
    if (reason.empty() && (info->width > in.max_width || info->height > in.max_height))
      reason = pieces[i].name.filename().string() + " is larger than " + std::to_string(in.max_width) + "x" +
               std::to_string(in.max_height);
    if (reason.empty() && i > 0 && info->video_signature != infos.front().video_signature)
      reason = pieces[i].name.filename().string() + " has other codec parameters than " +
               pieces.front().name.filename().string();
    if (reason.empty() && i > 0 && pieces[i].offset_ms < pieces[i - 1].offset_ms + infos.back().duration_ms)
      reason = pieces[i].name.filename().string() + " starts before " + pieces[i - 1].name.filename().string() + " ends";
    if (reason.empty() && in.encode.gaps == gap_fill::black && i > 0)
      reason = "gaps between the video files are black (media.video_gaps)";
    video_end = std::max(video_end, pieces[i].offset_ms + info->duration_ms);
    infos.push_back(*info);
  }
  res.video_codec = infos.front().video_codec;
  res.videos = pieces.size();
  res.duration_ms = std::max(audio_ms, video_end);

  video_write_options o = in.encode;
  o.end_ms = res.duration_ms;
  o.packets_per_second = packets_per_second;
  o.index_bytes_per_second = in.index_bytes_per_second;
  std::optional<audio_track> audio;
  if (in.audio)
    audio = audio_track{in.audio->string(), true};
  auto attempt = [&](bool encode, bool faststart) {
    o.encode = encode;
    o.faststart = faststart;
    if (encode) {
      // The largest picture of the files, within the limit (aspect kept),
      // each side made even by a pixel of padding (H.264 4:2:0 needs it).
      double scale = std::min({1.0, double(in.max_width) / std::max(1, width), double(in.max_height) / std::max(1, height)});
      o.width = even_up(int(width * scale));
      o.height = even_up(int(height * scale));
      o.frame_rate = infos.front().frame_rate > 0 ? infos.front().frame_rate : 30.0;
      o.encoder_tag = preset_tag(o.encoder, o.preset);
    } else {
      o.encoder_tag.clear();
    }
    video_write_stats failed;
    auto r = write_session_video(pieces, audio, out_file, o, cancel, progress, &failed);
    return std::make_pair(std::move(r), failed);
  };
  bool encode = !reason.empty();
  auto [written, failed] = attempt(encode, false);
  if (!written && !encode && failed.remux_impossible && !cancel.is_cancelled()) {
    reason = written.err().message;
    encode = true;
    spdlog::info("merge: {}; encoding instead", reason);
    std::tie(written, failed) = attempt(true, false);
  }
  // The reserved room is estimated from the nominal frame rate; a stream
  // with far more packets (variable frame rate bursts) does not fit and
  // mp4mux fails at the very end. Then pay for the two-pass layout.
  if (!written && written.err().message.find("reserved header space") != std::string::npos && !cancel.is_cancelled()) {
    spdlog::warn("merge: {} ({}); writing it again with faststart", written.err().message, out_file.string());
    std::tie(written, failed) = attempt(encode, true);
  }
  if (!written)
    return written.err();
  res.video_remuxed = !encode;
  res.encode_reason = reason;
  res.encoded_at_preset = encode;
  res.width = encode ? o.width : width;
  res.height = encode ? o.height : height;
  res.video_first_ms = written->first_ms;
  res.video_end_ms = written->end_ms;
  if (progress)
    progress(1.0);
  return res;
}

}  // namespace postroll
