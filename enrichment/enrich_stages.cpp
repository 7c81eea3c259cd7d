#include "enrichment/enrich_stages.hpp"
#include "pipelines/repair.hpp"

#include <malloc.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <iterator>

#include <spdlog/spdlog.h>

#include "session/cache_key.hpp"
#include "pipelines/audio_samples.hpp"
#include "pipelines/audio_timeline.hpp"
#include "pipelines/media_probe.hpp"
#include "session/output_file.hpp"
#include "pipelines/storyboard.hpp"
#include "session/manifest.hpp"
#include "session/seal.hpp"
#include "enrichment/screen_vocabulary.hpp"
#include "enrichment/chapters_cache.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace postroll {

namespace {

// Bumped when a stage's output changes for the same inputs: old cached
// results are then redone.
constexpr const char* stage_version = "3";

// The file each built-in stage writes.
std::string file_of(const std::string& stage) {
  if (stage == stage_audio_review)
    return "transcript.json";
  if (stage == stage_chapters)
    return "chapters.json";
  if (stage == stage_summary)
    return "summary.json";
  if (stage == stage_canvas)
    return "canvas.json";
  return stage.substr(stage.find('.') + 1) + ".json";
}

json read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in)
    return nullptr;
  auto v = json::parse(std::string(std::istreambuf_iterator<char>(in), {}), nullptr, false);
  return v.is_discarded() ? json(nullptr) : v;
}

// What the job record keeps of a stage's result: small facts, not the
// whole transcript (the record is rewritten on every state change).
json compact(const std::string& stage, const json& full, const fs::path& file) {
  json c = {{"file", file.string()}};
  for (const char* key : {"skipped", "reason", "engine", "wordCount", "speechMs", "durationMs", "count", "source",
                          "tiles", "image", "fallbackReason", "asrSpeed", "asrThreads", "screenVocabulary", "piecesReused"})
    if (full.contains(key))
      c[key] = full[key];
  if (stage == stage_summary)
    c["text"] = full.value("text", "");
  if ((stage == stage_chapters || stage == stage_summary) && full.contains("chapters")) {
    json titles = json::array();
    for (const auto& ch : full["chapters"])
      titles.push_back({{"startMs", ch.value("startMs", 0)}, {"title", ch.value("title", "")}});
    c["chapters"] = titles;
  }
  return c;
}

struct stage_context {
  const std::string& stage;
  const manifest& m;
  const fs::path& out_dir;   // <session>/postroll
  const fs::path& dir;       // .../enrichment
  const enrich_options& o;
  const cancel_token& cancel;
  const progress_fn& progress;

  fs::path playable() const {
    return out_dir / (m.has_video() ? "session.mp4" : "session.m4a");
  }
  fs::path timeline_audio() const { return out_dir / "timeline.aac"; }
};

result<std::int64_t> duration_of(const fs::path& file) {
  auto info = probe_media(file);
  if (!info)
    return info.err();
  return info->duration_ms;
}

json skipped(const std::string& reason) { return {{"skipped", true}, {"reason", reason}}; }

// -- the stages: each returns the full JSON it writes ---------------------

