#include "pipelines/stages.hpp"
#include "pipelines/repair.hpp"
#include "session/retention.hpp"

#include <chrono>
#include <tuple>

#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include "pipelines/audio_timeline.hpp"
#include "pipelines/compress.hpp"
#include "pipelines/encoder_choice.hpp"
#include "pipelines/media_probe.hpp"
#include "pipelines/merge.hpp"
#include "pipelines/mp4_tags.hpp"
#include "session/output_file.hpp"
#include "pipelines/stream_span.hpp"
#include "session/manifest.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace postroll {

namespace {

constexpr const char* timeline_file = "timeline.aac";  // ADTS

// Where the session's video ends: the latest end of its files on the
// timeline (a browser's WebM states no duration: measured).
result<std::int64_t> video_end_ms(const manifest& m) {
  std::int64_t end = 0;
  for (const auto& v : m.video) {
    auto e = with_file(v, [](const std::string& path) -> result<std::int64_t> {
      auto info = probe_media(path);
      if (!info)
        return info.err();
      return presented_end_ms(path, info->container, info->duration_ms);
    });
    if (!e)
      return e.err();
    end = std::max(end, v.offset_ms + *e);
  }
  return end;
}

result<std::string> timeline_stage(const manifest& m, const fs::path& out_dir,
                                   const media_options& options,
                                   const cancel_token& cancel,
                                   const progress_fn& progress) {
  timeline_options topt;
  topt.undecodable_as_silence = options.undecodable_as_silence;
  topt.decode_threads = options.decode_threads;
  topt.max_duration_ms = options.max_session_ms;
  topt.rate = options.audio_rate;
  if (m.has_video()) {
    // Audio lasts at least as long as the video: players then show the whole
    // recording with silence, never a shorter file.
    auto end = video_end_ms(m);
    if (!end)
      return end.err();
    topt.min_duration_ms = *end;
    if (topt.min_duration_ms > options.max_session_ms)
      return error{errc::bad_input, m.video.back().resolved.string() +
                                      ": ends beyond the longest session postroll takes (media.max_session_hours)"};
  }
  std::vector<std::string> skipped;
  auto segments = timeline_segments_of(m, &skipped);
  if (segments.empty())
    return error{errc::bad_input, m.audio.front().resolved.string() + ": no audio segment has any audio in it"};
  // Pieces a live job's follower encoded while the recording was made (or
  // an earlier attempt did) are joined as they are.
  std::optional<aac_piece_store> pieces;
  auto pieces_dir = m.folder->output_dir((fs::path{options.output_dir} / audio_pieces_dir).string());
  if (pieces_dir) {
    pieces.emplace(*pieces_dir, options.seal_key);
    topt.pieces = &*pieces;
  }
  auto final_path = out_dir / timeline_file;
  auto built = write_atomically(final_path, [&](const fs::path& partial) {
    return build_audio_timeline(segments, partial, topt, cancel, progress);
  });
  if (!built)
    return built.err();
  if (pieces_dir) {
    // timeline.aac holds them all now.
    std::error_code ec;
    fs::remove_all(*pieces_dir, ec);
  }
  json out = {{"file", final_path.string()},
              {"rate", built->rate},
              {"channels", built->channels},
              {"bitrate", built->bitrate},
              {"durationMs", built->duration_ms},
              {"primingSamplesCompensated", built->priming_compensated},
              {"pieces", built->pieces},
              {"piecesReused", built->pieces_reused},
              {"segments", segments.size()},
              {"warnings", built->warnings}};
  for (const auto& w : skipped)
    out["warnings"].push_back(w);
  return out.dump();
}

// How an encode is done (merge of what cannot be remuxed, compress): the
// encoder chosen at start-up at the configured preset.
video_write_options encode_options(const media_options& options) {
  video_write_options o;
  o.encoder = options.encoder;
  parse(options.quality, o.preset);
  o.gaps = options.video_gaps == "black" ? gap_fill::black : gap_fill::hold;
  return o;
}

result<std::string> merge_stage(const manifest& m, const fs::path& out_dir, const media_options& options,
                                const cancel_token& cancel, const progress_fn& progress) {
  merge_inputs in;
  in.encode = encode_options(options);
  in.force_encode = options.playable == "compressed";
  in.max_width = options.max_video_width;
  in.max_height = options.max_video_height;
  std::vector<opened_file> open;  // open while the merge reads them
  for (const auto& v : m.video) {
    auto opened = v.open();
    if (!opened)
      return opened.err();
    in.videos.push_back({opened->path(), v.resolved, v.offset_ms, {}, {}});
    open.push_back(std::move(*opened));
  }
  if (m.has_audio()) {
    in.audio = out_dir / timeline_file;
    std::error_code ec;
    if (!fs::exists(*in.audio, ec))
      return error{errc::io, in.audio->string() + ": audio timeline missing (media.timeline must run first)"};
  }
  auto final_path = out_dir / (m.has_video() ? "session.mp4" : "session.m4a");
  auto run = [&] {
    return write_atomically(final_path, [&](const fs::path& partial) { return merge_media(in, partial, cancel, progress); });
  };
  auto merged = run();
  if (!merged && merged.err().message.rfind("encoder ", 0) == 0 && !cancel.is_cancelled()) {
    // The chosen encoder broke (a GPU reset, a driver bug): the next
    // software one of the ranking, once.
    auto next = fallback_encoder(options.encoder_ranking.empty() ? default_encoder_ranking() : options.encoder_ranking,
                                 options.encoder);
    if (!next.empty()) {
      spdlog::warn("merge: {} failed ({}); encoding with {}", options.encoder, merged.err().message, next);
      in.encode.encoder = next;
      merged = run();
    }
  }
  if (!merged)
    return error{merged.err().code, name_opened_files(merged.err().message)};
  json out = {{"file", final_path.string()},
              {"durationMs", merged->duration_ms},
              {"videoRemuxed", merged->video_remuxed},
              {"videoCodec", merged->video_codec},
              {"videos", merged->videos},
              {"hasAudio", m.has_audio()},
              {"hasVideo", m.has_video()}};
  if (m.has_video()) {
    out["width"] = merged->width;
    out["height"] = merged->height;
    out["videoFirstMs"] = merged->video_first_ms;
    out["videoEndMs"] = merged->video_end_ms;
  }
  if (!merged->video_remuxed && m.has_video()) {
    out["encodeReason"] = name_opened_files(merged->encode_reason);
    out["encoder"] = in.encode.encoder;
    out["preset"] = options.quality;
  }
  return out.dump();
}

// Makes the playable MP4 small: re-encoded without repeated frames, then
// swapped in only if it is fit to play and smaller. An optimisation, never
// a failure: whatever goes wrong leaves the playable file, and the result
// says why ("replaced": false, "skipped": true, "reason").
result<std::string> compress_stage(const fs::path& out_dir, const media_options& options,
                                   const cancel_token& cancel, const progress_fn& progress) {
  auto target = out_dir / "session.mp4";
  std::error_code ec;
  json out = {{"file", target.string()}, {"replaced", false}};
  auto skip = [&](const std::string& reason) {
    out["skipped"] = true;
    out["reason"] = reason;
    spdlog::info("compress: kept the playable file: {}", reason);
    return out.dump();
  };
  if (!fs::exists(target, ec)) {
    out["file"] = (out_dir / "session.m4a").string();
    out["reason"] = "no video: the audio is already compact";
    return out.dump();
  }
  // An attempt killed with the node left its partial file: gone first,
  // whatever this attempt then does.
  discard_all_partials(target);
  auto before = playable_facts_of(target);
  if (!before)
    return skip("the playable file cannot be measured: " + before.err().message);
  compress_options co;
  co.encoder = options.encoder;
  if (!parse(options.quality, co.preset))
    return error{errc::bad_input, "media.quality \"" + options.quality + "\" is not low, medium or high"};
  if (mp4_encoder_tag(target) == preset_tag(co.encoder, co.preset)) {
    // The merge already encoded it with this encoder and preset (a source
    // that could not be remuxed): another pass would only lose quality.
    out["compressedByMerge"] = true;
    out["reason"] = "the merge encoded the video with " + co.encoder + " at the " + options.quality + " preset";
    return out.dump();
  }
  if (options.encoder.empty())
    return skip("no usable H.264 encoder on this node (media.encoders)");
  co.max_width = options.max_video_width;
  co.max_height = options.max_video_height;
  if (fs::exists(out_dir / timeline_file, ec))
    co.audio_adts = out_dir / timeline_file;
  auto bytes_before = std::int64_t(fs::file_size(target, ec));
  auto started = std::chrono::steady_clock::now();
  auto run = [&](const std::string& encoder) {
    co.encoder = encoder;
    bool encoder_failed = false;
    auto r = write_atomically(target, [&](const fs::path& partial) -> result<compress_stats> {
      // A file that will not be smaller is stopped early: it would be
      // thrown away, and while it grows the session takes the originals,
      // the playable file and this one on disk (docs/storage.md).
      cancel_token stop;
      std::int64_t projected = 0;
      double at = 0;
      auto watch = [&](double fraction) {
        // Progress first: a cancel the listener sent on hearing it stops
        // this very tick.
        if (progress)
          progress(fraction);
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
      if (auto bad = check_playable(partial, *before, cancel))
        return error{bad->code == errc::cancelled ? errc::cancelled : errc::media, "not fit to play: " + bad->message};
      return stats;
    });
    return std::make_pair(std::move(r), encoder_failed);
  };
  auto [done, encoder_failed] = run(options.encoder);
  std::string used = options.encoder;
  if (!done && encoder_failed && !cancel.is_cancelled()) {
    // The chosen encoder broke mid-stream (a GPU reset, a driver bug): one
    // more try with the next software encoder before giving up.
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
    return skip(done.err().message);
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
                              const cancel_token& cancel, const progress_fn& progress);
}

result<std::string> run_media_stage(const std::string& stage, const fs::path& session_dir,
                                    const media_options& options,
                                    const cancel_token& cancel,
                                    const progress_fn& progress) {
  return naming_full_disk(run_stage(stage, session_dir, options, cancel, progress), session_dir / options.output_dir);
}

namespace {
result<std::string> run_stage(const std::string& stage, const fs::path& session_dir, const media_options& options,
                              const cancel_token& cancel, const progress_fn& progress) {
  // Retention runs from its journal: after its first step session.json
  // already points at the output.
  if (stage == stage_trash_originals || stage == stage_delete_originals) {
    retention_context rc{options.output_dir, options.seal_key, options.job_id, {}};
    rc.check_output = [](const fs::path& output, bool needs_video, bool needs_audio) -> maybe_error {
      auto info = probe_media(output);
      if (!info)
        return info.err();
      if (info->duration_ms <= 0 || (needs_video && !info->has_video) || (needs_audio && !info->has_audio))
        return error{errc::media, "missing a stream or empty"};
      return std::nullopt;
    };
    return retire_originals(stage, session_dir, rc, cancel, progress);
  }
  // Each stage reads the manifest itself: a stage may run on another node
  // that only shares the session folder.
  auto m = load_manifest(session_dir, manifest_options{options.undecodable_as_silence, options.max_session_ms,
                                                       options.max_session_files, {}});
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
    return merge_stage(*m, *out_dir, options, cancel, progress);
  if (stage == stage_compress)
    return compress_stage(*out_dir, options, cancel, progress);
  return error{errc::internal, "unknown media stage \"" + stage + "\""};
}

}  // namespace

}  // namespace postroll
