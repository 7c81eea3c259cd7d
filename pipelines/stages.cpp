#include "pipelines/stages.hpp"
#include "pipelines/repair.hpp"
#include "pipelines/retention.hpp"

#include <chrono>
#include <tuple>

#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include "pipelines/audio_timeline.hpp"
#include "pipelines/compress.hpp"
#include "pipelines/encoder_choice.hpp"
#include "pipelines/media_probe.hpp"
#include "pipelines/merge.hpp"
#include "pipelines/output_file.hpp"
#include "session/manifest.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace postroll {

namespace {

constexpr const char* timeline_file = "timeline.aac";  // ADTS

result<std::string> timeline_stage(const manifest& m, const fs::path& out_dir,
                                   const media_options& options,
                                   const gst::cancel_token& cancel,
                                   const gst::progress_fn& progress) {
  timeline_options topt;
  topt.undecodable_as_silence = options.undecodable_as_silence;
  topt.decode_threads = options.decode_threads;
  topt.max_duration_ms = options.max_session_ms;
  if (m.has_video()) {
    // Audio lasts at least as long as the video: players then show the whole
    // recording with silence, never a shorter file.
    auto info = with_file(m.video.front(), [](const std::string& path) { return probe_media(path); });
    if (!info)
      return info.err();
    topt.min_duration_ms = info->duration_ms + m.video.front().offset_ms;
    if (topt.min_duration_ms > options.max_session_ms)
      return error{errc::bad_input, m.video.front().resolved.string() +
                                      ": ends beyond the longest session postroll takes (media.max_session_hours)"};
  }
  std::vector<timeline_segment> segments;
  std::vector<std::string> skipped;
  for (const auto& a : m.audio) {
    if (a.missing && fs::exists(a.resolved)) {
      // An empty leftover media.repair turned into silence.
      skipped.push_back(a.resolved.string() + ": nothing recoverable in it; silence in its place");
      continue;
    }
    segments.push_back({a.resolved, a.offset_ms, &a});
  }
  if (segments.empty())
    return error{errc::bad_input, m.audio.front().resolved.string() + ": no audio segment has any audio in it"};
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
  for (const auto& w : skipped)
    out["warnings"].push_back(w);
  return out.dump();
}

result<std::string> merge_stage(const manifest& m, const fs::path& out_dir,
                                const gst::cancel_token& cancel,
                                const gst::progress_fn& progress) {
  merge_inputs in;
  opened_file video;  // open while the merge reads it
  if (m.has_video()) {
    auto opened = m.video.front().open();
    if (!opened)
      return opened.err();
    video = std::move(*opened);
    in.video = video.path();
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
    return error{merged.err().code, name_opened_files(merged.err().message)};
  json out = {{"file", final_path.string()},
              {"durationMs", merged->duration_ms},
              {"videoRemuxed", merged->video_remuxed},
              {"videoCodec", merged->video_codec},
              {"hasAudio", m.has_audio()},
              {"hasVideo", m.has_video()}};
  return out.dump();
}

// Makes the playable MP4 small: re-encoded without repeated frames, then
// swapped in only if it is fit to play and smaller. Never fails because
// the result is not better: the playable file stays and the result says why.
result<std::string> compress_stage(const fs::path& out_dir, const media_options& options,
                                   const gst::cancel_token& cancel, const gst::progress_fn& progress) {
  auto target = out_dir / "session.mp4";
  std::error_code ec;
  json out = {{"file", target.string()}, {"replaced", false}};
  if (!fs::exists(target, ec)) {
    out["file"] = (out_dir / "session.m4a").string();
    out["reason"] = "no video: the audio is already compact";
    return out.dump();
  }
  auto before = probe_media(target);
  if (!before)
    return before.err();
  auto bytes_before = std::int64_t(fs::file_size(target, ec));
  compress_options co;
  co.encoder = options.encoder;
  if (!parse(options.quality, co.preset))
    return error{errc::bad_input, "media.quality \"" + options.quality + "\" is not low, medium or high"};
  auto started = std::chrono::steady_clock::now();
  auto run = [&](const std::string& encoder) {
    co.encoder = encoder;
    bool encoder_failed = false;
    auto r = write_atomically(target, [&](const fs::path& partial) -> result<compress_stats> {
      // A file that will not be smaller is stopped early: it would be
      // thrown away, and while it grows the session takes the originals,
      // the playable file and this one on disk (docs/storage.md).
      gst::cancel_token stop;
      std::int64_t projected = 0;
      double at = 0;
      auto watch = [&](double fraction) {
        if (cancel.is_cancelled())
          stop.cancel();
        // The encoded data sits in the muxer's faststart file until the end.
        std::error_code size_ec;
        auto written = std::int64_t(fs::file_size(partial.string() + ".faststart", size_ec));
        if (!size_ec && fraction >= 0.15 && double(written) / fraction > 1.1 * double(bytes_before)) {
          projected = std::int64_t(double(written) / fraction);
          at = fraction;
          stop.cancel();
        }
        if (progress)
          progress(fraction);
      };
      auto stats = compress_video(target, partial, co, stop, watch, &encoder_failed);
      if (!stats && projected > 0 && !cancel.is_cancelled())
        return error{errc::media, "not smaller (stopped at " + std::to_string(int(at * 100)) + "%: on course for " +
                                      std::to_string(projected) + " bytes, the playable file has " +
                                      std::to_string(bytes_before) + ")"};
      if (!stats)
        return stats.err();
      // Fit to replace the playable file? Otherwise nothing is committed.
      if (stats->bytes_out >= bytes_before)
        return error{errc::media, "not smaller (" + std::to_string(stats->bytes_out) + " bytes, the playable file has " +
                                          std::to_string(bytes_before) + ")"};
      if (auto bad = check_playable(partial, before->duration_ms, cancel))
        return error{bad->code == errc::cancelled ? errc::cancelled : errc::media, "not fit to play: " + bad->message};
      return stats;
    });
    return std::make_pair(std::move(r), encoder_failed);
  };
  auto [done, encoder_failed] = run(options.encoder);
  std::string used = options.encoder;
  if (!done && encoder_failed && !cancel.is_cancelled()) {
    // The chosen encoder broke mid-stream (a GPU reset, a driver bug): one
    // more try with the next software encoder before the stage fails.
    auto next = fallback_encoder(options.encoder_ranking.empty() ? default_encoder_ranking() : options.encoder_ranking,
                                 options.encoder);
    if (!next.empty()) {
      spdlog::warn("compress: {} failed ({}); retrying with {}", options.encoder, done.err().message, next);
      out["encoderFailed"] = options.encoder + ": " + done.err().message;
      std::tie(done, encoder_failed) = run(next);
      used = next;
    }
  }
  out["encoder"] = used;
  out["preset"] = options.quality;
  out["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out["bytesBefore"] = bytes_before;
  if (!done) {
    if (cancel.is_cancelled())
      return error{errc::cancelled, "cancelled"};
    auto& e = done.err();
    // "Not smaller" and "not fit to play" keep the playable file: the stage
    // succeeds and says why; an encoder or decoder failure is a failure.
    if (e.message.rfind("not smaller", 0) == 0 || e.message.rfind("not fit to play", 0) == 0) {
      out["reason"] = e.message;
      spdlog::info("compress: kept the playable file: {}", e.message);
      return out.dump();
    }
    return e;
  }
  out["replaced"] = true;
  out["bytesAfter"] = done->bytes_out;
  out["ratio"] = double(done->bytes_out) / double(std::max<std::int64_t>(1, bytes_before));
  out["framesIn"] = done->frames_in;
  out["framesOut"] = done->frames_out;
  out["durationMs"] = before->duration_ms;
  return out.dump();
}

}  // namespace

fs::path output_dir(const fs::path& session_dir, const media_options& options) {
  return session_dir / options.output_dir;
}

namespace {
result<std::string> run_stage(const std::string& stage, const fs::path& session_dir, const media_options& options,
                              const gst::cancel_token& cancel, const gst::progress_fn& progress);
}

result<std::string> run_media_stage(const std::string& stage, const fs::path& session_dir,
                                    const media_options& options,
                                    const gst::cancel_token& cancel,
                                    const gst::progress_fn& progress) {
  auto out = run_stage(stage, session_dir, options, cancel, progress);
  if (!out)
    return error{out.err().code, disk_full_message(out.err().message, session_dir / options.output_dir)};
  return out;
}

namespace {
result<std::string> run_stage(const std::string& stage, const fs::path& session_dir, const media_options& options,
                              const gst::cancel_token& cancel, const gst::progress_fn& progress) {
  // Retention runs from its journal: after its first step session.json
  // already points at the output.
  if (stage == stage_trash_originals || stage == stage_delete_originals)
    return retire_originals(stage, session_dir, retention_context{options.output_dir, options.seal_key, options.job_id},
                            cancel, progress);
  // Each stage reads the manifest itself: a stage may run on another node
  // that only shares the session folder.
  manifest_options mo;
  mo.missing_audio_as_silence = options.undecodable_as_silence;
  mo.max_session_ms = options.max_session_ms;
  mo.max_entries = options.max_session_files;
  auto m = load_manifest(session_dir, mo);
  if (!m)
    return m.err();
  auto out_dir = m->folder->output_dir(options.output_dir);
  if (!out_dir)
    return out_dir.err();
  if (stage == stage_repair) {
    repair_options ro;
    ro.reference = options.repair_reference;
    ro.seal_key = options.seal_key;
    return repair_stage(*m, *out_dir, ro, cancel, progress);
  }
  apply_repairs(*m, *out_dir, options.seal_key);  // the repaired copies stand in for damaged originals
  if (stage == stage_timeline)
    return timeline_stage(*m, *out_dir, options, cancel, progress);
  if (stage == stage_merge)
    return merge_stage(*m, *out_dir, cancel, progress);
  if (stage == stage_compress)
    return compress_stage(*out_dir, options, cancel, progress);
  return error{errc::internal, "unknown media stage \"" + stage + "\""};
}

}  // namespace

}  // namespace postroll