result<json> audio_review(const stage_context& c) {
  if (!c.m.has_audio())
    return skipped("the session has no audio");
  auto duration = duration_of(c.timeline_audio());
  if (!duration)
    return duration.err();
  // 0 is "not known" too (an ADTS stream's length is estimated): the
  // segments are read then, and say how long they are.
  if (*duration > 0 && *duration < c.o.audio.min_audio_ms)
    return skipped("only " + std::to_string(*duration / 1000.0).substr(0, 4) + " s of audio (needs " +
                   std::to_string(c.o.audio.min_audio_ms / 1000) + " s)");
  // The recorder's segments, decoded and placed as the timeline places
  // them, not the AAC made from them: its 32 kb/s at 16 kHz cost the
  // recogniser 8% of the words (docs/enrichment.md).
  auto segments = timeline_segments_of(c.m);
  if (segments.empty())
    return review_audio(c.timeline_audio(), *duration, c.o.audio, c.cancel, c.progress);
  timeline_options to;
  to.rate = analysis_rate;
  to.channels = 1;
  to.undecodable_as_silence = c.o.missing_audio_as_silence;
  to.max_duration_ms = c.o.max_session_ms;
  auto source = [&](const timeline_chunk_fn& on_chunk) -> maybe_error {
    auto r = read_audio_timeline(segments, to, c.cancel, {}, on_chunk);
    if (!r)
      return r.err();
    return std::nullopt;
  };
  auto options = c.o.audio;
  // Pieces a live job recognised while the recording was made (or an
  // earlier attempt did) are taken as they are.
  auto pieces = c.m.folder->output_dir((fs::path{c.o.output_dir} / "enrichment" / "pieces").string());
  std::optional<piece_cache> cache;
  if (pieces) {
    cache.emplace(*pieces, c.o.seal_key, options.asr);
    options.cache = &*cache;
  }
  auto vocabulary = screen_vocabulary::of_chapters(read_json(c.dir / file_of(stage_chapters)), c.o.screen_vocabulary);
  if (vocabulary)
    options.bias_for = *vocabulary;
  auto out = review_audio(source, *duration, options, c.cancel, c.progress);
  if (out)
    (*out)["screenVocabulary"] = vocabulary ? json(vocabulary->size()) : json(0);
  return out;
}

// The files a result points to (its image, its chapters' thumbnails) are
// there: plain names inside `dir`, regular files, not symlinks; a
// thumbnail is null or under thumbs/.
bool pointed_files_present(const json& result, const fs::path& dir) {
  auto present = [&](const json& v) {
    if (!v.is_string())
      return true;
    auto rel = v.get<std::string>();
    std::error_code ec;
    return !rel.empty() && rel.front() != '/' && rel.find("..") == std::string::npos &&
           fs::is_regular_file(fs::symlink_status(dir / rel, ec));
  };
  if (result.contains("image") && !present(result["image"]))
    return false;
  for (const auto& ch : result.value("chapters", json::array())) {
    if (!ch.is_object())
      return false;
    if (!ch.contains("thumbnail") || ch["thumbnail"].is_null())
      continue;
    const auto& t = ch["thumbnail"];
    if (!t.is_string() || t.get<std::string>().rfind("thumbs/", 0) != 0 || !present(t))
      return false;
  }
  return true;
}

result<json> chapters(const stage_context& c) {
  auto thumbs = c.dir / "thumbs";
  // Pictures read before (a live job's screenshots as they arrived, an
  // earlier attempt) are not read again.
  auto o = c.o.chapters;
  std::optional<screen_text_cache> cache;
  if (auto dir = c.m.folder->output_dir((fs::path{c.o.output_dir} / ocr_cache_dir).string())) {
    cache.emplace(*dir, c.o.seal_key, o.ocr_language);
    o.ocr_cache = &*cache;
  }
  if (c.m.has_video()) {
    auto duration = duration_of(c.playable());
    if (!duration)
      return duration.err();
    if (c.m.video.size() > 1) {
      // Several files: the playable file has them on one timeline.
      auto out = video_chapters(frame_source{c.playable()}, *duration, thumbs, o, c.cancel, c.progress);
      if (out && cache)
        (*out)["picturesReused"] = cache->hits();
      return out;
    }
    // One file: its own frames, as a live job reads them while it grows
    // (the playable file may be an encode of it).
    const auto& v = c.m.video.front();
    auto file = v.open();
    if (!file)
      return file.err();
    auto key = video_chapters_key(v, file->path(), o);
    // A live job still reading the end of the video leaves its chapters in
    // a moment; reading the video again would take longer.
    chapters_in_progress::wait_for(c.m.dir, std::chrono::minutes(2));
    if (auto found = find_chapters(c.dir, key, c.o.seal_key); found && pointed_files_present(*found, c.dir)) {
      auto out = *found;
      auto& list = out["chapters"];
      if (!list.empty()) {
        // The live reader did not know how long the playable file is.
        auto& last = list.back();
        last["endMs"] = std::max(*duration, last.value("startMs", std::int64_t{0}));
      }
      out["source"] = "video";
      out["chaptersReused"] = true;
      return out;
    }
    auto out = video_chapters(frame_source{file->path(), v.resolved.string(), v.offset_ms}, *duration, thumbs, o,
                              c.cancel, c.progress);
    if (out && cache)
      (*out)["picturesReused"] = cache->hits();
    return out;
  }
  if (!c.m.screenshots.empty()) {
    std::vector<timed_picture> shots;
    std::vector<opened_file> open;  // read through the session folder's descriptor
    for (const auto& s : c.m.screenshots) {
      auto f = s.open();
      if (!f)
        return f.err();
      shots.push_back({f->path(), s.offset_ms});
      open.push_back(std::move(*f));
    }
    std::stable_sort(shots.begin(), shots.end(), [](const auto& a, const auto& b) { return a.offset_ms < b.offset_ms; });
    std::int64_t duration = 0;
    if (auto d = duration_of(c.playable()))
      duration = *d;
    auto out = screenshot_chapters(shots, duration, thumbs, o, c.cancel, c.progress);
    if (!out)
      return error{out.err().code, name_opened_files(out.err().message)};
    if (cache)
      (*out)["picturesReused"] = cache->hits();
    return json::parse(name_opened_files(out->dump()));
  }
  return skipped("the session has no video and no screenshots");
}

