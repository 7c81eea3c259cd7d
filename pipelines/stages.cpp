#include "pipelines/stages.hpp"

#include <nlohmann/json.hpp>

#include "pipelines/audio_timeline.hpp"
#include "pipelines/media_probe.hpp"
#include "pipelines/merge.hpp"
#include "pipelines/output_file.hpp"
#include "session/manifest.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace postroll {

namespace {

constexpr const char* timeline_file = "timeline.aac";  // ADTS

maybe_error prepare(const fs::path& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec)
    return error{errc::io, out_dir.string() + ": cannot create output folder: " + ec.message()};
  return std::nullopt;
}

// Runs `produce` into `<final>.partial` and commits it; removes the partial
// on any failure so nothing half-written is ever left behind.
template <class Produce>
auto write_atomically(const fs::path& final_path, Produce&& produce)
  -> decltype(produce(fs::path{})) {
  discard_partial(final_path);
  auto out = produce(partial_path(final_path));
  if (!out) {
    discard_partial(final_path);
    return out;
  }
  if (auto err = commit_partial(final_path)) {
    discard_partial(final_path);
    return *err;
  }
  return out;
}

result<std::string> timeline_stage(const manifest& m, const fs::path& out_dir,
                                   const media_options& options,
                                   const gst::cancel_token& cancel,
                                   const gst::progress_fn& progress) {
  timeline_options topt;
  topt.undecodable_as_silence = options.undecodable_as_silence;
  topt.decode_threads = options.decode_threads;
  if (m.has_video()) {
    // Audio lasts at least as long as the video: players then show the whole
    // recording with silence, never a shorter file.
    auto info = probe_media(m.video.front().resolved);
    if (!info)
      return info.err();
    topt.min_duration_ms = info->duration_ms + m.video.front().offset_ms;
  }
  std::vector<timeline_segment> segments;
  for (const auto& a : m.audio)
    segments.push_back({a.resolved, a.offset_ms});
  auto final_path = out_dir / timeline_file;
  auto built = write_atomically(final_path, [&](const fs::path& partial) {
    return build_audio_timeline(segments, partial, topt, cancel, progress);
  });
  if (!built)
    return built.err();
  json out = {{"file", final_path.string()},
              {"rate", built->rate},
              {"channels", built->channels},
              {"bitrate", built->bitrate},
              {"durationMs", built->duration_ms},
              {"primingSamplesCompensated", built->priming_compensated},
              {"segments", segments.size()},
              {"warnings", built->warnings}};
  return out.dump();
}

result<std::string> merge_stage(const manifest& m, const fs::path& out_dir,
                                const gst::cancel_token& cancel,
                                const gst::progress_fn& progress) {
  merge_inputs in;
  if (m.has_video()) {
    in.video = m.video.front().resolved;
    in.video_offset_ms = m.video.front().offset_ms;
  }
  if (m.has_audio()) {
    in.audio = out_dir / timeline_file;
    std::error_code ec;
    if (!fs::exists(*in.audio, ec))
      return error{errc::io, in.audio->string() + ": audio timeline missing (media.timeline must run first)"};
  }
  auto final_path = out_dir / (m.has_video() ? "session.mp4" : "session.m4a");
  auto merged = write_atomically(final_path, [&](const fs::path& partial) {
    return merge_media(in, partial, cancel, progress);
  });
  if (!merged)
    return merged.err();
  json out = {{"file", final_path.string()},
              {"durationMs", merged->duration_ms},
              {"videoRemuxed", merged->video_remuxed},
              {"videoCodec", merged->video_codec},
              {"hasAudio", m.has_audio()},
              {"hasVideo", m.has_video()}};
  return out.dump();
}

}  // namespace

fs::path output_dir(const fs::path& session_dir, const media_options& options) {
  return session_dir / options.output_dir;
}

result<std::string> run_media_stage(const std::string& stage, const fs::path& session_dir,
                                    const media_options& options,
                                    const gst::cancel_token& cancel,
                                    const gst::progress_fn& progress) {
  // Each stage reads the manifest itself: a stage may run on another node
  // that only shares the session folder.
  auto m = load_manifest(session_dir, {options.undecodable_as_silence});
  if (!m)
    return m.err();
  auto out_dir = output_dir(m->dir, options);
  if (auto err = prepare(out_dir))
    return *err;
  if (stage == stage_timeline)
    return timeline_stage(*m, out_dir, options, cancel, progress);
  if (stage == stage_merge)
    return merge_stage(*m, out_dir, cancel, progress);
  return error{errc::internal, "unknown media stage \"" + stage + "\""};
}

}  // namespace postroll