summary_inputs summary_material(const stage_context& c) {
  summary_inputs in;
  in.transcript = read_json(c.dir / file_of(stage_audio_review));
  in.chapters = read_json(c.dir / file_of(stage_chapters));
  in.session_name = c.m.name;
  if (auto d = duration_of(c.playable()))
    in.duration_ms = *d;
  return in;
}

result<json> summary(const stage_context& c) {
  auto in = summary_material(c);
  return summarize(in, c.o.summary, c.cancel);
}

result<json> canvas(const stage_context& c) {
  auto sum = read_json(c.dir / file_of(stage_summary));
  if (!sum.is_object())
    return error{errc::io, (c.dir / file_of(stage_summary)).string() + ": missing or unreadable (enrich.summary must run first)"};
  auto all = sum.value("chapters", json::array());
  // Too many chapters for one picture: evenly spread ones get a tile.
  std::vector<std::size_t> shown;
  auto n = all.size(), max = std::max<std::size_t>(1, c.o.canvas_max_tiles);
  for (std::size_t i = 0; i < std::min(n, max); ++i)
    shown.push_back(n <= max ? i : i * n / max);
  std::vector<storyboard_tile> tiles;
  json tiles_json = json::array();
  for (auto i : shown) {
    const auto& ch = all[i];
    storyboard_tile t;
    if (ch.contains("thumbnail") && ch["thumbnail"].is_string())
      t.picture = c.dir / ch["thumbnail"].get<std::string>();
    t.caption = clock_text(ch.value("startMs", std::int64_t{0})) + "  " + ch.value("title", "");
    tiles.push_back(t);
    tiles_json.push_back({{"chapter", ch.value("index", 0)}, {"caption", t.caption}});
  }
  auto image = c.dir / ("canvas." + c.o.canvas_format);
  json key_moments = json::array();
  for (const auto& ch : all)
    key_moments.push_back({{"timeMs", ch.value("startMs", 0)}, {"kind", "chapter"}, {"label", ch.value("title", "")}});
  for (const auto& k : sum.value("keyMoments", json::array()))
    key_moments.push_back(k);
  std::stable_sort(key_moments.begin(), key_moments.end(),
                   [](const json& a, const json& b) { return a.value("timeMs", 0) < b.value("timeMs", 0); });
  auto layout = layout_for(std::max<std::size_t>(1, tiles.size()));
  auto [w, h] = storyboard_size(layout, tiles.size());
  if (!tiles.empty()) {
    auto heading = (c.m.name.empty() ? c.m.id : c.m.name) + "  ·  " + clock_text(sum.value("durationMs", 0)) + "  ·  " +
                   std::to_string(all.size()) + (all.size() == 1 ? " chapter" : " chapters");
    if (auto err = write_storyboard(tiles, heading, layout, image))
      return *err;
  }
  return json{{"session", {{"id", c.m.id}, {"name", c.m.name}}},
              {"durationMs", sum.value("durationMs", 0)},
              {"summary", sum.value("text", "")},
              {"chapters", all},
              {"keyMoments", key_moments},
              {"image", tiles.empty() ? json(nullptr) : json(image.filename().string())},
              {"tiles", tiles.size()},
              {"grid", {{"columns", layout.columns}, {"tileWidth", layout.tile_width}, {"tileHeight", layout.tile_height},
                        {"width", w}, {"height", h}}}};
}

// The request an external enricher reads on stdin (docs/enrichment.md).
json external_request(const stage_context& c) {
  json video = json::array(), audio = json::array(), shots = json::array();
  for (const auto& v : c.m.video)
    video.push_back({{"path", v.resolved.string()}, {"offsetMs", v.offset_ms}});
  for (const auto& a : c.m.audio)
    audio.push_back({{"path", a.resolved.string()}, {"offsetMs", a.offset_ms}});
  for (const auto& s : c.m.screenshots)
    shots.push_back({{"path", s.resolved.string()}, {"offsetMs", s.offset_ms}});
  // The results it builds on: exactly those of the stages it runs after
  // (a stage running in parallel may or may not have written its file yet,
  // and the request is part of the cache key).
  std::vector<std::string> after;
  if (c.stage == stage_summary)
    after = {stage_audio_review, stage_chapters};
  else if (c.stage == stage_canvas)
    after = {stage_audio_review, stage_chapters, stage_summary};
  else if (auto cmd = c.o.commands.find(c.stage); cmd != c.o.commands.end() && !is_builtin_enrich_stage(c.stage))
    after = cmd->second.inputs;
  json inputs = json::object();
  for (const auto& s : after)
    if (auto v = read_json(c.dir / file_of(s)); v.is_object())
      inputs[s] = v;
  std::error_code ec;
  return json{{"schema", 1},
              {"stage", c.stage},
              {"replaces", is_builtin_enrich_stage(c.stage) ? json(c.stage) : json(nullptr)},
              {"session", {{"id", c.m.id}, {"name", c.m.name}, {"dir", c.m.dir.string()}, {"startedAt", c.m.started_at}}},
              {"media",
               {{"playable", fs::exists(c.playable(), ec) ? json(c.playable().string()) : json(nullptr)},
                {"timelineAudio", fs::exists(c.timeline_audio(), ec) ? json(c.timeline_audio().string()) : json(nullptr)},
                {"video", video},
                {"audio", audio},
                {"screenshots", shots}}},
              {"outputDir", c.dir.string()},
              {"inputs", inputs}};
}

std::string unsealed_key_for(const stage_context& c, const json* request);

// A file by identity as the manifest's open saw it (path, size, time).
void add_identity(cache_key& k, const media_ref& r) {
  k.add(r.open_rel.empty() ? r.path : r.open_rel)
    .add(std::to_string(r.bytes) + "|" + std::to_string(r.mtime_ns) + "|" + std::to_string(r.offset_ms));
}

// Everything a stage's result depends on, sealed with the session's key: a
// result file someone else wrote cannot carry a key that matches.
std::string key_for(const stage_context& c, const json* request) {
  return keyed_hash(c.o.seal_key, unsealed_key_for(c, request));
}

std::string unsealed_key_for(const stage_context& c, const json* request) {
  cache_key k;
  k.add(c.stage).add(stage_version);
  auto cmd = c.o.commands.find(c.stage);
  if (cmd != c.o.commands.end()) {
    for (const auto& a : cmd->second.argv)
      k.add(a);
    k.add(request ? request->dump() : "");
    return k.hex();
  }
  const auto& o = c.o;
  if (c.stage == stage_audio_review) {
    k.add(std::to_string(o.audio.min_audio_ms)).add(o.audio.asr.model_dir).add(o.audio.asr.speed);
    for (const auto& a : c.m.audio)
      add_identity(k, a);
    // The screen's words bias what is heard.
    k.add(std::to_string(o.screen_vocabulary));
    if (o.screen_vocabulary > 0)
      k.add_file_content(c.dir / file_of(stage_chapters));
  } else if (c.stage == stage_chapters) {
    k.add(chapter_options_key(o.chapters));
    for (const auto& v : c.m.video)
      add_identity(k, v);
    for (const auto& s : c.m.screenshots)
      add_identity(k, s);
  } else if (c.stage == stage_summary) {
    k.add(std::to_string(o.summary.sentences) + "|" + o.summary.chat_url + "|" + o.summary.chat_model + "|" + c.m.name);
    k.add_file_content(c.dir / file_of(stage_audio_review)).add_file_content(c.dir / file_of(stage_chapters));
  } else if (c.stage == stage_canvas) {
    k.add(std::to_string(o.canvas_max_tiles) + "|" + o.canvas_format + "|" + c.m.name);
    k.add_file_content(c.dir / file_of(stage_summary));
  }
  return k.hex();
}

// A cached result is usable when its key matches and what it points to exists.
bool cached_result_usable(const json& old, const std::string& key, const stage_context& c) {
  if (!old.is_object() || old.value("cacheKey", "") != key || key.empty())
    return false;
  return pointed_files_present(old, c.dir);
}

}  // namespace

bool is_builtin_enrich_stage(const std::string& s) {
  return s == stage_audio_review || s == stage_chapters || s == stage_summary || s == stage_canvas;
}

fs::path enrichment_dir(const fs::path& session_dir, const enrich_options& o) {
  return session_dir / o.output_dir / "enrichment";
}

namespace {
result<std::string> run_stage(const std::string& stage, const fs::path& session_dir, const enrich_options& options,
                              const cancel_token& cancel, const progress_fn& progress);
}

result<std::string> run_enrich_stage(const std::string& stage, const fs::path& session_dir,
                                     const enrich_options& options, const cancel_token& cancel,
                                     const progress_fn& progress) {
  auto r = naming_full_disk(run_stage(stage, session_dir, options, cancel, progress), session_dir / options.output_dir);
  // What a stage freed goes back to the system: its threads (OCR engines,
  // decoders) allocate in arenas of their own, which glibc keeps mapped
  // and the next stage's threads do not reuse. (The 30-minute job peaked
  // at 745 MB with the transcript alone at 410 MB.)
  malloc_trim(0);
  return r;
}

namespace {
result<std::string> run_stage(const std::string& stage, const fs::path& session_dir, const enrich_options& options,
                              const cancel_token& cancel, const progress_fn& progress) {
  // Each stage reads the manifest itself: it may run on another node that
  // only shares the session folder.
  auto m = load_manifest(session_dir, manifest_options{options.missing_audio_as_silence, options.max_session_ms,
                                                       options.max_session_files, {}});
  if (!m)
    return m.err();
  auto made = m->folder->output_dir((fs::path{options.output_dir} / "enrichment").string());
  if (!made)
    return made.err();
  auto out_dir = m->dir / options.output_dir;
  apply_repairs(*m, out_dir, options.seal_key);  // screenshots-only chapters read the video: the repaired one
  auto dir = *made;
  if (auto thumbs = m->folder->output_dir((fs::path{options.output_dir} / "enrichment" / "thumbs").string()); !thumbs)
    return thumbs.err();
  stage_context c{stage, *m, out_dir, dir, options, cancel, progress};
  auto file = dir / file_of(stage);
  auto cmd = options.commands.find(stage);
  json request;
  if (cmd != options.commands.end())
    request = external_request(c);
  auto key = key_for(c, cmd != options.commands.end() ? &request : nullptr);
  auto old = read_json(file);
  if (cached_result_usable(old, key, c)) {
    spdlog::info("enrich: {} of {} is cached ({})", stage, m->id, key);
    auto r = compact(stage, old, file);
    r["cached"] = true;
    return r.dump();
  }
  result<json> full = error{errc::internal, "unknown enrichment stage \"" + stage + "\""};
  if (cmd != options.commands.end())
    full = run_external(stage, cmd->second, request, cancel, progress);
  else if (stage == stage_audio_review)
    full = audio_review(c);
  else if (stage == stage_chapters)
    full = chapters(c);
  else if (stage == stage_summary)
    full = summary(c);
  else if (stage == stage_canvas)
    full = canvas(c);
  if (!full)
    return full.err();
  if (cancel.is_cancelled())
    return error{errc::cancelled, "cancelled"};
  // A summary that fell back from its chat endpoint is not cached: the
  // next run tries the endpoint again.
  (*full)["cacheKey"] = full->contains("fallbackReason") ? "" : key;
  if (auto err = write_file_atomically(file, full->dump(2)))
    return *err;
  if (progress)
    progress(1.0);
  auto r = compact(stage, *full, file);
  r["cached"] = false;
  return r.dump();
}

}  // namespace

}  // namespace postroll
